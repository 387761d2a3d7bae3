/**
 * The upstream executor: builds the request from a tool's binding, sends it with a timeout and the
 * caller's cancellation, and reads the answer into a tool result. Used by the terminal stage and
 * by anything else that must call the upstream exactly as a tool would (confirm previews).
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { ProgressSink } from "../context.js";
import type { UpstreamConfig } from "../config.js";
import { GatewayError } from "../errors.js";
import { buildRequest, type BuiltRequest } from "./build-request.js";
import { hooks } from "../telemetry/hooks.js";
import { nodeFetch, UpstreamFetchError, type UpstreamFetch } from "./node-fetch.js";
import { readResponse, type UpstreamDelivery, type UpstreamOutcome } from "./read-response.js";

export type { BuiltRequest, UpstreamDelivery, UpstreamOutcome };

/**
 * The `details` of an upstream_unavailable error raised by `executeUpstream` for a call that got
 * no (complete) answer. `outcome: "unknown"` is set whenever the request was fully sent: the
 * upstream may have performed it; such an error is never retryable for a write.
 */
export interface UpstreamFailureDetails {
  readonly delivery: UpstreamDelivery;
  readonly outcome?: "unknown";
  /** The status line, when the upstream answered but its body could not be read. */
  readonly upstream_status?: number;
  readonly timeout_ms?: number;
  /** The network error (`ECONNREFUSED`, `ECONNRESET`, ...). */
  readonly reason?: string;
}

/** How far the failed call behind `err` got, when `err` came from `executeUpstream`; undefined otherwise. */
export function deliveryOf(err: unknown): UpstreamDelivery | undefined {
  const d = err instanceof GatewayError ? err.details?.delivery : undefined;
  return d === "not_sent" || d === "sent" || d === "answered" ? d : undefined;
}

/** Per-call options. */
export interface UpstreamCallOptions {
  /** Aborts the upstream call (client cancellation). */
  readonly signal?: AbortSignal;
  /** Sent as `Idempotency-Key` (the pending action id on confirm). */
  readonly idempotencyKey?: string;
  /** Sent as `If-Match` (stale-preview protection). */
  readonly ifMatch?: string;
  /** The token's own upstream credential; the configured service credential otherwise. */
  readonly credential?: string;
  /** Receives upstream server-sent events as they arrive. */
  readonly progress?: ProgressSink;
}

/** Calls the upstream API on behalf of tools. */
export interface UpstreamClient {
  /** The request a call would send (for previews and tests); throws invalid_arguments. */
  buildRequest(tool: ToolDescriptor, args: Readonly<Record<string, unknown>>, options?: Pick<UpstreamCallOptions, "idempotencyKey" | "ifMatch" | "credential">): BuiltRequest;
  /**
   * Sends the call. HTTP answers of any status resolve (with `error` set for non-2xx); network
   * failures, timeouts and cancellation throw GatewayError("upstream_unavailable") whose details
   * are `UpstreamFailureDetails` (read them with `deliveryOf`).
   */
  executeUpstream(tool: ToolDescriptor, args: Readonly<Record<string, unknown>>, options?: UpstreamCallOptions): Promise<UpstreamOutcome>;
}

export interface UpstreamClientDeps {
  /** Injected for tests (a fetch `Response` will do); node:http with keep-alive agents by default. */
  readonly fetch?: UpstreamFetch;
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}

/** Errors raised before a connection exists: nothing can have reached the upstream. */
const NOT_CONNECTED = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN|EADDRNOTAVAIL|UND_ERR_CONNECT_TIMEOUT|ERR_INVALID_URL|ERR_TLS_CERT_ALTNAME_INVALID|CERT_HAS_EXPIRED|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/;

/** Whether a request that failed without an answer had been fully written. */
function wasSent(err: unknown): boolean {
  if (err instanceof UpstreamFetchError) return err.sent;
  // Another fetch (injected, or the global one for multipart) can't say: only an error that
  // happens before connecting proves nothing was sent; anything else may have been.
  const code = (err as { cause?: { code?: unknown } })?.cause?.code;
  return !(typeof code === "string" && NOT_CONNECTED.test(code));
}

