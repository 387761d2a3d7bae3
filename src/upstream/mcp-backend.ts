/**
 * The MCP client side of a backend upstream (src/upstreams/backend.ts): a subprocess over stdio or
 * a Streamable HTTP server, reached with the SDK's Client. A subprocess's stderr goes to the log
 * under the upstream's name; a backend that goes away is reconnected with exponential backoff
 * while its callers get an error naming it and when to retry.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Client, ProtocolError, SdkError, SdkErrorCode, StreamableHTTPClientTransport, type CallToolResult } from "@modelcontextprotocol/client";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import type { ContentBlock, ToolResult } from "../context.js";
import { GatewayError } from "../errors.js";
import type { Logger } from "../log.js";
import type { BackendTool, McpBackend } from "../upstreams/backend.js";
import { readSecret, type McpUpstreamSpec } from "../upstreams/config.js";
import { mcpFetch } from "./mcp-fetch.js";

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
      try {
        await c.connect(transport());
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
      let result: CallToolResult;
      inflight++;
      clearTimeout(idleTimer);
      try {
        result = (await c.callTool({ name, arguments: args }, {
          signal: callOptions.signal,
          timeout: options.timeoutMs,
          ...(callOptions.progress ? { onprogress: (p) => callOptions.progress!(p.message ?? `${p.progress}${p.total ? `/${p.total}` : ""}`, p.progress, p.total) } : {}),
        })) as CallToolResult;
      } catch (err) {
        if (callOptions.signal?.aborted) throw new GatewayError("upstream_unavailable", `The call to MCP upstream '${spec.name}' was cancelled`, { details: { upstream: spec.name, delivery: "sent", outcome: "unknown" } });
        if (client !== c) throw unavailable(true);
        if (err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout) throw new GatewayError("upstream_unavailable", `MCP upstream '${spec.name}' did not answer within ${options.timeoutMs} ms`, { details: { upstream: spec.name, delivery: "sent", outcome: "unknown", timeout_ms: options.timeoutMs } });
        if (!(err instanceof ProtocolError)) {
          // Not an answer but a failed exchange (an HTTP server gone, a refused connection): the
          // backend is down until a reconnection lists its tools again.
          const reason = networkReason(err);
          forget(c, reason);
          throw unavailable(!/ECONNREFUSED/.test(reason));
        }
        throw new GatewayError("upstream_error", `MCP upstream '${spec.name}' refused the call: ${(err as Error).message}`, { details: { upstream: spec.name, delivery: "answered" } });
      } finally {
        if (--inflight === 0) {
          idle?.();
          armIdle();
        }
      }
      return {
        content: (result.content ?? []) as ContentBlock[],
        ...(result.structuredContent ? { structuredContent: result.structuredContent as Record<string, unknown> } : {}),
        ...(result.isError ? { isError: true } : {}),
      } satisfies ToolResult;
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
