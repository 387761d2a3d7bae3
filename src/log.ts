/**
 * Structured JSON logs on stderr (stdout belongs to the stdio transport).
 */
import pino from "pino";

/** The gateway's logger type. */
export type Logger = pino.Logger;

/** Creates the gateway's logger; `silent` for tests. */
export function createLog(level = "info"): Logger {
  return pino({ level, base: { service: "countersign" } }, pino.destination({ dest: 2, sync: false }));
}
