/**
 * Preview and confirm against the sample upstream (examples/upstream) serving the bundled
 * workspace spec, with the tools the generator builds from that spec, through the SDK Client over
 * Streamable HTTP.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpec } from "../../codegen/load-spec.js";
import { buildTools } from "../../codegen/operations.js";
import { DEFAULT_RULES } from "../../codegen/rules.js";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createRegistry } from "../../src/registry.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";

type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };
type Task = { id: string; project_id: string; title: string; status: string; version?: number; [k: string]: unknown };

const SPEC = "openapi/workspace.yaml";
const UPSTREAM_TOKEN = "sample-upstream-secret";
let upstream: RunningUpstream;
let gateway: Gateway;
let http: HttpHandle;
let client: Client;

/** Talks to the sample upstream directly, to check what really changed. */
async function api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; etag: string | null }> {
  const res = await fetch(`${upstream.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${UPSTREAM_TOKEN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, etag: res.headers.get("etag") };
}

async function call(name: string, args: Record<string, unknown>): Promise<Result> {
  return (await client.callTool({ name, arguments: args })) as Result;
}

async function pending(name: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  const r = await call(name, args);
  expect(r.isError, JSON.stringify(r)).toBeFalsy();
  expect(r.structuredContent?.status).toBe("pending_confirmation");
  return r.structuredContent!;
}

async function someTasks(n: number): Promise<Task[]> {
  const list = await api<{ data: Task[] }>("GET", "/tasks?limit=20");
  expect(list.status).toBe(200);
  expect(list.body.data.length).toBeGreaterThanOrEqual(n);
  return list.body.data.slice(0, n);
}

beforeAll(async () => {
  upstream = await startUpstream({ spec: SPEC, port: 0, host: "127.0.0.1", dataDir: mkdtempSync(join(tmpdir(), "cs-sample-up-")), token: UPSTREAM_TOKEN });
  const built = buildTools(await loadSpec(SPEC), DEFAULT_RULES);
  const secret = mintToken();
  const tokens = createMemoryTokenStore([{ id: "tok_ws", hash: hashToken(secret), name: "agent", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() }]);
  const config = resolveConfig({
    env: { COUNTERSIGN_DATA_DIR: mkdtempSync(join(tmpdir(), "cs-ws-confirm-")), COUNTERSIGN_UPSTREAM_URL: upstream.url, COUNTERSIGN_UPSTREAM_TOKEN: UPSTREAM_TOKEN, LOG_LEVEL: "silent" },
  });
  gateway = await createGateway(config, { registry: createRegistry(built.tools), tokens });
  http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  client = new Client({ name: "ws-confirm", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await http?.close();
  await gateway?.close();
  await upstream?.close();
});

describe("preview and confirm against the sample upstream", () => {
  it("create_task goes pending, creates nothing, then creates exactly the previewed task", async () => {
    const [sample] = await someTasks(1);
    const title = `Confirmed launch checklist ${Date.now()}`;
    const p = await pending("create_task", { project_id: sample!.project_id, title, priority: "high" });
    expect(p.preview).toMatchObject({ method: "POST", url: `${upstream.baseUrl}/tasks`, body: { project_id: sample!.project_id, title, priority: "high" } });
    const before = await api<{ data: Task[] }>("GET", `/tasks?q=${encodeURIComponent(title)}`);
    expect(before.body.data).toHaveLength(0);

    const done = await call("confirm_action", { confirm_token: p.confirm_token });
    expect(done.structuredContent, JSON.stringify(done)).toMatchObject({ status: "executed", action_id: p.action_id });
    const after = await api<{ data: Task[] }>("GET", `/tasks?q=${encodeURIComponent(title)}`);
    expect(after.body.data).toHaveLength(1);
    expect(after.body.data[0]).toMatchObject({ project_id: sample!.project_id, title, priority: "high" });
  });

  it("update_task previews a diff against the current task and applies exactly that diff", async () => {
    const [, task] = await someTasks(2);
    const current = await api<Task>("GET", `/tasks/${task!.id}`);
    const p = await pending("update_task", { task_id: task!.id, body: { title: "Renamed through confirm", priority: "urgent" } });
    expect(p.preview.current).toMatchObject({ id: task!.id, title: current.body.title });
    expect(p.preview.if_match).toBe(current.etag);
    const paths = (p.preview.diff as { path: string }[]).map((d) => d.path);
    expect(paths).toContain("title");
    expect((await api<Task>("GET", `/tasks/${task!.id}`)).body).toEqual(current.body);

    const done = await call("confirm_action", { confirm_token: p.confirm_token });
    expect(done.structuredContent, JSON.stringify(done)).toMatchObject({ status: "executed" });
    const after = (await api<Task>("GET", `/tasks/${task!.id}`)).body;
    expect(after.title).toBe("Renamed through confirm");
    expect(after.priority).toBe("urgent");
    for (const d of p.preview.diff as { path: string; after: unknown }[]) expect(after[d.path]).toEqual(d.after);
    expect(after.description).toEqual(current.body.description);
  });

  it("refuses a stale update: the task changed after the preview", async () => {
    const [, , task] = await someTasks(3);
    const p = await pending("update_task", { task_id: task!.id, body: { title: "My edit" } });
    const latest = await api<Task>("GET", `/tasks/${task!.id}`);
    const theirs = await api<Task>("PATCH", `/tasks/${task!.id}`, { title: "Someone else's edit" }, { "if-match": latest.etag! });
    expect(theirs.status).toBe(200);
    const r = await call("confirm_action", { confirm_token: p.confirm_token });
    expect(r.isError).toBe(true);
    expect(r.structuredContent?.error).toMatchObject({ code: "conflict", message: expect.stringContaining("changed since the preview") });
    expect((await api<Task>("GET", `/tasks/${task!.id}`)).body.title).toBe("Someone else's edit");
  });

  it("move_task shows the task it acts on and is refused if the task changed since", async () => {
    const [, , , , task] = await someTasks(5);
    const current = await api<Task>("GET", `/tasks/${task!.id}`);
    const target = current.body.status === "done" ? "todo" : "done";
    const p = await pending("move_task", { task_id: task!.id, body: { status: target } });
    expect(p.preview.current).toMatchObject({ id: task!.id, status: current.body.status });
    expect(p.preview.if_match).toBe(current.etag);
    await api("PATCH", `/tasks/${task!.id}`, { title: "Edited meanwhile" }, { "if-match": current.etag! });
    const r = await call("confirm_action", { confirm_token: p.confirm_token });
    expect(r.structuredContent?.error).toMatchObject({ code: "conflict" });
    expect((await api<Task>("GET", `/tasks/${task!.id}`)).body.status).toBe(current.body.status);
  });

  it("delete_task goes pending with a destructive warning, then deletes exactly that task", async () => {
    const [, , , task] = await someTasks(5);
    const p = await pending("delete_task", { task_id: task!.id });
    expect(p.preview.warnings.join(" ")).toMatch(/Destructive/);
    expect((await api("GET", `/tasks/${task!.id}`)).status).toBe(200);
    const done = await call("confirm_action", { confirm_token: p.confirm_token });
    expect(done.structuredContent?.status).toBe("executed");
    expect((await api("GET", `/tasks/${task!.id}`)).status).toBe(404);
  });
});
