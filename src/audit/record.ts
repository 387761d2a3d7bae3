/**
 * Builds audit records: pure functions from a finished call (or refusal, or action event) to the
 * record that is stored — redacted, capped, classified and summarized. Writing it, logging it and
 * counting it is src/audit/recorder.ts's job.
 */
import type { AuditRecord, Principal, ToolResult, Transport } from "../context.js";
import type { GatewayError } from "../errors.js";
import { capJson, capText } from "./cap.js";
import { classify, type ActivityType } from "./outcome.js";
import { isSecretName, redact, REDACTED, scrub, sensitiveProperties } from "./redact.js";
import { summarize } from "./summary.js";

/** What the recorder needs to know about a tool (a ToolDescriptor or a meta-tool fits). */
export interface AuditedTool {
  readonly name: string;
  readonly title?: string;
  readonly module?: string;
  readonly inputSchema?: { readonly [key: string]: unknown };
  readonly binding?: { readonly arguments: readonly { readonly name: string; readonly in: string }[] };
  readonly policy?: { readonly write: boolean };
}

/** A finished call as the audit stage sees it. */
export interface FinishedCall {
  /** The record the call carried through the chain (other stages fill parts of it). */
  readonly audit: AuditRecord;
  readonly tool?: AuditedTool;
  readonly principal?: Principal;
  readonly args?: unknown;
  readonly result?: ToolResult;
  readonly threw: boolean;
  readonly error?: GatewayError;
  readonly confirmedActionId?: string;
  readonly durationMs: number;
  /** For calls about a pending action (cancel, repeated confirm): what that action does, in words. */
  readonly about?: string;
  /** A summary written by the recorder itself (refusals before any tool was named). */
  readonly summary?: string;
}

/** A request refused at admission (401, 429), before any tool ran. */
export interface Refusal {
  readonly transport: Transport;
  readonly sessionId?: string;
  readonly principal?: Principal;
  /** The token a refused credential proved to be (revoked, expired). */
  readonly claimed?: { readonly tokenId: string; readonly subject?: string };
  /** The tool named in the refused tools/call, when the request got that far. */
  readonly toolName?: string;
  readonly tool?: AuditedTool;
  readonly args?: unknown;
  readonly error: GatewayError;
  readonly durationMs?: number;
  /** What was refused, e.g. "POST /mcp". */
  readonly request: string;
  /** The caller's address, when known. */
  readonly source?: string;
}

/** An action event that is not a call (a pending action expiring unconfirmed). */
export interface ActionEvent {
  readonly type: ActivityType;
  readonly outcome: string;
  readonly actionId: string;
  readonly tokenId: string;
  readonly subject?: string;
  readonly toolName: string;
  readonly tool?: AuditedTool;
  readonly args?: unknown;
  readonly requestId?: string;
  readonly transport?: Transport;
  readonly sessionId?: string;
}

/** Outcomes of calls that did what was asked (or are waiting on a confirmation): logged at debug. */
const ROUTINE_OUTCOMES: ReadonlySet<string> = new Set(["ok", "executed", "already_executed", "pending", "cancelled", "executing"]);

/** The level a call's log line is written at. */
export function callLogLevel(record: Pick<AuditRecord, "outcome" | "errorCode">): "debug" | "info" {
  return ROUTINE_OUTCOMES.has(record.outcome ?? "ok") && record.errorCode === undefined ? "debug" : "info";
}

/** What meta-tools map to when they answer without a more specific status. */
const META_TYPES: Record<string, ActivityType> = { confirm_action: "confirmed", cancel_action: "cancelled" };

