/**
 * The fast lane of a 2025-11-25 session: a plain `tools/call` is answered without the SDK's
 * protocol layer, which checks the request and then the result against its wire schemas on every
 * call (most of what the SDK adds to a call). The call itself takes the same steps as through the
 * SDK (admission, the chain, the result shaped for the client); only the schema checks and the
 * request bookkeeping are skipped, and the lane keeps its own: each call's abort signal, answered
 * by `notifications/cancelled` or by the transport (a client that went away).
 *
 * "Plain" is narrow on purpose, so that nothing can be sent before the answer and the answer cannot
 * depend on asking the client: exactly `{ name, arguments }` (no `_meta`: no progress token, no
 * trace context), a session on a 2025 revision that asked for no log messages, and a tool of the
 * API (not a meta tool, which may change the session's tool list) that is a read, or any tool when
 * the client can be asked nothing and shows no MCP Apps card. Everything else goes to the SDK.
 * `test/mcp/plain-lane.test.ts` sends the same calls both ways and compares the answers.
 */
import type { JSONRPCMessage, RequestId, Server } from "@modelcontextprotocol/server";
import type { ToolResult } from "../context.js";
import { toJsonRpcError } from "../errors.js";
import type { Gateway } from "../gateway.js";
import { clientShowsApps } from "./apps/ui.js";
import { clientCanElicit } from "./confirm-elicitation.js";
import { isObject, onlyKeys } from "../shape.js";

/** A plain call's request. */
export interface PlainCall {
  readonly id: RequestId;
  readonly name: string;
  readonly args: Record<string, unknown>;
}

/** See the file comment. */
export interface PlainLane {
  /**
   * Takes `message` when it is a plain call (its answer goes to `reply`, unless the call was
   * cancelled first: a cancelled request is never answered) or the cancellation of one the lane
   * runs; false leaves the message to the SDK. `signal` aborts the call as a cancellation does.
   */
  take(message: JSONRPCMessage, reply: (response: JSONRPCMessage) => unknown, signal?: AbortSignal): boolean;
}

/** The first protocol revision of the stateless generation (served by the SDK, never here). */
const MODERN = "2026-07-28";

/** A lane for one session's server; `run` takes a plain call through the same steps as the SDK's handler. */
export function plainLane(gateway: Gateway, binding: { readonly logLevel?: string }, server: Server, run: (call: PlainCall, signal: AbortSignal) => Promise<ToolResult>): PlainLane {
  const inflight = new Map<RequestId, AbortController>();
  const metaTools = new Set(gateway.metaTools.map((t) => t.name));

  function plain(m: Record<string, unknown>): PlainCall | undefined {
    if (m.method !== "tools/call" || m.jsonrpc !== "2.0" || !onlyKeys(m, ["jsonrpc", "id", "method", "params"])) return undefined;
    const { id, params } = m;
    if ((typeof id !== "string" && typeof id !== "number") || !isObject(params) || !onlyKeys(params, ["name", "arguments"])) return undefined;
    const { name, arguments: args = {} } = params;
    if (typeof name !== "string" || !isObject(args) || inflight.has(id)) return undefined;
    const version = server.getNegotiatedProtocolVersion();
    if ((version !== undefined && version >= MODERN) || binding.logLevel !== undefined) return undefined;
    const tool = metaTools.has(name) ? undefined : gateway.registry.get(name);
    if (tool === undefined) return undefined;
    if (tool.policy.write && ((gateway.deps.config.confirm.elicitation && clientCanElicit(server)) || clientShowsApps(server))) return undefined;
    return { id, name, args };
  }

  function cancelled(m: Record<string, unknown>): boolean {
    if (m.method !== "notifications/cancelled" || !isObject(m.params)) return false;
    const { requestId, reason } = m.params;
    const call = typeof requestId === "string" || typeof requestId === "number" ? inflight.get(requestId) : undefined;
    if (call === undefined) return false;
    call.abort(new Error(typeof reason === "string" ? reason : "cancelled by the client"));
    return true;
  }

  return {
    take(message, reply, signal) {
      const m = message as unknown as Record<string, unknown>;
      if (m.id === undefined) return cancelled(m);
      const call = plain(m);
      if (call === undefined) return false;
      const abort = new AbortController();
      const onAbort = () => abort.abort(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      inflight.set(call.id, abort);
      const answer = (response: Omit<JSONRPCMessage, "jsonrpc">) => {
        inflight.delete(call.id);
        signal?.removeEventListener("abort", onAbort);
        if (!abort.signal.aborted) reply({ ...response, jsonrpc: "2.0", id: call.id } as JSONRPCMessage);
      };
      run(call, abort.signal).then(
        (result) => answer({ result } as never),
        (err: unknown) => answer({ error: toJsonRpcError(err) } as never),
      );
      return true;
    },
  };
}
