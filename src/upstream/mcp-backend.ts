/**
 * The MCP client side of a backend upstream (src/upstreams/backend.ts): a subprocess over stdio or
 * a Streamable HTTP server, reached with the SDK's Client (an HTTP backend's tools/call goes around
 * it, as one POST in its session: src/upstream/mcp-rpc.ts). A subprocess's stderr goes to the log
 * under the upstream's name; a backend that goes away is reconnected with exponential backoff
 * while its callers get an error naming it and when to retry.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Client, ProtocolError, SdkError, SdkErrorCode, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import type { ToolResult } from "../context.js";
import { GatewayError } from "../errors.js";
import type { Logger } from "../log.js";
import type { BackendCallOptions, BackendTool, McpBackend } from "../upstreams/backend.js";
import { readSecret, type McpUpstreamSpec } from "../upstreams/config.js";
import { mcpFetch } from "./mcp-fetch.js";
import { endpoint, ExchangeError, exchange, send, type Endpoint, type JsonRpcMessage } from "./mcp-rpc.js";
import { toolResultOf } from "./mcp-result.js";

export interface McpBackendOptions {
  readonly log: Logger;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Per call (the gateway's upstream.timeoutMs). */
  readonly timeoutMs: number;
  /** How often an idle HTTP backend is pinged (default 15 s; 0: never). */
  readonly healthIntervalMs?: number;
  /** First reconnection delay, doubled after each failure up to `maxBackoffMs` (defaults 200 ms, 30 s). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** Builds the backend; nothing starts until `start()`. */
