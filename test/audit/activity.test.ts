import { describe, expect, it } from "vitest";
import type { AuditRecord, CallContext, Principal } from "../../src/context.js";
import { createAuditRecorder } from "../../src/audit/recorder.js";
import { clampLimit, createActivityTools } from "../../src/mcp/activity-tool.js";
import type { SessionContext } from "../../src/mcp/meta-tools.js";
import { createMemoryAuditSink } from "../../src/stores/audit-sink.js";

function principal(tokenId: string): Principal {
  return { tokenId, subject: tokenId, modules: "all", readOnly: false, tier: "default" };
}

function session(tokenId: string): SessionContext {
  return { principal: principal(tokenId), transport: "stdio", signal: new AbortController().signal, params: {} } as unknown as SessionContext;
}

/** The chain context a meta-tool runs in. */
function callOf(s: SessionContext): CallContext {
  return { requestId: "r", transport: s.transport, principal: s.principal, name: "get_activity", args: {}, signal: s.signal, audit: { ts: "", requestId: "r", transport: s.transport, tool: "get_activity" } };
}

async function seeded(n: number) {
  const sink = createMemoryAuditSink();
  const recorder = createAuditRecorder({ sink });
  for (let i = 0; i < n; i++) {
    const record: AuditRecord = {
      ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      requestId: `r${i}`,
      tokenId: i % 2 ? "tok_a" : "tok_b",
      transport: "http",
      tool: `tool_${i}`,
      type: i % 7 === 0 ? "pending" : "tool_call",
      outcome: i % 7 === 0 ? "pending" : "ok",
      summary: `event ${i}`,
      durationMs: 1.4,
      ...(i % 7 === 0 ? { actionId: `act_${i}` } : {}),
    };
    await sink.write(record);
  }
  const [tool] = createActivityTools({ audit: recorder });
  return { sink, recorder, tool: tool! };
}

describe("get_activity", () => {
  it("returns only the caller's events, newest first, in the documented shape", async () => {
    const { tool } = await seeded(300);
    const res = await tool.handle({ limit: 5 }, session("tok_a"), callOf(session("tok_a")));
    const events = res.structuredContent!.events as Record<string, unknown>[];
    expect(events.map((e) => e.tool)).toEqual(["tool_299", "tool_297", "tool_295", "tool_293", "tool_291"]);
    expect(events[0]).toEqual({ ts: "2026-01-01T00:04:59.000Z", type: "tool_call", tool: "tool_299", summary: "event 299", outcome: "ok", duration_ms: 1 });
    expect(events.find((e) => e.tool === "tool_287")).toBeUndefined(); // tool_287 is tok_a's but beyond 5
    const b = (await tool.handle({ limit: 100 }, session("tok_b"), callOf(session("tok_b")))).structuredContent!.events as Record<string, unknown>[];
    expect(b.every((e) => Number(String(e.tool).slice(5)) % 2 === 0)).toBe(true);
    expect(b.find((e) => e.tool === "tool_294")).toMatchObject({ type: "pending", action_id: "act_294" });
    expect(res.content[0]).toMatchObject({ type: "text" });
    expect((res.content[0] as { text: string }).text).toContain("event 299");
  });

  it("clamps the limit to 1..100 and defaults to 20", async () => {
    const { tool } = await seeded(400);
    const count = async (limit: unknown) => ((await tool.handle(limit === undefined ? {} : { limit }, session("tok_a"), callOf(session("tok_a")))).structuredContent!.events as unknown[]).length;
    expect(await count(undefined)).toBe(20);
    expect(await count(1000)).toBe(100);
    expect(await count(0)).toBe(1);
    expect(await count(-5)).toBe(1);
    expect(await count("7")).toBe(20);
    expect(clampLimit(3.9)).toBe(3);
  });

  it("a token with no events gets an empty list, never someone else's", async () => {
    const { tool } = await seeded(50);
    const res = await tool.handle({}, session("tok_nobody"), callOf(session("tok_nobody")));
    expect(res.structuredContent!.events).toEqual([]);
  });

  it("leaves get_activity's own calls out", async () => {
    const { sink, tool } = await seeded(0);
    await sink.write({ ts: "2026-01-01T00:00:00Z", requestId: "x", tokenId: "tok_a", transport: "http", tool: "get_activity", summary: "read" });
    await sink.write({ ts: "2026-01-01T00:00:01Z", requestId: "y", tokenId: "tok_a", transport: "http", tool: "get_task", summary: "Get task 1" });
    const events = (await tool.handle({}, session("tok_a"), callOf(session("tok_a")))).structuredContent!.events as { tool: string }[];
    expect(events.map((e) => e.tool)).toEqual(["get_task"]);
  });
});
