/**
 * How a finished call is classified in the audit trail: an `outcome` (what happened) and an
 * activity `type` (which kind of event an agent sees in get_activity).
 */
import type { AuditRecord, ToolResult } from "../context.js";
import { GatewayError, publicMessage, toGatewayError, type ErrorCode } from "../errors.js";

export type ActivityType = NonNullable<AuditRecord["type"]>;

/** The classification of one finished call. */
export interface Classification {
  outcome: string;
  type: ActivityType;
  errorCode?: string;
  error?: string;
  /** The rate-limit bucket that refused the call, when one did. */
  bucket?: string;
  /** The pending action a refusal was about, when the error names one. */
  actionId?: string;
}

const ERROR_OUTCOME: Record<ErrorCode, { outcome: string; type: ActivityType }> = {
  unauthorized: { outcome: "unauthorized", type: "denied" },
  forbidden: { outcome: "denied", type: "denied" },
  not_found: { outcome: "not_found", type: "tool_call" },
  invalid_arguments: { outcome: "invalid", type: "tool_call" },
  rate_limited: { outcome: "rate_limited", type: "rate_limited" },
  quota_exceeded: { outcome: "quota_exceeded", type: "denied" },
  confirmation_invalid: { outcome: "confirmation_invalid", type: "denied" },
  conflict: { outcome: "conflict", type: "tool_call" },
  upstream_error: { outcome: "upstream_error", type: "tool_call" },
  upstream_unavailable: { outcome: "upstream_unavailable", type: "tool_call" },
  unavailable: { outcome: "unavailable", type: "tool_call" },
  session_not_found: { outcome: "not_found", type: "denied" },
  method_not_allowed: { outcome: "invalid", type: "tool_call" },
  payload_too_large: { outcome: "invalid", type: "tool_call" },
  parse_error: { outcome: "invalid", type: "tool_call" },
  bad_request: { outcome: "invalid", type: "tool_call" },
  header_mismatch: { outcome: "invalid", type: "tool_call" },
  script_error: { outcome: "script_error", type: "tool_call" },
  internal: { outcome: "error", type: "tool_call" },
};

/** Result `status` values the confirm flow answers with, and what they mean here. */
const STATUS_OUTCOME: Record<string, { outcome: string; type: ActivityType }> = {
  pending_confirmation: { outcome: "pending", type: "pending" },
  executed: { outcome: "executed", type: "confirmed" },
  already_executed: { outcome: "already_executed", type: "confirmed" },
  unknown: { outcome: "unknown", type: "confirmed" },
  executing: { outcome: "executing", type: "confirmed" },
  failed: { outcome: "failed", type: "confirmed" },
  not_executed: { outcome: "not_executed", type: "confirmed" },
  cancelled: { outcome: "cancelled", type: "cancelled" },
  expired: { outcome: "expired", type: "expired" },
  awaiting_approval: { outcome: "awaiting_approval", type: "pending" },
  rejected: { outcome: "rejected", type: "cancelled" },
};

/** Types that describe a refusal: they win over whatever a stage announced earlier. */
const REFUSALS: ReadonlySet<ActivityType> = new Set(["denied", "rate_limited", "expired"]);

function fromError(err: GatewayError): Classification {
  const base = ERROR_OUTCOME[err.code] ?? { outcome: "error", type: "tool_call" as const };
  const d = err.details ?? {};
  const reason = typeof d.reason === "string" ? d.reason : typeof d.status === "string" ? d.status : undefined;
  const c: Classification = { ...base, errorCode: err.code, error: publicMessage(err) };
  if (typeof d.action_id === "string") c.actionId = d.action_id;
  // An expired confirm token is an expired action, not a generic refusal.
  if (err.code === "confirmation_invalid" && reason === "expired") Object.assign(c, { outcome: "expired", type: "expired" });
  if (err.code === "rate_limited" && typeof err.details?.bucket === "string") c.bucket = err.details.bucket;
  return c;
}

function fromResult(result: ToolResult | undefined, upstreamStatus: number | undefined): Classification {
  const sc = result?.structuredContent;
  if (result?.isError) {
    const e = sc?.error as { code?: unknown; message?: unknown } | undefined;
    if (e && typeof e.code === "string" && e.code in ERROR_OUTCOME) {
      // toToolResult spreads the error's details beside code and message.
      const { code: _code, message: _message, retryable: _retryable, ...details } = e as Record<string, unknown>;
      return fromError(new GatewayError(e.code as ErrorCode, typeof e.message === "string" ? e.message : e.code, { details }));
    }
    const text = result.content.find((b) => b.type === "text");
    const error = text && text.type === "text" ? text.text.slice(0, 200) : undefined;
    if (upstreamStatus !== undefined && upstreamStatus >= 400) {
      return { outcome: upstreamStatus >= 500 ? "upstream_unavailable" : "upstream_error", type: "tool_call", error };
    }
    return { outcome: "error", type: "tool_call", error };
  }
  const status = typeof sc?.status === "string" ? STATUS_OUTCOME[sc.status] : undefined;
  if (status) return { ...status };
  return { outcome: "ok", type: "tool_call" };
}

/**
 * Classifies a finished call from what was thrown (if anything), the result, and what the stages
 * announced in the audit record (`type`, `outcome`), plus whether it executed a confirmed action.
 */
export function classify(input: {
  error?: unknown;
  threw: boolean;
  result?: ToolResult;
  upstreamStatus?: number;
  confirmed: boolean;
  announced?: { type?: ActivityType; outcome?: string };
}): Classification {
  const c = input.threw ? fromError(toGatewayError(input.error)) : fromResult(input.result, input.upstreamStatus);
  // A confirmed execution that went through is a "confirmed" event, whatever the upstream answered.
  if (input.confirmed && c.type === "tool_call") {
    c.type = "confirmed";
    if (c.outcome === "ok") c.outcome = "executed";
  }
  const announced = input.announced;
  if (announced?.type && !REFUSALS.has(c.type)) c.type = announced.type;
  if (announced?.outcome && !input.threw && !input.result?.isError) c.outcome = announced.outcome;
  return c;
}
