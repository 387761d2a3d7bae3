/**
 * What a trace needs from an MCP tools/call request: its JSON-RPC id, the protocol version and the
 * W3C trace context the client put in `params._meta`.
 */
import type { CallTrace } from "../gateway.js";

/** A W3C traceparent: version, trace id, parent id, flags. */
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

export function traceOf(id: string | number | undefined, protocolVersion: string | undefined, meta: Record<string, unknown> | undefined): CallTrace {
  const traceparent = meta?.traceparent;
  const tracestate = meta?.tracestate;
  // A malformed one is ignored with its tracestate (the call gets a trace of its own), as the W3C spec asks.
  const valid = typeof traceparent === "string" && TRACEPARENT.test(traceparent);
  return {
    ...(id !== undefined ? { jsonrpcId: id } : {}),
    ...(protocolVersion ? { protocolVersion } : {}),
    ...(valid ? { traceparent } : {}),
    ...(valid && typeof tracestate === "string" ? { tracestate } : {}),
  };
}
