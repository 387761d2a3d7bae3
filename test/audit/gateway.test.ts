/**
 * The audit trail end to end: a real gateway behind the real Streamable HTTP transport, driven by
 * the SDK client, writing to the JSON Lines file in its data dir.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/context.js";
import { auditDir } from "../../src/audit/setup.js";
import { CURRENT_FILE } from "../../src/stores/audit-file-sink.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";

type Result = { isError?: boolean; structuredContent?: Record<string, any>; content: { type: string; text?: string }[] };

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: "audit-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

describe("audit trail through the real gateway and HTTP transport", () => {
  let h: AppHarness;
  let server: HttpHandle;
  let alice: Client;
  let bob: Client;
  let limitedToken: string;
  const trail = async (): Promise<AuditRecord[]> => {
    await h.gateway.deps.auditSink.flush();
    return h.gateway.deps.auditSink.query();
  };
  const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as Result;
  /** Runs `act` and returns the records it added. */
  async function added(act: () => Promise<unknown>): Promise<AuditRecord[]> {
    const before = (await trail()).length;
    await act();
    return (await trail()).slice(before);
  }

  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_RATE_NORMAL: "25" } });
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
    alice = await connect(server.url, h.token);
    bob = await connect(server.url, h.otherToken);
    limitedToken = await h.mint({ id: "tok_limited" });
  });
  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await server?.close();
    await h?.close();
  });

  it("a read: one record with every field", async () => {
    const recs = await added(() => call(alice, "get_item", { item_id: "abc" }));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      tokenId: "tok_test1", subject: expect.any(String), transport: "http", sessionId: expect.any(String),
      tool: "get_item", module: "items", args: { item_id: "abc" }, type: "tool_call", outcome: "ok", upstreamStatus: 200,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/), summary: "Get item abc",
    });
    expect(recs[0]!.resultExcerpt).toContain("Widget");
    expect(recs[0]!.durationMs).toBeGreaterThan(0);
    expect(recs[0]!.upstreamMs).toBeGreaterThan(0);
  });

  it("a write that goes pending: one record with the action id, no confirm token", async () => {
    const [pending] = await added(() => call(alice, "create_item", { project_id: 42, name: "Ship Q2 launch" }));
    expect(pending).toMatchObject({ tool: "create_item", type: "pending", outcome: "pending", actionId: expect.any(String), summary: "Awaiting confirmation: create item 'Ship Q2 launch' in project 42" });
    expect(JSON.stringify(pending)).not.toMatch(/cfm_/);
    const listed = await call(alice, "list_pending_actions", {});
    expect(listed.structuredContent?.actions.map((a: { action_id: string }) => a.action_id)).toContain(pending!.actionId);
  });

  it("confirm and cancel", async () => {
    const p = await call(alice, "create_item", { project_id: 7, name: "Confirm me" });
    const confirmToken = p.structuredContent!.confirm_token as string;
    const recs = await added(() => call(alice, "confirm_action", { confirm_token: confirmToken }));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ tool: "create_item", type: "confirmed", outcome: "executed", actionId: p.structuredContent!.action_id, summary: "Created item 'Confirm me' in project 7" });
    expect(recs[0]!.upstreamStatus).toBeGreaterThanOrEqual(200);

    const again = await added(() => call(alice, "confirm_action", { confirm_token: confirmToken }));
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ tool: "confirm_action", type: "confirmed", outcome: "already_executed", summary: "Already executed: create item 'Confirm me' in project 7" });

    const q = await call(alice, "create_item", { project_id: 7, name: "Cancel me" });
    const cancelled = await added(() => call(alice, "cancel_action", { confirm_token: q.structuredContent!.confirm_token }));
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0]).toMatchObject({ tool: "cancel_action", type: "cancelled", outcome: "cancelled", actionId: q.structuredContent!.action_id, summary: "Cancelled: create item 'Cancel me' in project 7" });
    expect(JSON.stringify(cancelled[0])).not.toContain(q.structuredContent!.confirm_token);
  });

  it("refusals: invalid arguments, excluded operation, unknown tool, bad token, rate limit", async () => {
    const invalid = await added(() => call(alice, "create_item", { project_id: "x" }));
    expect(invalid).toEqual([expect.objectContaining({ tool: "create_item", type: "tool_call", outcome: "invalid", errorCode: "invalid_arguments" })]);

    const excluded = await added(() => call(alice, "pay_invoice", { id: "inv_1" }));
    expect(excluded).toEqual([expect.objectContaining({ tool: "pay_invoice", type: "denied", outcome: "denied" })]);

    const unknown = await added(() => call(alice, "no_such_tool", {}));
    expect(unknown).toEqual([expect.objectContaining({ tool: "no_such_tool", outcome: "not_found", tokenId: "tok_test1" })]);

    // Refusals of callers that proved no token go to their own file, never into the real trail.
    const refusals = h.gateway.deps.audit.refusalSink;
    expect(refusals).not.toBe(h.gateway.deps.auditSink);
    await refusals.flush();
    const refusedBefore = (await refusals.query()).length;
    const inTrail = await added(async () => {
      const res = await fetch(server.url, { method: "POST", headers: { authorization: "Bearer csk_not_a_real_token_at_all", "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
      expect(res.status).toBe(401);
    });
    expect(inTrail).toEqual([]);
    await refusals.flush();
    const badToken = (await refusals.query()).slice(refusedBefore);
    expect(badToken).toEqual([expect.objectContaining({ transport: "http", type: "denied", outcome: "unauthorized", count: 1, summary: expect.stringMatching(/^Denied: POST \/mcp/) })]);
    expect(badToken[0]!.tokenId).toBeUndefined();
    expect(JSON.stringify(badToken)).not.toContain("csk_not_a_real_token_at_all");

    const limited = await connect(server.url, limitedToken);
    const burst = await added(async () => {
      let refused = 0;
      for (let i = 0; i < 27; i++) await call(limited, "get_item", { item_id: String(i) }).catch(() => refused++);
      // The session's initialize took the first of the 25 points.
      expect(refused).toBe(3);
    });
    await limited.close();
    expect(burst.filter((r) => r.outcome === "ok")).toHaveLength(24);
    expect(burst.filter((r) => r.type === "rate_limited")).toEqual([
      expect.objectContaining({ tokenId: "tok_limited", tool: "get_item", outcome: "rate_limited" }),
      expect.objectContaining({ tokenId: "tok_limited", tool: "get_item", outcome: "rate_limited" }),
      expect.objectContaining({ tokenId: "tok_limited", tool: "get_item", outcome: "rate_limited" }),
    ]);
    const metrics = await (await fetch(server.url.replace(/\/mcp$/, "/metrics"))).text();
    expect(metrics).toMatch(/countersign_rate_limit_rejections_total\{bucket="normal",upstream=""\} 3/);
  });

  it("out of scope and read-only refusals are denied records of the calling token", async () => {
    const scoped = await connect(server.url, await h.mint({ id: "tok_media_only", modules: ["media"] }));
    const readOnly = await connect(server.url, await h.mint({ id: "tok_read_only", readOnly: true }));
    try {
      const outside = await added(() => call(scoped, "get_item", { item_id: "x" }));
      expect(outside).toEqual([expect.objectContaining({ tokenId: "tok_media_only", tool: "get_item", type: "denied", outcome: "denied", errorCode: "forbidden" })]);
      const write = await added(() => call(readOnly, "create_item", { project_id: 1, name: "nope" }));
      expect(write).toEqual([expect.objectContaining({ tokenId: "tok_read_only", tool: "create_item", type: "denied", outcome: "denied" })]);
      expect(write[0]!.summary).toMatch(/^Denied: create item 'nope' in project 1/);
    } finally {
      await scoped.close();
      await readOnly.close();
    }
  });

  it("get_activity shows the caller's own events only, newest first", async () => {
    await call(bob, "get_item", { item_id: "bobs" });
    const res = await call(alice, "get_activity", { limit: 500 });
    const events = res.structuredContent!.events as { ts: string; tool: string; type: string; summary: string }[];
    expect(events.length).toBeGreaterThan(5);
    expect(events.length).toBeLessThanOrEqual(100);
    expect(events.some((e) => e.summary.includes("bobs"))).toBe(false);
    expect(events[0]).toMatchObject({ tool: "no_such_tool" });
    const stamps = events.map((e) => e.ts);
    expect([...stamps].sort().reverse()).toEqual(stamps);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["tool_call", "pending", "confirmed", "cancelled", "denied"]));
    const bobs = (await call(bob, "get_activity", {})).structuredContent!.events as { summary: string }[];
    expect(bobs.map((e) => e.summary)).toEqual(["Get item bobs"]);
  });

  it("the file in the data dir holds the records, mode 0600, without secrets", async () => {
    await h.gateway.deps.auditSink.flush();
    const file = join(auditDir(h.gateway.deps.config), CURRENT_FILE);
    const text = await readFile(file, "utf8");
    expect(text).not.toContain(h.token);
    expect(text).not.toContain(h.otherToken);
    expect(text).not.toMatch(/cfm_[A-Za-z0-9]/);
    const { mode } = await import("node:fs/promises").then((fs) => fs.stat(file));
    expect(mode & 0o777).toBe(0o600);
  });
});
