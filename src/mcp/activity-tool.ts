/**
 * get_activity: the calling token's own recent events, newest first ("what did my agent do
 * today?"). Reads the audit sink's per-token index; a token never sees another token's events.
 */
import type { AuditRecord, ToolResult } from "../context.js";
import type { AuditRecorder } from "../audit/recorder.js";
import type { MetaTool } from "../gateway.js";

/** One event as get_activity returns it. */
export interface ActivityEvent {
  ts: string;
  /** `decided`: a person approved or rejected one of the caller's actions (the audit record of an admin). */
  type: Exclude<NonNullable<AuditRecord["type"]>, "admin"> | "decided";
  tool: string;
  summary: string;
  outcome: string;
  duration_ms: number;
  action_id?: string;
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

/** get_activity's own calls are left out of what it returns: reading the log is not activity. */
const OWN_NAME = "get_activity";

/** Clamps a requested limit to 1..100 (non-numbers get the default). */
export function clampLimit(limit: unknown): number {
  if (typeof limit !== "number" || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.floor(limit)));
}

/** Turns an audit record into the event an agent sees (no arguments, no excerpts: those stay with operators). */
export function toActivityEvent(r: AuditRecord): ActivityEvent {
  return {
    ts: r.ts,
    type: r.type === "admin" ? "decided" : (r.type ?? "tool_call"),
    tool: r.tool,
    summary: r.summary ?? r.tool,
    outcome: r.outcome ?? "ok",
    duration_ms: Math.round(r.durationMs ?? 0),
    ...(r.actionId ? { action_id: r.actionId } : {}),
  };
}

/** The caller's newest events; `tokenId` comes from the authenticated principal, never from arguments. */
export async function readActivity(audit: Pick<AuditRecorder, "recent">, tokenId: string, limit: unknown): Promise<ActivityEvent[]> {
  const n = clampLimit(limit);
  // Ask for a few more to make up for the get_activity calls filtered out.
  const records = await audit.recent(tokenId, Math.min(MAX_LIMIT, n + 10));
  return records
    .filter((r) => r.tokenId === tokenId && r.tool !== OWN_NAME)
    .slice(0, n)
    .map(toActivityEvent);
}

function render(events: ActivityEvent[]): string {
  if (!events.length) return "No activity recorded for this token yet.";
  return [
    `${events.length} most recent event${events.length === 1 ? "" : "s"}, newest first:`,
    ...events.map((e) => `- ${e.ts} [${e.type}${e.outcome !== "ok" && e.outcome !== e.type ? `/${e.outcome}` : ""}] ${e.summary} (${e.duration_ms} ms${e.action_id ? `, ${e.action_id}` : ""})`),
  ].join("\n");
}

const EVENT_SCHEMA = {
  type: "object",
  properties: {
    ts: { type: "string", format: "date-time" },
    type: { type: "string", enum: ["tool_call", "pending", "confirmed", "cancelled", "expired", "rate_limited", "denied", "decided"] },
    tool: { type: "string" },
    summary: { type: "string" },
    outcome: { type: "string" },
    duration_ms: { type: "number" },
    action_id: { type: "string" },
  },
  required: ["ts", "type", "tool", "summary", "outcome", "duration_ms"],
} as const;

/** Builds the get_activity meta-tool. */
export function createActivityTools(deps: { audit: AuditRecorder }): readonly MetaTool[] {
  return [
    {
      name: OWN_NAME,
      title: "Get your recent activity",
      description: "Lists this token's own recent tool calls and pending/confirmed/cancelled actions, newest first, one readable line each.",
      inputSchema: {
        type: "object",
        properties: { limit: { type: "integer", default: DEFAULT_LIMIT, description: "How many events, newest first (clamped to 1-100)." } },
        additionalProperties: false,
      },
      outputSchema: { type: "object", properties: { events: { type: "array", items: EVENT_SCHEMA } }, required: ["events"] },
      annotations: { readOnlyHint: true, openWorldHint: false },
      async handle(args, session): Promise<ToolResult> {
        const events = await readActivity(deps.audit, session.principal.tokenId, args.limit);
        return { content: [{ type: "text", text: render(events) }], structuredContent: { events } };
      },
    },
  ];
}
