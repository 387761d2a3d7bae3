/**
 * Structured JSON logs on stderr (stdout belongs to the stdio transport).
 */
import pino from "pino";
import { hooks, tracingConfigured } from "./telemetry/hooks.js";

/** The gateway's logger type. */
export type Logger = pino.Logger;

/** Trace context of the line, when tracing is on (src/telemetry): `trace_id`, `span_id`. */
const traceFields = () => hooks.logFields?.() ?? {};

/** Creates the gateway's logger; `silent` for tests. */
export function createLog(level = "info"): Logger {
  return pino({ level, base: { service: "countersign" }, ...(tracingConfigured() ? { mixin: traceFields } : {}) }, pino.destination({ dest: 2, sync: false }));
}
