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
import { nodeFetch, type UpstreamFetch } from "./node-fetch.js";
import { readResponse, type UpstreamOutcome } from "./read-response.js";

export type { BuiltRequest, UpstreamOutcome };

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
   * failures, timeouts and cancellation throw GatewayError("upstream_unavailable").
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
      try {
        const res = await doFetch(req.url, {
          method: req.method,
          headers: { "user-agent": "countersign", ...req.headers },
          body: req.body,
          signal: abort.signal,
        });
        return await readResponse(tool, res, { maxBytes: config.maxResponseBytes, url: req.url, progress: options.progress });
      } catch (err) {
        if (err instanceof GatewayError) throw err;
        if (caller?.aborted) {
          throw new GatewayError("upstream_unavailable", "The call was cancelled by the client; the upstream request was aborted", { retryable: false, cause: err });
        }
        if (timedOut) {
          throw new GatewayError("upstream_unavailable", `The upstream did not answer within ${config.timeoutMs} ms`, { cause: err, details: { timeout_ms: config.timeoutMs } });
        }
        const reason = networkReason(err);
        throw new GatewayError("upstream_unavailable", `The upstream could not be reached (${reason})`, { cause: err, details: { reason } });
      } finally {
        clearTimeout(timer);
        caller?.removeEventListener("abort", onCancel);
      }
    },
  };
}
