/**
 * Preview and confirm end to end: the SDK Client over Streamable HTTP, the real gateway (token
 * file store, the whole chain), and a real upstream that keeps data and honours If-Match.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createRegistry } from "../../src/registry.js";
import { createTokenFileStore } from "../../src/stores/token-file-store.js";
import type { TokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { startTasksUpstream, TASK_TOOLS, type TasksUpstream } from "../fixtures/confirm/tasks-api.js";

type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

let upstream: TasksUpstream;
let dataDir: string;
let clock: number;
let tokens: TokenStore;
let gateway: Gateway;
let http: HttpHandle;
const secrets: Record<string, string> = {};
const clients: Client[] = [];

async function startGateway(): Promise<void> {
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_UPSTREAM_URL: upstream.url, LOG_LEVEL: "silent" } });
  tokens = createTokenFileStore({ dir: dataDir });
  gateway = await createGateway(config, { registry: createRegistry(TASK_TOOLS), tokens, now: () => clock });
  http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
}

async function stopGateway(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await http.close();
  await gateway.close();
}

async function connect(who: string): Promise<Client> {
  const client = new Client({ name: `e2e-${who}`, version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { Authorization: `Bearer ${secrets[who]}` } } }));
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Result> {
  return (await client.callTool({ name, arguments: args })) as Result;
}

async function previewOf(client: Client, name: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  const r = await call(client, name, args);
  expect(r.isError).toBeFalsy();
  expect(r.structuredContent?.status).toBe("pending_confirmation");
  return r.structuredContent!;
}

beforeAll(async () => {
  upstream = await startTasksUpstream();
  dataDir = mkdtempSync(join(tmpdir(), "cs-e2e-confirm-"));
  clock = Date.now();
  const store = createTokenFileStore({ dir: dataDir });
  for (const who of ["alice", "bob", "carol"]) {
    secrets[who] = mintToken();
    await store.create({ id: `tok_${who}`, hash: hashToken(secrets[who]!), name: who, modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() });
  }
  await store.close();
  await startGateway();
});

afterAll(async () => {
  await stopGateway();
  await upstream.close();
});

beforeEach(() => {
  upstream.writes.length = 0;
  upstream.writeDelayMs = 0;
});

describe("preview and confirm over Streamable HTTP", () => {
  it("lists the confirm meta-tools", async () => {
    const alice = await connect("alice");
    const names = (await alice.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["confirm_action", "cancel_action", "list_pending_actions", "create_task"]));
  });

  it("a create goes pending, changes nothing, then creates exactly what was previewed", async () => {
    const alice = await connect("alice");
    const before = upstream.tasks.size;
    const p = await previewOf(alice, "create_task", { project_id: 42, title: "Ship Q2 launch", labels: ["launch"] });
    expect(p.preview).toMatchObject({ method: "POST", url: `${upstream.url}/v1/projects/42/tasks`, body: { title: "Ship Q2 launch", labels: ["launch"] } });
    expect(upstream.tasks.size).toBe(before);
    expect(upstream.writes).toHaveLength(0);

    const done = await call(alice, "confirm_action", { confirm_token: p.confirm_token });
    expect(done.isError).toBeFalsy();
    expect(done.structuredContent).toMatchObject({ status: "executed", action_id: p.action_id });
    expect(upstream.writes).toHaveLength(1);
    expect(upstream.writes[0]).toMatchObject({ method: "POST", path: "/v1/projects/42/tasks", body: p.preview.body });
    expect(upstream.writes[0]!.headers["idempotency-key"]).toBe(p.action_id);
    const created = [...upstream.tasks.values()].find((t) => t.title === "Ship Q2 launch");
    expect(created).toMatchObject({ project_id: 42, labels: ["launch"], status: "open" });
    expect(upstream.tasks.size).toBe(before + 1);
  });

  it("an update shows a diff against the current state, changes nothing, then applies exactly that diff", async () => {
    const alice = await connect("alice");
    const current = structuredClone(upstream.tasks.get(17)!);
    const p = await previewOf(alice, "update_task", { project_id: 42, task_id: 17, title: "Final launch plan", status: "done" });
    expect(p.preview.current).toMatchObject({ id: 17, title: current.title, status: current.status });
    expect(p.preview.diff).toEqual([
      { path: "status", change: "changed", before: current.status, after: "done" },
      { path: "title", change: "changed", before: current.title, after: "Final launch plan" },
    ]);
    expect(upstream.tasks.get(17)).toEqual(current);

    const done = await call(alice, "confirm_action", { confirm_token: p.confirm_token });
    expect(done.structuredContent?.status).toBe("executed");
    const after = upstream.tasks.get(17)!;
    for (const d of p.preview.diff as { path: keyof typeof after; after: unknown }[]) expect(after[d.path]).toEqual(d.after);
    // Fields outside the diff are untouched.
    expect({ ...after, title: current.title, status: current.status, version: current.version }).toEqual(current);
    expect(upstream.writes[0]!.headers["if-match"]).toBe(p.preview.if_match);
  });

  it("a delete goes pending with a destructive warning, then deletes exactly that resource", async () => {
    const alice = await connect("alice");
    const p = await previewOf(alice, "delete_task", { project_id: 42, task_id: 18 });
    expect(p.preview.warnings[0]).toMatch(/^Destructive: deletes .*task_id=18/);
    expect(p.preview.current).toMatchObject({ id: 18 });
    expect(upstream.tasks.has(18)).toBe(true);
    const others = [...upstream.tasks.keys()].filter((id) => id !== 18);

    const done = await call(alice, "confirm_action", { confirm_token: p.confirm_token });
    expect(done.structuredContent?.status).toBe("executed");
    expect(upstream.tasks.has(18)).toBe(false);
    expect([...upstream.tasks.keys()]).toEqual(others);
  });

  it("50 concurrent confirm_action calls make exactly one upstream write; 49 answer already_executed", async () => {
    const alice = await connect("alice");
    const p = await previewOf(alice, "create_task", { project_id: 42, title: "Exactly once" });
    upstream.writeDelayMs = 100;
    const callers = await Promise.all(Array.from({ length: 5 }, () => connect("alice")));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => call(callers[i % callers.length]!, "confirm_action", { confirm_token: p.confirm_token })));
    const statuses = results.map((r) => r.structuredContent?.status);
    expect(statuses.filter((s) => s === "executed")).toHaveLength(1);
    expect(statuses.filter((s) => s === "already_executed")).toHaveLength(49);
    expect(upstream.writes).toHaveLength(1);
    expect([...upstream.tasks.values()].filter((t) => t.title === "Exactly once")).toHaveLength(1);
  });

  it("refuses an expired confirm token and sends nothing", async () => {
    const alice = await connect("alice");
    const p = await previewOf(alice, "create_task", { project_id: 42, title: "Expired" });
    clock += 601_000;
    try {
      const r = await call(alice, "confirm_action", { confirm_token: p.confirm_token });
      expect(r.isError).toBe(true);
      expect(r.structuredContent?.error).toMatchObject({ code: "confirmation_invalid", message: expect.stringMatching(/expired at .*nothing was sent/) });
    } finally {
      clock -= 601_000;
    }
    expect(upstream.writes).toHaveLength(0);
    // The audit trail tells the whole story of the action.
    const trail = await gateway.deps.audit.recent("tok_alice", 100);
    const events = trail.filter((r) => r.actionId === p.action_id).map((r) => `${r.tool}:${r.type}`).sort();
    // The preview, the store's expiry event, and the refused confirm call.
    expect(events).toEqual(["confirm_action:expired", "create_task:expired", "create_task:pending"]);
  });

  it("refuses a cancelled action and sends nothing", async () => {
    const alice = await connect("alice");
    const p = await previewOf(alice, "delete_task", { project_id: 42, task_id: 19 });
    const c = await call(alice, "cancel_action", { confirm_token: p.confirm_token });
    expect(c.structuredContent).toEqual({ status: "cancelled", action_id: p.action_id });
    const r = await call(alice, "confirm_action", { confirm_token: p.confirm_token });
    expect(r.structuredContent?.error).toMatchObject({ code: "confirmation_invalid", message: expect.stringContaining("cancelled") });
    expect(upstream.writes).toHaveLength(0);
    expect(upstream.tasks.has(19)).toBe(true);
  });

  it("another token can't confirm, cancel or see an action", async () => {
    const alice = await connect("alice");
    const bob = await connect("bob");
    const p = await previewOf(alice, "delete_task", { project_id: 42, task_id: 19 });
    const r = await call(bob, "confirm_action", { confirm_token: p.confirm_token });
    expect(r.structuredContent?.error).toMatchObject({ code: "confirmation_invalid", message: expect.stringContaining("Unknown confirm token") });
    const c = await call(bob, "cancel_action", { confirm_token: p.confirm_token });
    expect(c.structuredContent?.error).toMatchObject({ code: "confirmation_invalid" });
    const listed = await call(bob, "list_pending_actions", {});
    expect(listed.structuredContent?.actions.map((a: { action_id: string }) => a.action_id)).not.toContain(p.action_id);
    await alice.listTools(); // the client now checks list_pending_actions' answer against its outputSchema
    const mine = await call(alice, "list_pending_actions", {});
    expect(mine.structuredContent?.actions.map((a: { action_id: string }) => a.action_id)).toContain(p.action_id);
    expect(upstream.writes).toHaveLength(0);
    await call(alice, "cancel_action", { confirm_token: p.confirm_token });
  });

  it("refuses a token revoked between preview and confirm", async () => {
    const carol = await connect("carol");
    const p = await previewOf(carol, "create_task", { project_id: 42, title: "Revoked before confirm" });
    await gateway.deps.tokens.revoke("tok_carol", new Date());
    await new Promise((r) => setTimeout(r, 1100)); // revocation reaches every check within 1 s
    await expect(call(carol, "confirm_action", { confirm_token: p.confirm_token })).rejects.toThrow(/401|revoked|unauthorized/i);
    expect(upstream.writes).toHaveLength(0);
    expect((await gateway.deps.pendingActions.get(p.action_id))?.state).toBe("pending");
  });

  it("refuses tampered and made-up confirm tokens", async () => {
    const alice = await connect("alice");
    const p = await previewOf(alice, "create_task", { project_id: 42, title: "Tamper target" });
    const token = p.confirm_token as string;
    const tampered = token.slice(0, -1) + (token.endsWith("Q") ? "R" : "Q");
    for (const bad of [tampered, `cfm_${"Z".repeat(20)}_${"Y".repeat(32)}`, "cfm_nope"]) {
      const r = await call(alice, "confirm_action", { confirm_token: bad });
      expect(r.isError).toBe(true);
      expect(r.structuredContent?.error.code).toBe("confirmation_invalid");
      expect(r.content[0]!.text).toMatch(/(Unknown|Malformed) confirm token/);
    }
    expect(upstream.writes).toHaveLength(0);
    await call(alice, "cancel_action", { confirm_token: token });
  });

  it("refuses a stale preview: the resource changed between preview and confirm", async () => {
    const alice = await connect("alice");
    const p = await previewOf(alice, "update_task", { project_id: 42, task_id: 19, title: "Mine" });
    upstream.touch(19, { title: "Someone else's edit" });
    const r = await call(alice, "confirm_action", { confirm_token: p.confirm_token });
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toMatchObject({ status: "failed", error: { code: "conflict", message: expect.stringContaining("changed since the preview; preview again") } });
    expect(upstream.tasks.get(19)!.title).toBe("Someone else's edit");
    expect(upstream.writes.filter((w) => w.status < 300)).toHaveLength(0);
  });

  it("a pending action made before a restart can be confirmed after it", async () => {
    const alice = await connect("alice");
    const p = await previewOf(alice, "update_task", { project_id: 42, task_id: 19, status: "done" });
    await stopGateway();
    await startGateway();
    const again = await connect("alice");
    const listed = await call(again, "list_pending_actions", {});
    expect(listed.structuredContent?.actions.map((a: { action_id: string }) => a.action_id)).toContain(p.action_id);
    const r = await call(again, "confirm_action", { confirm_token: p.confirm_token });
    expect(r.structuredContent).toMatchObject({ status: "executed", action_id: p.action_id });
    expect(upstream.tasks.get(19)!.status).toBe("done");
  });
});
