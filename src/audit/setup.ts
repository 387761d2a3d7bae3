/**
 * Builds a gateway's auditing from its config: the metrics registry, the audit sink and the
 * recorder that feeds both. The composition root (src/app.ts) calls this once.
 */
import { join } from "node:path";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { createMetrics, type Metrics } from "../metrics.js";
import { createAuditFileSink } from "../stores/audit-file-sink.js";
import type { AuditSink } from "../stores/audit-sink.js";
import { createAuditRecorder, type AuditRecorder } from "./recorder.js";

/** The audit folder for a config: `audit.dir`, else `<dataDir>/audit`. */
export function auditDir(config: Pick<Config, "audit" | "dataDir">): string {
  return config.audit.dir ?? join(config.dataDir, "audit");
}

/** Metrics, sink and recorder; any of them can be passed in (tests, benchmarks). */
export function createAuditing(
  config: Pick<Config, "audit" | "dataDir">,
  options: { log: Logger; now?: () => number; metrics?: Metrics; sink?: AuditSink; recorder?: AuditRecorder },
): { metrics: Metrics; sink: AuditSink; recorder: AuditRecorder } {
  const { log } = options;
  const metrics = options.metrics ?? createMetrics({ defaults: true });
  const sink =
    options.recorder?.sink ??
    options.sink ??
    createAuditFileSink({
      dir: auditDir(config),
      maxFileBytes: config.audit.maxFileBytes,
      maxFiles: config.audit.maxFiles,
      bufferRecords: config.audit.bufferRecords,
      onError: (err) => log.error({ err }, "audit: writing the trail failed; records stay buffered"),
    });
  const stats = (sink as { stats?: () => { buffered: number; dropped?: number } }).stats;
  if (stats) metrics.trackAuditBuffer(() => stats().buffered, () => stats().dropped ?? 0);
  // Refusals of callers that proved no token get their own small file with its own rotation
  // budget, so unauthenticated traffic can never rotate real records out of the trail.
  const refusalSink = options.recorder || options.sink
    ? undefined
    : createAuditFileSink({
        dir: join(auditDir(config), "refusals"),
        maxFileBytes: Math.min(config.audit.maxFileBytes, 1_048_576),
        maxFiles: 2,
        bufferRecords: config.audit.bufferRecords,
        onError: (err) => log.error({ err }, "audit: writing the refusals file failed"),
      });
  const recorder =
    options.recorder ??
    createAuditRecorder({
      sink,
      ...(refusalSink ? { refusalSink } : {}),
      metrics,
      now: options.now,
      capBytes: config.audit.capBytes,
      onError: (err) => log.error({ err }, "audit: a record could not be written"),
      log,
    });
  return { metrics, sink, recorder };
}
