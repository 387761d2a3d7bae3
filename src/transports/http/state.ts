/**
 * What the Koa middleware of `/mcp` hand each other, request by request.
 */
import { parseJSONRPCMessage, type JSONRPCMessage } from "@modelcontextprotocol/server";
import type { Principal } from "../../context.js";
import { isObject, onlyKeys } from "../../shape.js";

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
  /** The protocol era the SDK's classifier assigns the request (modern: 2026-07-28, stateless). */
  era?: "legacy" | "modern";
}

/** The id of a body's one request, when it holds exactly one that has an id. */
export function soleRequestId(messages: readonly unknown[]): string | number | undefined {
  if (messages.length !== 1) return undefined;
  const m = messages[0] as JsonRpcMessage | null;
  if (typeof m !== "object" || m === null || typeof m.method !== "string") return undefined;
  return typeof m.id === "string" || typeof m.id === "number" ? m.id : undefined;
}

/** Whether any request in a POST asked for progress notifications (which only an SSE answer can carry). */
export function wantsProgress(messages: readonly JsonRpcMessage[]): boolean {
  return messages.some((m) => m.params?._meta?.progressToken !== undefined);
}

/**
 * A request with nothing but a method, an id and plain parameters without `_meta`: valid JSON-RPC
 * by its shape, as the SDK's schema would find it, without the schema's cost on every call.
 */
export function isPlainRequest(m: unknown): m is JsonRpcMessage & { jsonrpc: "2.0"; id: string | number; method: string } {
  if (!isObject(m) || !onlyKeys(m, ["jsonrpc", "id", "method", "params"])) return false;
  const { id, params } = m;
  if (m.jsonrpc !== "2.0" || typeof m.method !== "string" || !(typeof id === "string" || Number.isInteger(id))) return false;
  return params === undefined || (isObject(params) && !("_meta" in params));
}

/**
 * A parsed message as JSON-RPC: a plain request by its shape, anything else through the SDK's
 * schema (which throws on what is not JSON-RPC). What the HTTP session transport and stdio read.
 */
export function jsonRpcMessageOf(m: unknown): JSONRPCMessage {
  return isPlainRequest(m) ? (m as JSONRPCMessage) : parseJSONRPCMessage(m);
}
