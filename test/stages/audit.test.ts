import { describe, expect, it } from "vitest";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { AdmissionContext, CallContext, Principal, Stage, ToolResult } from "../../src/context.js";
import { GatewayError } from "../../src/errors.js";
import { createAuditRecorder } from "../../src/audit/recorder.js";
import { createMetrics } from "../../src/metrics.js";
import { compose } from "../../src/pipeline.js";
import { createAuditStage, createRefusalStage, timeUpstream } from "../../src/stages/audit.js";
import { createMemoryAuditSink } from "../../src/stores/audit-sink.js";
import { createTask, getTask } from "../audit/fixtures.js";

const alice: Principal = { tokenId: "tok_alice", subject: "alice", modules: "all", readOnly: false, tier: "default" };

function setup() {
  const sink = createMemoryAuditSink();
  const metrics = createMetrics();
  const recorder = createAuditRecorder({ sink, metrics, now: () => Date.parse("2026-01-02T03:04:05Z") });
  const audit = createAuditStage({ audit: recorder, metaTool: (name) => META[name] });
  return { sink, metrics, recorder, audit };
}

const confirmTool = { name: "confirm_action", title: "Confirm action", module: "meta", inputSchema: { type: "object", properties: { confirm_token: { type: "string" } } } };
const cancelTool = { name: "cancel_action", title: "Cancel action", module: "meta", inputSchema: confirmTool.inputSchema };
const META: Record<string, typeof confirmTool> = { confirm_action: confirmTool, cancel_action: cancelTool };

/** The credential each test context presents (this file's stand-in for admission). */
const presented = new WeakMap<CallContext, string>();

function context(tool: ToolDescriptor, args: Record<string, unknown>, extra: Partial<CallContext> & { credential?: string } = {}): CallContext {
  const { credential, ...rest } = extra;
  const ctx: CallContext = {
    requestId: "req-1",
    transport: "http",
    sessionId: "sess-1",
    name: tool.name,
    tool,
    principal: alice,
    args,
    signal: new AbortController().signal,
    audit: { ts: "2026-01-02T03:04:05.000Z", requestId: "req-1", transport: "http", sessionId: "sess-1", tool: tool.name, module: tool.module },
    ...rest,
  };
  if (credential !== undefined) presented.set(ctx, credential);
  return ctx;
}

/** A stage that refuses a context whose credential is not "good". */
const authenticate: Stage = async (ctx, next) => {
  if (presented.get(ctx) !== "good") throw new GatewayError("unauthorized", "unknown, expired or revoked token");
  await next();
};

function okUpstream(body: Record<string, unknown>, status = 200): Stage {
  return timeUpstream(async function upstream(ctx) {
    ctx.audit.upstreamStatus = status;
    ctx.result = { content: [{ type: "text", text: JSON.stringify(body) }], structuredContent: body };
  });
}

function throwing(err: unknown): Stage {
  return async () => {
    throw err;
  };
}

async function run(stages: Stage[], ctx: CallContext): Promise<{ threw?: unknown }> {
  try {
    await compose(stages)(ctx);
    return {};
  } catch (err) {
    return { threw: err };
  }
}

