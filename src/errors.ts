/**
 * One error type for the whole gateway, and the one place that maps it to HTTP, JSON-RPC and
 * tool results.
 */
import type { ToolResult } from "./context.js";

/** Stable error codes. The README's error table documents each. */
export type ErrorCode =
  | "unauthorized"          // missing/malformed/unknown/expired/revoked credential
  | "forbidden"             // out of scope, read-only token, excluded operation
  | "not_found"             // unknown tool, unknown action
  | "invalid_arguments"     // schema validation failed
  | "rate_limited"          // a bucket is exhausted
  | "quota_exceeded"        // a token holds too many pending actions, one is too big, or the store is full
  | "confirmation_invalid"  // confirm token unknown, expired, cancelled, another token's
  | "conflict"              // resource changed since preview
  | "upstream_error"        // upstream answered 4xx
  | "upstream_unavailable"  // upstream 5xx, timeout, refused (retryable)
  | "unavailable"           // a store (Redis) is down: fail closed, retry
  | "session_not_found"     // unknown, expired or another token's Mcp-Session-Id
  | "method_not_allowed"    // an HTTP method the endpoint does not serve
  | "payload_too_large"
  | "parse_error"           // the body is not JSON
  | "bad_request"           // not a valid JSON-RPC request for this endpoint
  | "header_mismatch"       // 2026-07-28: an Mcp-Param-* header disagrees with the tools/call arguments
  | "script_error"          // a run_code script failed or passed a limit (details.kind says which)
  | "internal";

const HTTP_STATUS: Record<ErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  invalid_arguments: 400,
  rate_limited: 429,
  quota_exceeded: 429,
  confirmation_invalid: 400,
  conflict: 409,
  upstream_error: 502,
  upstream_unavailable: 502,
  unavailable: 503,
  session_not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  parse_error: 400,
  bad_request: 400,
  header_mismatch: 400,
  script_error: 422,
  internal: 500,
};

export interface GatewayErrorOptions {
  /** Whether `message` may be shown to the model/client as is (default true). */
  expose?: boolean;
  /** Machine-readable details, returned as structuredContent / JSON-RPC error data. */
  details?: Record<string, unknown>;
  /** Seconds after which a retry may succeed (429, 503). */
  retryAfterSeconds?: number;
  retryable?: boolean;
  cause?: unknown;
}

/** The gateway's one error type: a stable code, a message, and whether the message is safe to show. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly expose: boolean;
  readonly details?: Record<string, unknown>;
  readonly retryAfterSeconds?: number;
  readonly retryable: boolean;
  /** The JSON-RPC id of the request this refusal answers, when it is about one call of a batch. */
  rpcId?: string | number | null;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    this.expose = options.expose ?? code !== "internal";
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.retryable = options.retryable ?? (code === "upstream_unavailable" || code === "unavailable" || code === "rate_limited");
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}

/** Normalizes anything thrown into a GatewayError (unknown errors become `internal`, not exposed). */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError("internal", "Internal gateway error", { expose: false, cause: err });
}

/** The message a client may see. */
export function publicMessage(err: GatewayError): string {
  return err.expose ? err.message : "Internal gateway error";
}

/** The message for the operator at a terminal (start-up failures): the real reason, even when it isn't safe for a model. */
export function operatorMessage(err: unknown): string {
  const e = toGatewayError(err);
  if (e.expose) return e.message;
  const inner = e.cause ?? err;
  return inner instanceof Error ? inner.message : e.message;
}

/** The JSON-RPC error code of each condition (one code per condition). */
export const JSONRPC_CODE: Record<ErrorCode, number> = {
  unauthorized: -32001,
  forbidden: -32002,
  unavailable: -32003,
  session_not_found: -32004,
  rate_limited: -32029,
  quota_exceeded: -32029,
  not_found: -32602,
  invalid_arguments: -32602,
  confirmation_invalid: -32602,
  conflict: -32000,
  upstream_error: -32000,
  upstream_unavailable: -32000,
  method_not_allowed: -32000,
  payload_too_large: -32600,
  bad_request: -32600,
  header_mismatch: -32020,
  script_error: -32000,
  parse_error: -32700,
  internal: -32603,
};

/** Maps an error to a tool result with isError (what the model sees). */
export function toToolResult(err: unknown): ToolResult {
  const e = toGatewayError(err);
  const structured: Record<string, unknown> = {
    error: { code: e.code, message: publicMessage(e), retryable: e.retryable, ...(e.details ?? {}) },
  };
  if (e.retryAfterSeconds !== undefined) structured.retry_after_seconds = e.retryAfterSeconds;
  return {
    isError: true,
    content: [{ type: "text", text: `Error (${e.code}): ${publicMessage(e)}` }],
    structuredContent: structured,
  };
}

/** Maps an error to a JSON-RPC error object. */
export function toJsonRpcError(err: unknown): { code: number; message: string; data: Record<string, unknown> } {
  const e = toGatewayError(err);
  const data: Record<string, unknown> = { code: e.code, ...(e.details ?? {}) };
  if (e.retryAfterSeconds !== undefined) data.retry_after_seconds = e.retryAfterSeconds;
  return { code: JSONRPC_CODE[e.code], message: publicMessage(e), data };
}

/** A whole JSON-RPC error response; `id` defaults to the error's own `rpcId`, else null. */
export function toJsonRpcResponse(err: unknown, id?: string | number | null): { jsonrpc: "2.0"; id: string | number | null; error: ReturnType<typeof toJsonRpcError> } {
  const e = toGatewayError(err);
  return { jsonrpc: "2.0", id: id ?? e.rpcId ?? null, error: toJsonRpcError(e) };
}

/**
 * Maps an error to an HTTP status and headers (for transports that answer before the SDK).
 * `resourceMetadata` is the protected-resource metadata URL (RFC 9728) a 401 points clients to.
 */
export function toHttp(err: unknown, options: { resourceMetadata?: string } = {}): { status: number; headers: Record<string, string> } {
  const e = toGatewayError(err);
  const headers: Record<string, string> = {};
  if (e.retryAfterSeconds !== undefined) headers["Retry-After"] = String(Math.max(1, Math.ceil(e.retryAfterSeconds)));
  if (e.code === "method_not_allowed" && typeof e.details?.allow === "string") headers.Allow = e.details.allow;
  if (e.code === "unauthorized") {
    const metadata = options.resourceMetadata ? `, resource_metadata="${options.resourceMetadata.replace(/["\\]/g, "")}"` : "";
    headers["WWW-Authenticate"] = `Bearer realm="countersign", error="invalid_token", error_description="${publicMessage(e).replace(/["\\]/g, "")}"${metadata}`;
  }
  return { status: e.httpStatus, headers };
}
