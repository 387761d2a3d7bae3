/**
 * What the Koa middleware of `/mcp` hand each other, request by request.
 */
import type { Principal } from "../../context.js";

/** The most messages one JSON-RPC batch may hold (the SDK's own bound, which it no longer exports). */
export const MAX_BATCH_SIZE = 100;

/** A JSON-RPC message as read from a POST body, before the SDK validates it. */
export type JsonRpcMessage = {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: { name?: unknown; arguments?: unknown; _meta?: { progressToken?: unknown } };
};

/** Koa state of one `/mcp` request. */
export interface McpState {
  /** The bearer presented, once parsed (admission). */
  credential?: string;
  /** Set by admission. */
  principal?: Principal;
  /** The parsed POST body (body). */
  body?: unknown;
  /** The JSON-RPC messages in it (body). */
  messages: JsonRpcMessage[];
  /** `/mcp?mode=…&modules=…&profile=…` (body). */
  params: Record<string, string>;
}

/** Whether any request in a POST asked for progress notifications (which only an SSE answer can carry). */
export function wantsProgress(messages: readonly JsonRpcMessage[]): boolean {
  return messages.some((m) => m.params?._meta?.progressToken !== undefined);
}
