/**
 * The audit recorder: the side effects of auditing. It takes the records src/audit/record.ts
 * builds, logs one line per call, counts it in the metrics and hands it to the sink. The chain's
 * audit stages are its callers (one record per call, one per refused request), plus the
 * pending-action stores for expiries.
 *
 * Refusals of callers that proved no token (a bad or missing bearer) are aggregated: one record
 * per source and reason per interval, with a count, written to their own sink when one is given —
 * so unauthenticated traffic can never push real records out of the trail.
 */
import { randomUUID } from "node:crypto";
import type { AuditRecord } from "../context.js";
import type { Metrics } from "../metrics.js";
import type { AuditSink } from "../stores/audit-sink.js";
import { DEFAULT_CAP_BYTES } from "./cap.js";
import { callLogLevel, createRecordBuilder, type ActionEvent, type FinishedCall, type Refusal } from "./record.js";

export type { ActionEvent, AuditedTool, FinishedCall, Refusal } from "./record.js";
export { callLogLevel, redactText } from "./record.js";

export interface AuditRecorderOptions {
  sink: AuditSink;
  /** Where aggregated refusals of unauthenticated callers go (default: `sink`). */
  refusalSink?: AuditSink;
  metrics?: Metrics;
  /** Milliseconds since the epoch (fake clock in tests). */
  now?: () => number;
  capBytes?: number;
  /** One record per source and reason per this many milliseconds, for unauthenticated refusals (default 60 s). */
  refusalWindowMs?: number;
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

/** The audit recorder for one gateway. */
export type AuditRecorder = ReturnType<typeof createAuditRecorder>;

/** One source's refusals for one reason in the current interval. */
interface RefusalWindow {
  readonly first: Refusal;
  readonly startedAt: number;
  /** Refusals after the first, not written yet. */
  more: number;
}

/** Creates the recorder; `sink` is where records go, `metrics` (optional) counts them. */
export function createAuditRecorder(options: AuditRecorderOptions) {
  const { sink, metrics } = options;
  const refusalSink = options.refusalSink ?? sink;
  const now = options.now ?? Date.now;
  const build = createRecordBuilder(options.capBytes ?? DEFAULT_CAP_BYTES);
  const windowMs = options.refusalWindowMs ?? 60_000;
  const onError = options.onError ?? ((err: unknown) => process.stderr.write(`audit: ${(err as Error)?.stack ?? err}\n`));
  const log = options.log;

  function count(record: AuditRecord, bucket?: string): void {
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
      metrics.observeCall({ tool: record.tool, module: record.module, outcome: record.outcome ?? "ok", upstream: record.upstream }, record.durationMs === undefined ? undefined : record.durationMs / 1000);
      if (record.outcome === "rate_limited") metrics.rateLimitRejected(bucket ?? "unknown", record.upstream);
      if (record.upstreamMs !== undefined) metrics.observeUpstream(record.upstreamMs / 1000, record.upstreamStatus, record.upstream);
    }
  }

  async function write(to: AuditSink, record: AuditRecord): Promise<void> {
    try {
      await to.write(record);
    } catch (err) {
      onError(err);
    }
  }

  /** Records a call that went through the chain (the audit stage calls this in `finally`). */
  async function finish(call: FinishedCall): Promise<void> {
    let built;
    try {
      built = build.fromCall(call);
    } catch (err) {
      onError(err);
      return;
    }
    count(built.record, built.bucket);
    await write(sink, built.record);
  }

  const windows = new Map<string, RefusalWindow>();

  async function flushWindow(key: string, w: RefusalWindow): Promise<void> {
    windows.delete(key);
    if (w.more === 0) return;
    const { record } = build.fromRefusal(w.first, randomUUID(), new Date(now()).toISOString(), w.more);
    await write(refusalSink, record);
  }

  const sweeper = setInterval(() => {
    const cutoff = now() - windowMs;
    for (const [key, w] of windows) if (w.startedAt <= cutoff) void flushWindow(key, w);
  }, Math.max(1_000, Math.min(windowMs, 60_000)));
  sweeper.unref();

  /** Records a request refused at admission. */
  async function refusal(r: Refusal): Promise<void> {
    let built;
    try {
      built = build.fromRefusal(r, randomUUID(), new Date(now() - (r.durationMs ?? 0)).toISOString());
    } catch (err) {
      onError(err);
      return;
    }
    count(built.record, built.bucket);
    if (r.principal || r.claimed) {
      await write(sink, built.record);
      return;
    }
    const reason = typeof r.error.details?.reason === "string" ? r.error.details.reason : r.error.code;
    const key = `${r.source ?? "unknown"}\u0000${reason}`;
    const open = windows.get(key);
    if (open && open.startedAt > now() - windowMs) {
      open.more++;
      return;
    }
    if (open) await flushWindow(key, open);
    windows.set(key, { first: r, startedAt: now(), more: 0 });
    await write(refusalSink, { ...built.record, count: 1, ...(r.source !== undefined ? { source: r.source } : {}) });
  }

  /** Records an action event that is not a call (expiry found by a sweep). */
  async function recordEvent(e: ActionEvent): Promise<void> {
    let record;
    try {
      record = build.fromEvent(e, new Date(now()).toISOString());
    } catch (err) {
      onError(err);
      return;
    }
    await write(sink, record);
  }

  return {
    sink,
    refusalSink,
    finish,
    refusal,
    recordEvent,
    /** What a pending write does, in the trail's words (stored with the action for later records). */
    describeAction: build.whatItDoes,
    /** One token's newest records, newest first. */
    recent: (tokenId: string, limit: number) => sink.recent(tokenId, limit),
    /** Writes the aggregated refusals still open, then flushes and closes the sinks. */
    async close() {
      clearInterval(sweeper);
      await Promise.all([...windows].map(([key, w]) => flushWindow(key, w)));
      await sink.close();
      if (refusalSink !== sink) await refusalSink.close();
    },
  };
}
