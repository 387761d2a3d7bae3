/**
 * Per-operation behaviour for the bundled workspace spec, keyed by operationId, where the
 * operation's description asks for more than the generic conventions give.
 */
import type { Handler } from "./engine.js";

/** The handlers, keyed by operationId; operations without one use the generic engine. */
export function createHandlers(): Record<string, Handler> {
  return {};
}
