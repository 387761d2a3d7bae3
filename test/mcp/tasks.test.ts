/**
 * Tasks (the io.modelcontextprotocol/tasks extension) with the real v2 client pinned to 2026-07-28
 * and declaring the extension, over HTTP: a call still running after http.pollAfterMs answers with
 * a task that tasks/get follows to its result; tasks/cancel aborts the upstream request; a write
 * parks as an input_required task and runs only once tasks/update confirms it, once; another
 * token's requests, unknown ids, replays and clients without the extension are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { TASKS_EXTENSION } from "../../src/mcp/tasks.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";
import { fixtureTool, fixtureTools } from "../fixtures/tools/index.js";
import { call, connect, expectAck, settled, tasks, until } from "./tasks-client.js";

const POLL_AFTER_MS = 300;

describe("tasks extension (2026-07-28)", () => {
  let app: AppHarness;
  let server: HttpHandle;

  beforeAll(async () => {
    // slow_job: get_slow declared `x-mcp-task: required` (it runs only as a task).
    const slowJob = { ...fixtureTool("get_slow"), name: "slow_job", policy: { ...fixtureTool("get_slow").policy, task: "required" as const } };
    app = await startAppHarness({ env: { COUNTERSIGN_POLL_AFTER_MS: String(POLL_AFTER_MS), COUNTERSIGN_CONFIRM_ELICITATION: "true" }, tools: [...fixtureTools(), slowJob] });
    server = await startHttpServer(app.gateway, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
  });

  it("advertises the extension, answers a fast call directly and a slow one with a task polled to its result", async () => {
    const client = await connect(server.url, app.token);
    expect(client.client.getServerCapabilities()?.extensions).toMatchObject({ [TASKS_EXTENSION]: {} });
    const fast = await call(client, "get_item", { item_id: "7" });
    expect(fast.resultType).toBe("complete");
    expect(fast.taskId).toBeUndefined();
    expect(fast.structuredContent).toEqual({ id: "7", name: "Widget" });

    const created = await call(client, "get_slow", { ms: 900 });
    expect(created).toMatchObject({ resultType: "task", status: "working", ttlMs: 3_600_000, pollIntervalMs: 1000 });
    expect(created.taskId).toMatch(/^task_/);
    expect(Date.parse(created.createdAt as string)).not.toBeNaN();
    for (const key of ["result", "error", "inputRequests", "requestState", "task"]) expect(created).not.toHaveProperty(key);
    // Readable at once, still working.
    expect(await tasks(client, "tasks/get", { taskId: created.taskId })).toMatchObject({ resultType: "complete", taskId: created.taskId, status: "working" });
    const done = await settled(client, created.taskId!);
    expect(done.status).toBe("completed");
    expect(JSON.stringify(done.result)).toContain('\\"slept\\":900');
    await client.client.close();
  });

  it("tasks/cancel aborts the upstream request; the task settles as cancelled and cannot be cancelled or re-run again", async () => {
    const client = await connect(server.url, app.token);
    app.upstream.reset();
    const created = await call(client, "get_slow", { ms: 30_000 });
    expect(created.resultType).toBe("task");
    expect(app.upstream.aborted).toHaveLength(0);
    expectAck(await tasks(client, "tasks/cancel", { taskId: created.taskId }));
    await until(() => app.upstream.aborted.length === 1);
    expect(app.upstream.aborted[0]!.url).toBe("/v1/slow?ms=30000");
    const after = await tasks(client, "tasks/get", { taskId: created.taskId });
    expect(after).toMatchObject({ status: "cancelled" });
    expect(after).not.toHaveProperty("result");
    // Replay: the same empty ack, nothing changes, nothing is sent again.
    const sent = app.upstream.requests.length;
    expectAck(await tasks(client, "tasks/cancel", { taskId: created.taskId }));
    expect(await tasks(client, "tasks/get", { taskId: created.taskId })).toMatchObject({ status: "cancelled", lastUpdatedAt: after.lastUpdatedAt });
    await expect(tasks(client, "tasks/update", { taskId: created.taskId, inputResponses: { confirm: { action: "accept", content: { confirm: true } } } })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/is cancelled: only a task waiting for input/) });
    expect(app.upstream.requests.length).toBe(sent);
    await client.client.close();
  });

  it("a cancel whose message was missed (recorded by another replica, not announced) still aborts the call within a second", async () => {
    const client = await connect(server.url, app.token);
    app.upstream.reset();
    const created = await call(client, "get_slow", { ms: 30_000 });
    await app.gateway.deps.tasks.transition(created.taskId!, ["working"], { status: "cancelled" });
    await until(() => app.upstream.aborted.length === 1);
    expect((await tasks(client, "tasks/get", { taskId: created.taskId })).status).toBe("cancelled");
    await client.client.close();
  });

  it("a write parks as an input_required task and runs once, when tasks/update confirms it", async () => {
    const client = await connect(server.url, app.token);
    app.upstream.reset();
    const created = await call(client, "create_item", { project_id: 1, name: "tasked" });
    expect(created).toMatchObject({ resultType: "task", status: "input_required" });
    expect(created).not.toHaveProperty("requestState");
    const waiting = await tasks(client, "tasks/get", { taskId: created.taskId });
    expect(waiting.status).toBe("input_required");
    expect(waiting).not.toHaveProperty("requestState");
    expect((waiting.inputRequests as Record<string, { method: string }>).confirm!.method).toBe("elicitation/create");
    expect(app.upstream.requests.filter((r) => r.method === "POST")).toHaveLength(0);
    // An answer to another key is acknowledged and changes nothing.
    expectAck(await tasks(client, "tasks/update", { taskId: created.taskId, inputResponses: { other: { action: "accept" } } }));
    expect((await tasks(client, "tasks/get", { taskId: created.taskId })).status).toBe("input_required");
    const yes = { confirm: { action: "accept", content: { confirm: true } } };
    expectAck(await tasks(client, "tasks/update", { taskId: created.taskId, inputResponses: yes }));
    const done = await settled(client, created.taskId!);
    expect(done.status).toBe("completed");
    expect(JSON.stringify(done.result)).toContain("tasked");
    // Replay of the answer: refused, and the write ran once.
    await expect(tasks(client, "tasks/update", { taskId: created.taskId, inputResponses: yes })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/is completed/) });
    expectAck(await tasks(client, "tasks/cancel", { taskId: created.taskId }));
    expect((await tasks(client, "tasks/get", { taskId: created.taskId })).status).toBe("completed");
    expect(app.upstream.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    await client.client.close();
  });

  it("cancelling a write waiting for confirmation discards its pending action: it never runs", async () => {
    const client = await connect(server.url, app.token);
    app.upstream.reset();
    const created = await call(client, "create_item", { project_id: 1, name: "never" });
    expect(created.status).toBe("input_required");
    expectAck(await tasks(client, "tasks/cancel", { taskId: created.taskId }));
    expect((await tasks(client, "tasks/get", { taskId: created.taskId })).status).toBe("cancelled");
    const pending = await app.gateway.deps.pendingActions.list((await app.gateway.deps.tokens.list())[0]!.id);
    expect(pending.filter((a) => a.state === "pending")).toHaveLength(0);
    expect(app.upstream.requests.filter((r) => r.method === "POST")).toHaveLength(0);
    await client.client.close();
  });

  it("another token's tasks/get, tasks/update and tasks/cancel get 'unknown task', as an unknown id does", async () => {
    const owner = await connect(server.url, app.token);
    const stranger = await connect(server.url, app.otherToken);
    const created = await call(owner, "get_slow", { ms: 1500 });
    expect(created.resultType).toBe("task");
    for (const method of ["tasks/get", "tasks/cancel"] as const) {
      await expect(tasks(stranger, method, { taskId: created.taskId })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/^.*Unknown task ".*": no task of this token has that id/) });
    }
    await expect(tasks(stranger, "tasks/update", { taskId: created.taskId, inputResponses: {} })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/Unknown task/) });
    await expect(tasks(owner, "tasks/get", { taskId: "task_nope" })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/Unknown task "task_nope"/) });
    // The stranger's cancel changed nothing: the owner's task completes.
    expect((await settled(owner, created.taskId!)).status).toBe("completed");
    await owner.client.close();
    await stranger.client.close();
  });

  it("a tool that runs only as a task becomes a task however fast, and is refused (-32021) to a client without tasks", async () => {
    const client = await connect(server.url, app.token);
    const created = await call(client, "slow_job", { ms: 5 });
    expect(created).toMatchObject({ resultType: "task" });
    expect((await settled(client, created.taskId!)).status).toBe("completed");
    app.upstream.reset();
    // Through the SDK's handler (a client that can be asked) and the direct path (one that cannot): the same refusal, nothing sent.
    for (const elicit of [true, false]) {
      const plain = await connect(server.url, app.token, false, elicit);
      await expect(call(plain, "slow_job", { ms: 5 })).rejects.toMatchObject({ code: -32021, message: expect.stringMatching(/slow_job \(it runs only as a task\) needs the io\.modelcontextprotocol\/tasks extension/), data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } } });
      await plain.client.close();
    }
    expect(app.upstream.requests).toHaveLength(0);
    await client.client.close();
  });

  it("bad input names what is wrong; a client without the extension gets -32021 and plain results", async () => {
    const client = await connect(server.url, app.token);
    await expect(tasks(client, "tasks/get", {})).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/tasks\/get needs params.taskId/) });
    await expect(tasks(client, "tasks/update", { taskId: "task_x" })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/needs params.inputResponses, an object/) });
    const plain = await connect(server.url, app.token, false);
    await expect(tasks(plain, "tasks/get", { taskId: "task_x" })).rejects.toMatchObject({ code: -32021, data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } } });
    const slow = await call(plain, "get_slow", { ms: POLL_AFTER_MS + 200 });
    expect(slow.resultType).toBe("complete");
    expect(JSON.stringify(slow.content)).toContain(`\\"slept\\":${POLL_AFTER_MS + 200}`);
    await client.client.close();
    await plain.client.close();
  });
});
