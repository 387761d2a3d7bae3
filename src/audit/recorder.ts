/**
 * Turns a finished call into one audit record (redacted, capped, classified, summarized), counts
 * it in the metrics and hands it to the sink. The audit stage, the HTTP transport (refusals it
 * answers itself), the meta-tool dispatcher and the pending-action store all record through here,
 * so every tools/call leaves exactly one record.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AuditRecord, Principal, ToolResult, Transport } from "../context.js";
import type { Metrics } from "../metrics.js";
import type { AuditSink } from "../stores/audit-sink.js";
import { DEFAULT_CAP_BYTES, capJson, capText } from "./cap.js";
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

/** A finished call as the audit stage or a transport sees it. */
export interface FinishedCall {
  /** The record the call carried through the chain (other stages fill parts of it). */
  readonly audit: AuditRecord;
  readonly tool?: AuditedTool;
  readonly principal?: Principal;
  readonly args?: unknown;
  readonly result?: ToolResult;
  readonly threw: boolean;
  readonly error?: unknown;
  readonly confirmedActionId?: string;
  readonly durationMs: number;
  /** For calls about a pending action (cancel, repeated confirm): what that action does, in words. */
  readonly about?: string;
  /** A summary written by the recorder itself (refusals before any tool was named). */
  readonly summary?: string;
}