describe("audit stage: one record per outcome", () => {
  it("a successful read: who, what, status, excerpt, duration, request id", async () => {
    const { sink, audit } = setup();
    const ctx = context(getTask, { project_id: 42, task_id: 7 }, { credential: "good" });
    await run([audit, authenticate, okUpstream({ id: 7, title: "Ship", api_token: "leak-me" })], ctx);
    expect(sink.records).toHaveLength(1);
    const r = sink.records[0]!;
    expect(r).toMatchObject({
      requestId: "req-1", tokenId: "tok_alice", subject: "alice", sessionId: "sess-1", transport: "http",
      tool: "get_task", module: "tasks", args: { project_id: 42, task_id: 7 }, type: "tool_call", outcome: "ok", upstreamStatus: 200,
    });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.upstreamMs).toBeGreaterThanOrEqual(0);
    expect(r.resultExcerpt).toContain('"title":"Ship"');
    expect(r.resultExcerpt).not.toContain("leak-me");
    expect(r.summary).toBe("Get task 7 in project 42");
  });

  it("a bad token: refused at admission, denied, no token id, the error rethrown to the caller", async () => {
    const { sink, recorder } = setup();
    const refuse = createRefusalStage({ audit: recorder, tool: () => getTask, metaTool: () => undefined });
    const ctx: AdmissionContext = { transport: "http", credential: "bad", request: "POST /mcp", calls: [{ id: 3, name: "get_task", args: { project_id: 1 } }] };
    const threw = await compose<AdmissionContext>([refuse, async () => { throw Object.assign(new GatewayError("unauthorized", "unknown token"), { rpcId: 3 }); }])(ctx).catch((e: unknown) => e);
    expect((threw as GatewayError).code).toBe("unauthorized");
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ tool: "get_task", type: "denied", outcome: "unauthorized", errorCode: "unauthorized", tokenId: undefined, count: 1 });
  });

  it.each([
    ["out of scope", new GatewayError("forbidden", "tool outside the token's modules"), { type: "denied", outcome: "denied" }],
    ["excluded", new GatewayError("forbidden", "operation excluded: billing"), { type: "denied", outcome: "denied" }],
    ["rate-limited", new GatewayError("rate_limited", "over the limit", { retryAfterSeconds: 3, details: { bucket: "sensitive" } }), { type: "rate_limited", outcome: "rate_limited" }],
    ["invalid arguments", new GatewayError("invalid_arguments", "/title: required"), { type: "tool_call", outcome: "invalid" }],
    ["upstream 4xx", new GatewayError("upstream_error", "Not found"), { type: "tool_call", outcome: "upstream_error" }],
    ["a crash", new TypeError("boom"), { type: "tool_call", outcome: "error", errorCode: "internal", error: "Internal gateway error" }],
  ])("%s", async (_name, err, expected) => {
    const { sink, audit, metrics } = setup();
    const ctx = context(createTask, { project_id: 42, title: "Ship" }, { credential: "good" });
    await run([audit, authenticate, throwing(err)], ctx);
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ tokenId: "tok_alice", tool: "create_task", ...expected });
    expect(sink.records[0]!.summary).toBeTruthy();
    const text = await metrics.text();
    expect(text).toContain(`countersign_tool_calls_total{tool="create_task",module="tasks",outcome="${expected.outcome}",upstream=""} 1`);
    if (expected.outcome === "rate_limited") expect(text).toContain('countersign_rate_limit_rejections_total{bucket="sensitive",upstream=""} 1');
  });

  it("a write that goes pending records the action id and a readable summary", async () => {
    const { sink, audit } = setup();
    const ctx = context(createTask, { project_id: 42, title: "Ship Q2 launch", pin: "9999" }, { credential: "good" });
    const gate: Stage = async (c) => {
      c.audit.actionId = "act_1";
      c.result = { content: [{ type: "text", text: "pending" }], structuredContent: { status: "pending_confirmation", action_id: "act_1", confirm_token: "cft_secret_value" } };
    };
    await run([audit, authenticate, gate], ctx);
    expect(sink.records).toHaveLength(1);
    const r = sink.records[0]!;
    expect(r).toMatchObject({ type: "pending", outcome: "pending", actionId: "act_1" });
    expect(r.summary).toBe("Awaiting confirmation: create task 'Ship Q2 launch' in project 42");
    expect(JSON.stringify(r)).not.toContain("9999");
  });

  it("a huge argument is stored capped while the summary still names the thing", async () => {
    const { sink, audit } = setup();
    const ctx = context(createTask, { project_id: 42, title: "Big one", notes: "n".repeat(100 * 1024) }, { credential: "good", confirmed: { actionId: "act_big" } });
    await run([audit, authenticate, okUpstream({ id: 1 }, 201)], ctx);
    const r = sink.records[0]!;
    expect(typeof r.args).toBe("string");
    expect(Buffer.byteLength(r.args as string)).toBe(4096);
    expect(r.summary).toBe("Created task 'Big one' in project 42");
  });

  it("a confirmed execution is a 'confirmed' event carrying the action id", async () => {
    const { sink, audit } = setup();
    const ctx = context(createTask, { project_id: 42, title: "Ship Q2 launch" }, { credential: "good", confirmed: { actionId: "act_9" } });
    await run([audit, authenticate, okUpstream({ id: 1 }, 201)], ctx);
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ type: "confirmed", outcome: "executed", actionId: "act_9", upstreamStatus: 201 });
    expect(sink.records[0]!.summary).toBe("Created task 'Ship Q2 launch' in project 42");
  });

  it("an upstream error answered as a tool result is not recorded as ok", async () => {
    const { sink, audit } = setup();
    const ctx = context(getTask, { project_id: 1, task_id: 2 }, { credential: "good" });
    const upstream: Stage = async (c) => {
      c.audit.upstreamStatus = 404;
      c.result = { isError: true, content: [{ type: "text", text: "Not Found" }] };
    };
    await run([audit, authenticate, upstream], ctx);
    expect(sink.records[0]).toMatchObject({ outcome: "upstream_error", upstreamStatus: 404, summary: "Failed: get task 2 in project 1 (upstream 404)" });
  });
});

