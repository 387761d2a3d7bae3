/**
 * Tasks in the distributed mode, on a real Redis: two gateways (replicas) share the task store. A
 * task created on one is read and confirmed on the other; a cancel sent to the other reaches the
 * replica running the call and aborts its upstream request; the other token still sees nothing.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";
import { call, connect, expectAck, settled, tasks, until } from "../mcp/tasks-client.js";
import { dropPrefix, sharedRedis, uniquePrefix } from "./redis-server.js";

describe("tasks on Redis, across replicas", () => {
  let redis: { url: string; close(): Promise<void> };
  let prefix: string;
  let a: AppHarness;
  let b: AppHarness;
  let serverA: HttpHandle;
  let serverB: HttpHandle;

  beforeAll(async () => {
    redis = await sharedRedis();
    prefix = uniquePrefix();
    // The same secret key: a confirmation sealed on one replica opens on the other.
    const env = { REDIS_URL: redis.url, COUNTERSIGN_REDIS_PREFIX: prefix, COUNTERSIGN_POLL_AFTER_MS: "300", COUNTERSIGN_CONFIRM_ELICITATION: "true", COUNTERSIGN_SECRET_KEY: randomBytes(32).toString("base64") };
    a = await startAppHarness({ env });
    b = await startAppHarness({ env, overrides: { tokens: a.gateway.deps.tokens } });
    serverA = await startHttpServer(a.gateway, { port: 0, host: "127.0.0.1" });
    serverB = await startHttpServer(b.gateway, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await serverA?.close();
    await serverB?.close();
    await a?.close();
    await b?.close();
    if (redis) await dropPrefix(redis.url, prefix);
    await redis?.close();
  });

  it("a task created on one replica is followed to its result on the other", async () => {
    const onA = await connect(serverA.url, a.token);
    const onB = await connect(serverB.url, a.token);
    const created = await call(onA, "get_slow", { ms: 800 });
    expect(created.resultType).toBe("task");
    expect((await tasks(onB, "tasks/get", { taskId: created.taskId })).status).toBe("working");
    const done = await settled(onB, created.taskId!);
    expect(done.status).toBe("completed");
    expect(JSON.stringify(done.result)).toContain('\\"slept\\":800');
    // Only A's upstream was called: the call ran where it was taken.
    expect(a.upstream.requests.filter((r) => r.url === "/v1/slow?ms=800")).toHaveLength(1);
    expect(b.upstream.requests).toHaveLength(0);
    await onA.client.close();
    await onB.client.close();
  });

  it("tasks/cancel on the other replica aborts the upstream request where the call runs", async () => {
    const onA = await connect(serverA.url, a.token);
    const onB = await connect(serverB.url, a.token);
    a.upstream.reset();
    const created = await call(onA, "get_slow", { ms: 30_000 });
    expect(created.resultType).toBe("task");
    expectAck(await tasks(onB, "tasks/cancel", { taskId: created.taskId }));
    await until(() => a.upstream.aborted.length === 1);
    expect((await tasks(onA, "tasks/get", { taskId: created.taskId })).status).toBe("cancelled");
    // Replayed on either replica: the same ack, the task stays cancelled.
    expectAck(await tasks(onA, "tasks/cancel", { taskId: created.taskId }));
    expect((await tasks(onB, "tasks/get", { taskId: created.taskId })).status).toBe("cancelled");
    await onA.client.close();
    await onB.client.close();
  });

  it("a write asked on one replica is confirmed on the other, once; another token sees no task", async () => {
    const onA = await connect(serverA.url, a.token);
    const onB = await connect(serverB.url, a.token);
    const stranger = await connect(serverB.url, a.otherToken);
    a.upstream.reset();
    b.upstream.reset();
    const created = await call(onA, "create_item", { project_id: 1, name: "replicated" });
    expect(created.status).toBe("input_required");
    await expect(tasks(stranger, "tasks/get", { taskId: created.taskId })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/Unknown task/) });
    const yes = { confirm: { action: "accept", content: { confirm: true } } };
    expectAck(await tasks(onB, "tasks/update", { taskId: created.taskId, inputResponses: yes }));
    await expect(tasks(onA, "tasks/update", { taskId: created.taskId, inputResponses: yes })).rejects.toMatchObject({ code: -32602 });
    expect((await settled(onA, created.taskId!)).status).toBe("completed");
    const posts = [...a.upstream.requests, ...b.upstream.requests].filter((r) => r.method === "POST");
    expect(posts).toHaveLength(1);
    await onA.client.close();
    await onB.client.close();
    await stranger.client.close();
  });
});