/** A call refused before the chain (HTTP 401 from authenticate, 429 from admit, unknown tool). */
export interface Refusal {
  readonly requestId: string;
  readonly transport: Transport;
  readonly sessionId?: string;
  readonly principal?: Principal;
  /** The tool named in the tools/call, when the request got that far. */
  readonly toolName?: string;
  readonly tool?: AuditedTool;
  readonly args?: unknown;
  readonly error: unknown;
  readonly durationMs?: number;
  /** What was refused when no tool is known yet, e.g. "POST /mcp". */
  readonly request?: string;
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

export interface AuditRecorderOptions {
  sink: AuditSink;
  metrics?: Metrics;
  /** Milliseconds since the epoch (fake clock in tests). */
  now?: () => number;
  capBytes?: number;
  /** Told when a record could not be built or written (a call never fails because of audit). */
  onError?: (err: unknown) => void;
  /**
   * Logs one structured line per call, carrying the same request id as the audit record: at
   * `debug` for calls that did what was asked (the audit trail has each one already), at `info`
   * for refusals and failures.
   */
  log?: CallLog;
}

/** The part of the gateway's (pino) logger the recorder uses. */
export interface CallLog {
  info(obj: Record<string, unknown>, msg: string): void;
  debug(obj: Record<string, unknown>, msg: string): void;
  isLevelEnabled(level: string): boolean;
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

const PENDING_PREFIX = "Awaiting confirmation: ";

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

function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The audit recorder for one gateway. */
export type AuditRecorder = ReturnType<typeof createAuditRecorder>;

/** Creates the recorder; `sink` is where records go, `metrics` (optional) counts them. */
export function createAuditRecorder(options: AuditRecorderOptions) {
  const { sink, metrics } = options;
  const now = options.now ?? Date.now;
  const cap = options.capBytes ?? DEFAULT_CAP_BYTES;
  const onError = options.onError ?? ((err: unknown) => process.stderr.write(`audit: ${(err as Error)?.stack ?? err}\n`));
  // Marks that the chain recorded a call made inside a meta-tool (confirm_action runs the real
  // tool through the chain), so the meta-tool call does not add a second record.
  const scopes = new AsyncLocalStorage<{ recorded: boolean }>();

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

  const log = options.log;

  async function emit(record: AuditRecord, bucket?: string): Promise<void> {
    const scope = scopes.getStore();
    if (scope) scope.recorded = true;
    if (log) {
      // One write to stderr per call costs more than the rest of the record: routine calls are
      // logged at debug, and the line is only built when its level is on.
      const level = callLogLevel(record);
      if (log.isLevelEnabled(level)) {
        log[level](
          { requestId: record.requestId, tokenId: record.tokenId, sessionId: record.sessionId, transport: record.transport, tool: record.tool, outcome: record.outcome, type: record.type, upstreamStatus: record.upstreamStatus, durationMs: record.durationMs, actionId: record.actionId },
          "tools/call",
        );
      }
    }
    if (metrics) {
      metrics.observeCall({ tool: record.tool, module: record.module, outcome: record.outcome ?? "ok" }, record.durationMs === undefined ? undefined : record.durationMs / 1000);
      if (record.outcome === "rate_limited") metrics.rateLimitRejected(bucket ?? "unknown");
      if (record.upstreamMs !== undefined) metrics.observeUpstream(record.upstreamMs / 1000, record.upstreamStatus);
    }
    try {
      await sink.write(record);
    } catch (err) {
      onError(err);
    }
  }

  /** Records a call that went through the chain (the audit stage calls this in `finally`). */
  async function finish(call: FinishedCall): Promise<void> {
    let bucket: string | undefined;
    let record: AuditRecord;
    try {
      const a = call.audit;
      const c = classify({
        error: call.error,
        threw: call.threw,
        result: call.result,
        upstreamStatus: a.upstreamStatus,
        confirmed: call.confirmedActionId !== undefined,
        announced: { type: a.type, outcome: a.outcome },
      });
      bucket = c.bucket;
      const secrets = new Set<string>();
      const args = safeArgs(call.tool, call.args, secrets);
      const sc = call.result?.structuredContent;
      const actionId = a.actionId ?? call.confirmedActionId ?? (typeof sc?.action_id === "string" ? sc.action_id : undefined) ?? c.actionId;
      record = {
        ts: a.ts,
        requestId: a.requestId,
        ...(call.principal ? { tokenId: call.principal.tokenId, subject: call.principal.subject } : { tokenId: a.tokenId, subject: a.subject }),
        sessionId: a.sessionId,
        transport: a.transport,
        tool: a.tool,
        module: a.module ?? call.tool?.module,
        args: args.stored,
        type: c.type,
        outcome: c.outcome,
        ...(c.errorCode ? { errorCode: c.errorCode } : {}),
        ...(c.error ? { error: c.error } : {}),
        upstreamStatus: a.upstreamStatus,
        upstreamMs: a.upstreamMs === undefined ? undefined : roundMs(a.upstreamMs),
        resultExcerpt: excerptOf(call.result, cap, secrets),
        durationMs: roundMs(call.durationMs),
        actionId,
      };
      // Our own words, from redacted arguments only; a stage's summary (a preview sentence) may
      // quote argument values verbatim, secrets included, so it is not used here.
      record.summary = call.summary ?? (call.about ? aboutAction(record, call.about) : describe(record, call.tool, args.redacted));
    } catch (err) {
      onError(err);
      return;
    }
    await emit(record, bucket);
  }

  /** Records a refusal answered before the chain (401, 429 over HTTP; an unknown tool). */
  async function recordRefusal(r: Refusal): Promise<void> {
    const audit: AuditRecord = {
      ts: new Date(now() - (r.durationMs ?? 0)).toISOString(),
      requestId: r.requestId,
      transport: r.transport,
      sessionId: r.sessionId,
      tool: r.tool?.name ?? r.toolName ?? "",
      module: r.tool?.module,
    };
    let summary: string | undefined;
    if (!audit.tool) {
      const c = classify({ error: r.error, threw: true, confirmed: false });
      summary = `Denied: ${r.request ?? "request"} before any tool was named (${c.error ?? c.outcome})`;
    }
    await finish({ audit, tool: r.tool, principal: r.principal, args: r.args, threw: true, error: r.error, durationMs: r.durationMs ?? 0, summary });
  }

  /** Records an action event that is not a call (expiry found by a sweep). */
  async function recordEvent(e: ActionEvent): Promise<void> {
    const args = safeArgs(e.tool, e.args);
    const record: AuditRecord = {
      ts: new Date(now()).toISOString(),
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
    try {
      await sink.write(record);
    } catch (err) {
      onError(err);
    }
  }

  /** The words of the pending record of the action a meta-tool answer names, if the index still has it. */
  async function actionSummary(tokenId: string | undefined, result: ToolResult | undefined): Promise<string | undefined> {
    const sc = result?.structuredContent;
    const err = sc?.error as { action_id?: unknown } | undefined;
    const actionId = typeof sc?.action_id === "string" ? sc.action_id : typeof err?.action_id === "string" ? err.action_id : undefined;
    if (!actionId || !tokenId) return undefined;
    try {
      const pending = (await sink.recent(tokenId, 100)).find((r) => r.actionId === actionId && r.type === "pending");
      return pending?.summary?.startsWith(PENDING_PREFIX) ? pending.summary.slice(PENDING_PREFIX.length) : pending?.summary;
    } catch {
      return undefined;
    }
  }

  /**
   * Runs a meta-tool call and records it, unless a chain call inside it was recorded already
   * (confirm_action executing the real tool leaves that tool's "confirmed" record instead).
   */
  async function meta(
    call: { tool: AuditedTool; args: Record<string, unknown>; principal?: Principal; requestId: string; transport: Transport; sessionId?: string },
    handle: () => Promise<ToolResult>,
  ): Promise<ToolResult> {
    const ts = new Date(now()).toISOString();
    const started = performance.now();
    const scope = { recorded: false };
    let result: ToolResult | undefined;
    let threw = false;
    let error: unknown;
    try {
      result = await scopes.run(scope, handle);
      return result;
    } catch (err) {
      threw = true;
      error = err;
      throw err;
    } finally {
      if (!scope.recorded) {
        const about = await actionSummary(call.principal?.tokenId, result);
        const audit: AuditRecord = {
          ts,
          requestId: call.requestId,
          transport: call.transport,
          sessionId: call.sessionId,
          tool: call.tool.name,
          module: call.tool.module ?? "meta",
          type: META_TYPES[call.tool.name],
        };
        await finish({ audit, tool: call.tool, principal: call.principal, args: call.args, result, threw, error, durationMs: performance.now() - started, about });
      }
    }
  }

  return {
    sink,
    finish,
    recordRefusal,
    recordEvent,
    meta,
    /** One token's newest records, newest first. */
    recent: (tokenId: string, limit: number) => sink.recent(tokenId, limit),
    /** Flushes and closes the sink. */
    close: () => sink.close(),
  };
}