describe("refusals and action events outside the chain", () => {
  it("a refusal leaves one record for a 401 and one for a 429 (with the token and arguments)", async () => {
    const { sink, recorder, metrics } = setup();
    await recorder.refusal({ transport: "http", toolName: "get_task", request: "POST /mcp", error: new GatewayError("unauthorized", "missing token") });
    await recorder.refusal({ transport: "http", principal: alice, tool: getTask, args: { project_id: 3 }, request: "POST /mcp", error: new GatewayError("rate_limited", "slow down", { details: { bucket: "normal" } }) });
    expect(sink.records).toHaveLength(2);
    expect(sink.records[0]).toMatchObject({ tool: "get_task", type: "denied", outcome: "unauthorized" });
    expect(sink.records[1]).toMatchObject({ tokenId: "tok_alice", type: "rate_limited", outcome: "rate_limited", args: { project_id: 3 } });
    expect(await metrics.text()).toContain('countersign_rate_limit_rejections_total{bucket="normal",upstream=""} 1');
  });

  it("refusals of unauthenticated callers are aggregated per source and reason, into their own sink, and counted", async () => {
    const sink = createMemoryAuditSink();
    const refusalSink = createMemoryAuditSink();
    const metrics = createMetrics();
    let clock = Date.parse("2026-01-02T03:04:05Z");
    const recorder = createAuditRecorder({ sink, refusalSink, metrics, now: () => clock, refusalWindowMs: 60_000 });
    const nope = () => new GatewayError("unauthorized", "Unknown token", { details: { reason: "unknown" } });
    for (let i = 0; i < 300; i++) await recorder.refusal({ transport: "http", request: "POST /mcp", source: "10.0.0.9", error: nope() });
    await recorder.refusal({ transport: "http", request: "POST /mcp", source: "10.0.0.7", error: nope() });
    // An authenticated caller's refusal is a real record, in the real trail.
    await recorder.refusal({ transport: "http", principal: alice, tool: getTask, request: "POST /mcp", error: new GatewayError("rate_limited", "slow down", { details: { bucket: "normal" } }) });
    expect(sink.records).toEqual([expect.objectContaining({ tokenId: "tok_alice", outcome: "rate_limited" })]);
    expect(refusalSink.records.map((r) => [r.source, r.count])).toEqual([["10.0.0.9", 1], ["10.0.0.7", 1]]);
    // The next interval writes what the first one held back.
    clock += 61_000;
    await recorder.refusal({ transport: "http", request: "POST /mcp", source: "10.0.0.9", error: nope() });
    expect(refusalSink.records.map((r) => [r.source, r.count])).toEqual([["10.0.0.9", 1], ["10.0.0.7", 1], ["10.0.0.9", 299], ["10.0.0.9", 1]]);
    expect(refusalSink.records[2]!.summary).toMatch(/^Denied: POST \/mcp ×299 before any tool was named/);
    expect(await metrics.text()).toContain('countersign_tool_calls_total{tool="",module="",outcome="unauthorized",upstream=""} 302');
    await recorder.close();
  });

  it("recordEvent records an expired action", async () => {
    const { sink, recorder } = setup();
    await recorder.recordEvent({ type: "expired", outcome: "expired", actionId: "act_3", tokenId: "tok_alice", toolName: "create_task", tool: createTask, args: { project_id: 1, title: "T" } });
    expect(sink.records).toEqual([expect.objectContaining({ type: "expired", actionId: "act_3", summary: "Expired without confirmation: create task 'T' in project 1" })]);
  });
});