/** Members of JSON text whose name marks a secret, for excerpts that are already text. */
const JSON_MEMBER = /"((?:[^"\\]|\\.){1,64})"(\s*:\s*)("(?:[^"\\]|\\.)*(?:"|$)|[^,{}[\]\s"]+)/g;
const FORM_PAIR = /(^|[?&\s])([A-Za-z0-9_.\-[\]]{1,64})=([^&\s]*)/g;
const SECRET_STRING = /\b(?:csk|cfm)_[A-Za-z0-9_-]{8,}|\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/g;

/** Cheap first look: text without any of these can't hold a secret the patterns below would catch. */
const MAYBE_SECRET = /pass|pwd|secret|token|key|auth|credential|cookie|csk_|cfm_|bearer/i;

/** Redacts secrets in text that may hold JSON or form-encoded data (excerpts of upstream answers). */
export function redactText(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  return text
    .replace(JSON_MEMBER, (all, name: string, colon: string, value: string) => (isSecretName(name) ? `"${name}"${colon}"${REDACTED}"` : (value.startsWith('"') ? all.replace(SECRET_STRING, REDACTED) : all)))
    .replace(FORM_PAIR, (all, lead: string, name: string) => (isSecretName(name) ? `${lead}${name}=${REDACTED}` : all))
    .replace(SECRET_STRING, REDACTED);
}

function excerptOf(result: ToolResult | undefined, cap: number, secrets: ReadonlySet<string>): string | undefined {
  if (!result) return undefined;
  const parts: string[] = [];
  let budget = cap * 2;
  for (const block of result.content) {
    if (budget <= 0) break;
    let piece: string;
    if (block.type === "text") piece = block.text;
    else if (block.type === "resource") piece = block.resource.text ?? `[resource ${block.resource.uri}${block.resource.mimeType ? ` ${block.resource.mimeType}` : ""}]`;
    else piece = `[${block.type} ${block.mimeType}, ${Math.floor((block.data.length * 3) / 4)} bytes]`;
    // Cut before redacting so a huge body costs no more than the cap.
    piece = piece.length > budget ? piece.slice(0, budget) : piece;
    parts.push(piece);
    budget -= piece.length;
  }
  if (!parts.length && result.structuredContent) parts.push(capText(JSON.stringify(result.structuredContent), cap * 2).text);
  if (!parts.length) return undefined;
  // The answer may echo the arguments (a preview does): scrub the argument secrets from it too.
  return capText(scrub(redactText(parts.join("\n")), secrets), cap).text;
}

/** A summary for a call about an earlier pending action, reusing that action's own words. */
function aboutAction(record: AuditRecord, about: string): string {
  const why = record.error ? ` (${record.error.slice(0, 80)})` : "";
  switch (record.type) {
    case "cancelled":
      return `Cancelled: ${about}`;
    case "expired":
      return `Expired without confirmation: ${about}`;
    case "denied":
      return `Denied: ${about}${why}`;
    case "rate_limited":
      return `Rate limited: ${about}`;
    default:
      if (record.outcome === "already_executed") return `Already executed: ${about}`;
      if (record.outcome === "executing") return `Still executing: ${about}`;
      if (record.outcome === "unknown") return `Outcome unknown: ${about}`;
      return `${(record.outcome ?? "done").replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase())}: ${about}${why}`;
  }
}

const PENDING_PREFIX = "Awaiting confirmation: ";

function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Builds records with one byte cap for stored arguments and excerpts. */
export function createRecordBuilder(cap: number) {
  /** Redacted arguments (for the summary) and their capped form (for the record). */
  function safeArgs(tool: AuditedTool | undefined, args: unknown, removed?: Set<string>): { redacted: unknown; stored: unknown } {
    if (args === undefined) return { redacted: undefined, stored: undefined };
    const redacted = redact(args, sensitiveProperties(tool?.inputSchema), removed);
    return { redacted, stored: capJson(redacted, cap).value };
  }

  const pathArgsOf = new WeakMap<AuditedTool, readonly string[]>();
  function pathArgs(tool: AuditedTool | undefined): readonly string[] | undefined {
    if (!tool?.binding) return undefined;
    let names = pathArgsOf.get(tool);
    if (!names) pathArgsOf.set(tool, (names = tool.binding.arguments.filter((a) => a.in === "path").map((a) => a.name)));
    return names;
  }

  function describe(record: AuditRecord, tool: AuditedTool | undefined, redactedArgs: unknown): string {
    return summarize({
      tool: record.tool,
      title: tool?.title,
      write: tool?.policy?.write,
      pathArgs: pathArgs(tool),
      args: redactedArgs,
      type: record.type ?? "tool_call",
      outcome: record.outcome ?? "ok",
      error: record.error,
      upstreamStatus: record.upstreamStatus,
    });
  }

  /** What a pending action does, in our words (from its redacted arguments, as its pending record says it). */
  function whatItDoes(tool: AuditedTool, args: unknown): string {
    const pending: AuditRecord = { ts: "", requestId: "", transport: "http", tool: tool.name, type: "pending", outcome: "pending" };
    const words = describe(pending, tool, safeArgs(tool, args).redacted);
    return words.startsWith(PENDING_PREFIX) ? words.slice(PENDING_PREFIX.length) : words;
  }

  /** The record of a call that went through the chain, and the rate-limit bucket that refused it (if one did). */
  function fromCall(call: FinishedCall): { record: AuditRecord; bucket?: string } {
    const a = call.audit;
    const c = classify({
      error: call.error,
      threw: call.threw,
      result: call.result,
      upstreamStatus: a.upstreamStatus,
      confirmed: call.confirmedActionId !== undefined,
      announced: { type: a.type ?? (call.tool ? META_TYPES[call.tool.name] : undefined), outcome: a.outcome },
    });
    const secrets = new Set<string>();
    const args = safeArgs(call.tool, call.args, secrets);
    const record: AuditRecord = {
      ts: a.ts,
      requestId: a.requestId,
      ...(call.principal ? { tokenId: call.principal.tokenId, subject: call.principal.subject } : { tokenId: a.tokenId, subject: a.subject }),
      sessionId: a.sessionId,
      transport: a.transport,
      tool: a.tool,
      module: a.module ?? call.tool?.module ?? (call.tool && !call.tool.binding ? "meta" : undefined),
      ...(a.upstream ? { upstream: a.upstream } : {}),
      args: args.stored,
      type: c.type,
      outcome: c.outcome,
      ...(c.errorCode ? { errorCode: c.errorCode } : {}),
      ...(c.error ? { error: c.error } : {}),
      upstreamStatus: a.upstreamStatus,
      upstreamMs: a.upstreamMs === undefined ? undefined : roundMs(a.upstreamMs),
      resultExcerpt: excerptOf(call.result, cap, secrets),
      durationMs: roundMs(call.durationMs),
      actionId: a.actionId ?? call.confirmedActionId ?? c.actionId,
      ...(a.runId !== undefined ? { runId: a.runId } : {}),
    };
    // Our own words, from redacted arguments only; a stage's summary (a preview sentence) may
    // quote argument values verbatim, secrets included, so it is not used here.
    record.summary = call.summary ?? (call.about ? aboutAction(record, call.about) : describe(record, call.tool, args.redacted));
    return { record, bucket: c.bucket };
  }

  /** The record of a request refused at admission. */
  function fromRefusal(r: Refusal, requestId: string, ts: string, count?: number): { record: AuditRecord; bucket?: string } {
    const audit: AuditRecord = {
      ts,
      requestId,
      transport: r.transport,
      sessionId: r.sessionId,
      tool: r.tool?.name ?? r.toolName ?? "",
      module: r.tool?.module,
      ...(r.claimed ? { tokenId: r.claimed.tokenId, subject: r.claimed.subject } : {}),
      // A 429 of one upstream's budget (src/stages/rate-limit.ts) names it.
      ...(typeof r.error.details?.upstream === "string" ? { upstream: r.error.details.upstream } : {}),
    };
    let summary: string | undefined;
    if (!audit.tool) {
      const c = classify({ error: r.error, threw: true, confirmed: false });
      const times = count !== undefined && count > 1 ? ` ×${count}` : "";
      summary = `Denied: ${r.request}${times} before any tool was named (${c.error ?? c.outcome})`;
    }
    const built = fromCall({ audit, tool: r.tool, principal: r.principal, args: r.args, threw: true, error: r.error, durationMs: r.durationMs ?? 0, summary });
    if (count !== undefined) built.record.count = count;
    if (r.source !== undefined) built.record.source = r.source;
    return built;
  }

  /** The record of an action event that is not a call (expiry found by a sweep). */
  function fromEvent(e: ActionEvent, ts: string): AuditRecord {
    const args = safeArgs(e.tool, e.args);
    const record: AuditRecord = {
      ts,
      requestId: e.requestId ?? "",
      tokenId: e.tokenId,
      subject: e.subject,
      sessionId: e.sessionId,
      transport: e.transport ?? "http",
      tool: e.tool?.name ?? e.toolName,
      module: e.tool?.module,
      args: args.stored,
      type: e.type,
      outcome: e.outcome,
      actionId: e.actionId,
      durationMs: 0,
    };
    record.summary = describe(record, e.tool, args.redacted);
    return record;
  }

  return { fromCall, fromRefusal, fromEvent, whatItDoes };
}