export function createMcpBackend(spec: McpUpstreamSpec, options: McpBackendOptions): McpBackend {
  const env = options.env ?? process.env;
  const log = options.log.child({ upstream: spec.name });
  const firstDelay = options.backoffMs ?? 200;
  const maxDelay = options.maxBackoffMs ?? 30_000;
  let client: Client | undefined;
  // An HTTP backend's session, which its tools/call POSTs join (src/upstream/mcp-rpc.ts): the
  // configured headers plus the session's id and protocol version, fixed once it is initialized.
  let http: { readonly client: Client; readonly endpoint: Endpoint; readonly headers: Readonly<Record<string, string>> } | undefined;
  let nextId = 0;
  let tools: readonly BackendTool[] = [];
  let listed = "";
  let closed = false;
  let lastError = "not started";
  let failures = 0;
  let retryAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let connecting: Promise<void> | undefined;
  const listeners: (() => void)[] = [];
  let inflight = 0;
  let idle: (() => void) | undefined;
  // A lazy subprocess is "parked" (stopped on purpose, its tools known) until a call needs it.
  let parked = false;
  let idleTimer: NodeJS.Timeout | undefined;

  const secrets = (map: McpUpstreamSpec["env"], key: string) => Object.fromEntries(Object.entries(map).map(([k, v]) => [k, readSecret(v, `upstreams.${spec.name}.mcp.${key}.${k}`, env)]));

  function transport() {
    if (spec.url) return new StreamableHTTPClientTransport(new URL(spec.url), { requestInit: { headers: secrets(spec.headers, "headers") }, fetch: mcpFetch });
    // The SDK's default environment (PATH, HOME, …) plus the configured variables; never the gateway's own secrets.
    const t = new StdioClientTransport({ command: spec.command!, args: [...spec.args], env: { ...getDefaultEnvironment(), ...secrets(spec.env, "env") }, ...(spec.cwd ? { cwd: spec.cwd } : {}), stderr: "pipe" });
    if (t.stderr) createInterface({ input: t.stderr as Readable }).on("line", (line) => log.warn({ stderr: line }, `upstream ${spec.name}: ${line}`));
    return t;
  }

  /** What each tools/call POST of an initialized HTTP session carries. */
  function sessionHeaders(t: StreamableHTTPClientTransport): Record<string, string> {
    const headers = secrets(spec.headers, "headers");
    if (t.sessionId) headers["mcp-session-id"] = t.sessionId;
    if (t.protocolVersion) headers["mcp-protocol-version"] = t.protocolVersion;
    return headers;
  }

  async function list(c: Client): Promise<void> {
    const all: BackendTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await c.listTools(cursor ? { cursor } : {});
      for (const t of page.tools) all.push(t as BackendTool);
      cursor = page.nextCursor;
    } while (cursor);
    const text = JSON.stringify(all);
    tools = Object.freeze(all);
    if (text !== listed) {
      listed = text;
      for (const l of listeners) l();
    }
  }

  function down(reason: string): void {
    if (closed) return;
    client = undefined;
    parked = false;
    lastError = reason;
    const delay = Math.min(maxDelay, firstDelay * 2 ** failures);
    failures++;
    retryAt = Date.now() + delay;
    log.warn({ reason, retryInMs: delay }, `upstream ${spec.name} is down (${reason}); reconnecting in ${delay} ms`);
    clearTimeout(timer);
    timer = setTimeout(() => void connect().then(armIdle, () => undefined), delay);
    timer.unref();
  }

  function connect(): Promise<void> {
    connecting ??= (async () => {
      const c = new Client({ name: "countersign", version: "1" }, { capabilities: {} });
      c.setNotificationHandler("notifications/tools/list_changed", () => {
        list(c).catch((err: unknown) => log.warn({ err }, `upstream ${spec.name}: listing its tools after list_changed failed`));
      });
      const t = transport();
      try {
        await c.connect(t);
        await list(c);
      } catch (err) {
        await c.close().catch(() => undefined);
        down((err as Error).message);
        throw unavailable();
      }
      c.onclose = () => {
        if (client === c) down("the connection closed");
      };
      client = c;
      http = t instanceof StreamableHTTPClientTransport ? { client: c, endpoint: endpoint(new URL(spec.url!)), headers: sessionHeaders(t) } : undefined;
      failures = 0;
      parked = false;
      log.info({ tools: tools.length }, `upstream ${spec.name} is up`);
    })().finally(() => (connecting = undefined));
    return connecting;
  }

  /** Stops a lazy subprocess on purpose: not a failure, no reconnection; the next call starts it. */
  async function park(): Promise<void> {
    clearTimeout(idleTimer);
    const c = client;
    if (!c || closed || inflight > 0) return;
    client = undefined;
    parked = true;
    log.info(`upstream ${spec.name} stopped until its next call`);
    await c.close().catch(() => undefined);
  }

  /** With `idleMs`: stops a lazy subprocess that has had no call in flight for that long. */
  function armIdle(): void {
    clearTimeout(idleTimer);
    if (!spec.lazy || spec.idleMs === undefined || closed || inflight > 0) return;
    idleTimer = setTimeout(() => void park(), spec.idleMs);
    idleTimer.unref();
  }

  /** The connected client, starting a parked lazy subprocess (concurrent callers share one start). */
  async function ready(): Promise<Client | undefined> {
    if (!client && parked && !closed) await connect();
    return client;
  }

  /** Drops a client that failed, and reconnects with backoff. */
  function forget(c: Client, reason: string): void {
    if (client !== c) return;
    down(reason);
    void c.close().catch(() => undefined);
  }

  // An HTTP backend has no process to watch: a ping while it is idle finds it gone before a caller does.
  const health = spec.url && options.healthIntervalMs !== 0
    ? setInterval(() => {
        const c = client;
        if (!c || inflight > 0) return;
        c.ping({ timeout: Math.min(options.timeoutMs, 5_000) }).catch((err: unknown) => forget(c, `health check: ${networkReason(err)}`));
      }, options.healthIntervalMs ?? 15_000)
    : undefined;
  health?.unref();

  function unavailable(during = false): GatewayError {
    const wait = Math.max(1, Math.ceil((retryAt - Date.now()) / 1000));
    return new GatewayError(
      "upstream_unavailable",
      during
        ? `MCP upstream '${spec.name}' went away during the call (${lastError}); whether the tool ran is unknown`
        : `MCP upstream '${spec.name}' is down (${lastError}); the gateway is reconnecting, retry in about ${wait} s`,
      { retryAfterSeconds: wait, details: { upstream: spec.name, delivery: during ? "sent" : "not_sent", ...(during ? { outcome: "unknown" } : {}) } },
    );
  }

  const cancelled = () => new GatewayError("upstream_unavailable", `The call to MCP upstream '${spec.name}' was cancelled`, { details: { upstream: spec.name, delivery: "sent", outcome: "unknown" } });
  const timedOut = () => new GatewayError("upstream_unavailable", `MCP upstream '${spec.name}' did not answer within ${options.timeoutMs} ms`, { details: { upstream: spec.name, delivery: "sent", outcome: "unknown", timeout_ms: options.timeoutMs } });
  const refused = (message: string) => new GatewayError("upstream_error", `MCP upstream '${spec.name}' refused the call: ${message}`, { details: { upstream: spec.name, delivery: "answered" } });
  const shaped = (result: unknown): ToolResult => {
    const r = toolResultOf(result);
    if (typeof r === "string") throw new GatewayError("upstream_error", `MCP upstream '${spec.name}' answered with a malformed result: ${r}`, { details: { upstream: spec.name, delivery: "answered" } });
    return r;
  };

  /** A call through the SDK client (subprocess backends). */
  async function sdkCall(c: Client, name: string, args: Record<string, unknown>, callOptions: BackendCallOptions): Promise<ToolResult> {
    try {
      return shaped(
        await c.callTool({ name, arguments: args }, {
          signal: callOptions.signal,
          timeout: options.timeoutMs,
          ...(callOptions.progress ? { onprogress: (p) => callOptions.progress!(p.message ?? `${p.progress}${p.total ? `/${p.total}` : ""}`, p.progress, p.total) } : {}),
        }),
      );
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if (callOptions.signal?.aborted) throw cancelled();
      if (client !== c) throw unavailable(true);
      if (err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout) throw timedOut();
      if (!(err instanceof ProtocolError)) {
        // Not an answer but a failed exchange (a process gone): the backend is down until a
        // reconnection lists its tools again.
        const reason = networkReason(err);
        forget(c, reason);
        throw unavailable(!/ECONNREFUSED/.test(reason));
      }
      throw refused((err as Error).message);
    }
  }

  /**
   * A call to an HTTP backend: one POST in the SDK client's session (its id, its protocol version),
   * with progress relayed, the server's own requests declined, and a cancellation or a timeout
   * told to the server as `notifications/cancelled`.
   */
  async function postCall(h: NonNullable<typeof http>, name: string, args: Record<string, unknown>, callOptions: BackendCallOptions): Promise<ToolResult> {
    const url = h.endpoint;
    const headers = h.headers;
    // String ids: never one the SDK client's numbered requests in the same session use.
    const id = `cs-${++nextId}`;
    const progress = callOptions.progress;
    const params = { name, arguments: args, ...(progress ? { _meta: { progressToken: id } } : {}) };
    const onMessage = (m: JsonRpcMessage) => {
      const p = m.params as { progressToken?: unknown; progress?: number; total?: number; message?: string } | undefined;
      if (m.method === "notifications/progress" && p?.progressToken === id && typeof p.progress === "number") progress?.(p.message ?? `${p.progress}${p.total ? `/${p.total}` : ""}`, p.progress, p.total);
      // The gateway's client declared no capabilities: a request of the server's gets "method not found".
      else if (typeof m.method === "string" && m.id !== undefined) void send(url, headers, { jsonrpc: "2.0", id: m.id, error: { code: -32601, message: `Method not found: ${m.method}` } }).catch(() => undefined);
    };
    const call = exchange(url, headers, { jsonrpc: "2.0", id, method: "tools/call", params }, { onMessage });
    // Why the gateway gave up, if it did: told to the server, which may still be working.
    let stopped: string | undefined;
    const stop = (why: string, error: GatewayError) => {
      stopped ??= why;
      call.abort(error);
    };
    const timer = setTimeout(() => stop(`no answer within ${options.timeoutMs} ms`, timedOut()), options.timeoutMs);
    const signal = callOptions.signal;
    const onAbort = () => stop("cancelled by the client", cancelled());
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    let answer: JsonRpcMessage;
    try {
      answer = await call.answer;
    } catch (err) {
      if (stopped !== undefined) {
        void send(url, headers, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: stopped } }).catch(() => undefined);
        throw err;
      }
      if (client !== h.client) throw unavailable(true);
      // No answer (a server gone, an expired session, an HTTP error): the backend is down until a
      // reconnection opens a session and lists its tools again. A 4xx or a refused connection
      // ran nothing.
      const status = err instanceof ExchangeError ? err.status : undefined;
      const reason = status ? (err as Error).message.slice(0, 200) : networkReason(err);
      forget(h.client, reason);
      throw unavailable(!(status !== undefined && status >= 400 && status < 500) && !/ECONNREFUSED/.test(reason));
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
    const error = answer.error as { code?: unknown; message?: unknown } | undefined;
    if (error) throw refused(`MCP error ${String(error.code)}: ${String(error.message)}`);
    return shaped(answer.result);
  }

  return {
    name: spec.name,
    start: async () => {
      if (client) return;
      await connect();
      // Lazy: the tools are listed once, then the process stops until the first call.
      if (spec.lazy) await park();
    },
    tools: () => tools,
    async call(name, args, callOptions = {}) {
      clearTimeout(idleTimer);
      const c = await ready();
      if (!c || closed) throw unavailable();
      inflight++;
      clearTimeout(idleTimer);
      try {
        return http?.client === c ? await postCall(http, name, args, callOptions) : await sdkCall(c, name, args, callOptions);
      } finally {
        if (--inflight === 0) {
          idle?.();
          armIdle();
        }
      }
    },
    onToolsChanged: (listener) => void listeners.push(listener),
    status: () => (client || parked ? { up: true } : { up: false, detail: lastError }),
    async close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(idleTimer);
      clearInterval(health);
      // Calls in flight finish (bounded by the call timeout); new ones are refused from now.
      if (inflight > 0) {
        await new Promise<void>((resolve) => {
          idle = resolve;
          setTimeout(resolve, options.timeoutMs).unref();
        });
      }
      const c = client;
      client = undefined;
      await c?.close().catch(() => undefined);
    },
  };
}

/** The network error under a failed fetch (`ECONNREFUSED`, `fetch failed`, …). */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}