describe("meta-tool calls", () => {
  /** A meta-tool call's context, and a stage that plays the meta-tool. */
  function metaCall(tool: typeof confirmTool, args: Record<string, unknown>): CallContext {
    return { requestId: "m1", transport: "stdio", name: tool.name, principal: alice, args, signal: new AbortController().signal, audit: { ts: "2026-01-02T03:04:05.000Z", requestId: "m1", transport: "stdio", tool: tool.name } };
  }

  it("confirm_action that runs the real tool through the chain leaves only the chain's record", async () => {
    const { sink, audit } = setup();
    const outer = metaCall(confirmTool, { confirm_token: "cft_x" });
    await run([audit, async (ctx) => {
      const inner = context(createTask, { project_id: 42, title: "Ship" }, { credential: "good", confirmed: { actionId: "act_5" }, parent: ctx });
      await run([audit, authenticate, okUpstream({ id: 1 })], inner);
      ctx.result = { content: [{ type: "text", text: "done" }], structuredContent: { status: "executed", action_id: "act_5" } } satisfies ToolResult;
    }], outer);
    expect(outer.result?.structuredContent?.status).toBe("executed");
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ tool: "create_task", type: "confirmed", actionId: "act_5" });
  });

  it("a repeated confirm (already executed) is recorded once, as confirmed", async () => {
    const { sink, audit } = setup();
    await run([audit, async (ctx) => {
      ctx.audit.actionId = "act_5";
      ctx.result = { content: [], structuredContent: { status: "already_executed", action_id: "act_5" } };
    }], metaCall(confirmTool, { confirm_token: "cft_x" }));
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]).toMatchObject({ tool: "confirm_action", module: "meta", type: "confirmed", outcome: "already_executed", actionId: "act_5" });
    expect(JSON.stringify(sink.records[0])).not.toContain("cft_x");
  });

  it("cancel_action is a cancelled event; an expired confirm token an expired one", async () => {
    const { sink, audit } = setup();
    await run([audit, async (ctx) => void (ctx.result = { content: [], structuredContent: { status: "cancelled", action_id: "act_6" } })], metaCall(cancelTool, { confirm_token: "t" }));
    await run([audit, throwing(new GatewayError("confirmation_invalid", "this action expired", { details: { reason: "expired" } }))], metaCall(confirmTool, { confirm_token: "t" }));
    expect(sink.records.map((r) => [r.type, r.outcome])).toEqual([["cancelled", "cancelled"], ["expired", "expired"]]);
  });
});

describe("structured logs", () => {
  async function logged(level: string) {
    const { default: pino } = await import("pino");
    const { Writable } = await import("node:stream");
    const lines: string[] = [];
    const out = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    const sink = createMemoryAuditSink();
    const recorder = createAuditRecorder({ sink, log: pino({ level }, out) });
    const call = async (credential: string, requestId: string) => {
      const ctx = context(getTask, { project_id: 1, task_id: 2, api_key: "k-123456" }, { credential, requestId, audit: { ts: "2026-01-01T00:00:00Z", requestId, transport: "stdio", tool: "get_task" } });
      await run([createAuditStage({ audit: recorder, metaTool: () => undefined }), authenticate, okUpstream({ id: 2 })], ctx);
      await new Promise((r) => setImmediate(r));
    };
    return { lines, sink, call };
  }

  it("at debug, log one pino line per call with the audit record's request id", async () => {
    const { lines, sink, call } = await logged("debug");
    await call("good", "req-log-1");
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 20, msg: "tools/call", requestId: "req-log-1", tool: "get_task", outcome: "ok", tokenId: "tok_alice" });
    expect(sink.records[0]!.requestId).toBe(entry.requestId);
    expect(lines[0]).not.toContain("k-123456");
  });

  it("at info (the default), routine calls are left to the audit trail; refusals and failures are logged", async () => {
    const { lines, sink, call } = await logged("info");
    await call("good", "req-ok");
    expect(lines).toHaveLength(0);
    await call("bad", "req-refused");
    expect(sink.records.map((r) => r.outcome)).toEqual(["ok", "unauthorized"]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: "tools/call", requestId: "req-refused", outcome: "unauthorized" });
  });
});