/** Methods whose repetition is harmless; anything else is treated as a write. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Maps a call that got no complete answer to the error its caller sees, saying how far it got. */
function deliveryError(tool: ToolDescriptor, err: unknown, how: { status?: number; cancelled: boolean; timedOut: boolean; timeoutMs: number }): GatewayError {
  const delivery: UpstreamDelivery = how.status !== undefined ? "answered" : wasSent(err) ? "sent" : "not_sent";
  const reason = networkReason(err);
  const write = tool.policy?.write ?? !SAFE_METHODS.has(tool.binding.method.toUpperCase());
  const details: UpstreamFailureDetails = {
    delivery,
    ...(delivery === "not_sent" ? {} : { outcome: "unknown" as const }),
    ...(how.status !== undefined ? { upstream_status: how.status } : {}),
    ...(how.timedOut ? { timeout_ms: how.timeoutMs } : how.cancelled ? {} : { reason }),
  };
  let what: string;
  if (delivery === "not_sent") {
    what = how.cancelled
      ? "The call was cancelled by the client before the request was sent; nothing was sent"
      : how.timedOut
        ? `The upstream did not take the request within ${how.timeoutMs} ms; nothing was sent`
        : `The upstream could not be reached (${reason}); nothing was sent`;
    // A cancelled call is not retried on the client's behalf: the client chose to stop it.
    return new GatewayError("upstream_unavailable", what, { cause: err, details: { ...details }, retryable: !how.cancelled });
  }
  if (how.status !== undefined) what = `The upstream answered HTTP ${how.status}, but the connection failed before its answer was read (${reason})`;
  else if (how.cancelled) what = "The call was cancelled by the client after the request was sent; the upstream request was aborted";
  else if (how.timedOut) what = `The upstream did not answer within ${how.timeoutMs} ms`;
  else what = `The connection to the upstream failed after the request was sent (${reason})`;
  if (write) {
    what += `; the outcome is unknown: the upstream may have performed this ${tool.binding.method.toUpperCase()}. Read the resource before trying again`;
  } else what += "; the outcome is unknown";
  return new GatewayError("upstream_unavailable", what, { cause: err, details: { ...details }, retryable: !write && !how.cancelled });
}
/** Creates the upstream executor from the upstream section of the config. */
export function createUpstreamClient(config: UpstreamConfig, deps: UpstreamClientDeps = {}): UpstreamClient {
  const doFetch = deps.fetch ?? nodeFetch;

  function baseUrl(): string {
    if (!config.url) {
      throw new GatewayError("upstream_unavailable", "No upstream URL is configured (set --upstream or COUNTERSIGN_UPSTREAM_URL)", { retryable: false });
    }
    return config.url;
  }

  function build(tool: ToolDescriptor, args: Readonly<Record<string, unknown>>, options: Pick<UpstreamCallOptions, "idempotencyKey" | "ifMatch" | "credential"> = {}): BuiltRequest {
    return buildRequest(tool, args, {
      baseUrl: baseUrl(),
      basePath: config.basePath,
      credential: options.credential ?? config.token,
      idempotencyKey: options.idempotencyKey,
      ifMatch: options.ifMatch,
    });
  }

  return {
    buildRequest: build,
    async executeUpstream(tool, args, options = {}) {
      const req = build(tool, args, options);
      // One controller, a plain timer and a listener on the caller's signal, all released when the
      // call ends: AbortSignal.timeout + AbortSignal.any cost ~60 µs per call (weak refs, a
      // finalization registry) and leave each call's timer armed for the whole timeout.
      const abort = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        abort.abort(new DOMException(`upstream timeout after ${config.timeoutMs} ms`, "TimeoutError"));
      }, config.timeoutMs);
      const caller = options.signal;
      const onCancel = () => abort.abort(caller?.reason);
      if (caller?.aborted) onCancel();
      else caller?.addEventListener("abort", onCancel, { once: true });
      let status: number | undefined;
      try {
        const headers = { "user-agent": "countersign", ...req.headers };
        const send = () => doFetch(req.url, { method: req.method, headers, body: req.body, signal: abort.signal });
        // Tracing on: a client span, and its traceparent in the headers (src/telemetry).
        const res = await (hooks.aroundUpstream ? hooks.aroundUpstream(req.method, req.url, headers, send) : send());
        status = res.status;
        return await readResponse(tool, res, { maxBytes: config.maxResponseBytes, url: req.url, progress: options.progress });
      } catch (err) {
        if (err instanceof GatewayError) throw err;
        throw deliveryError(tool, err, { status, cancelled: caller?.aborted === true, timedOut, timeoutMs: config.timeoutMs });
      } finally {
        clearTimeout(timer);
        caller?.removeEventListener("abort", onCancel);
      }
    },
  };
}
