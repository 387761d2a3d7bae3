/**
 * Streamable HTTP on Koa: `/mcp` (POST, GET for the server stream, DELETE to end a session),
 * `/healthz`, `/readyz`. Everything the SDK cannot express as an HTTP status (401, 403, 404 for
 * unknown sessions, 413, 429) is answered here before the SDK sees the request.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server as NodeServer } from "node:http";
import type { AddressInfo } from "node:net";
import Koa from "koa";
import Router from "@koa/router";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Gateway } from "../app.js";
import type { Principal } from "../context.js";
import { GatewayError, toHttp, toJsonRpcError } from "../errors.js";
import { createMcpServer, type SessionBinding } from "../mcp/server.js";
import { createEventStore } from "./event-store.js";
import { directMessages, SessionTransport } from "./session-transport.js";
import { metricsHandler } from "../metrics.js";
import { createConsole } from "../console/server.js"; // console
import { surfaceSettings } from "../surface/session-surface.js";

/** One live stateful session. */
interface LiveSession {
  /** Empty until the SDK has accepted the initialize request. */
  id: string;
  readonly tokenId: string;
  readonly binding: SessionBinding;
  readonly server: Server;
  /** What the server is connected to: answers plain POSTs itself, the rest through `sdk`. */
  readonly transport: SessionTransport;
  readonly sdk: StreamableHTTPServerTransport;
  lastSeen: number;
  /** Open HTTP exchanges (an open GET stream counts): such a session is never reaped as idle. */
  inflight: number;
}

/** A stateless request's server, reused by later requests (see takeStatelessServer). */
interface PooledServer {
  readonly server: Server;
  readonly transport: SessionTransport;
  readonly binding: { -readonly [K in keyof SessionBinding]: SessionBinding[K] };
}

/** Idle stateless servers kept for reuse. */
const STATELESS_POOL = 64;

/** A running HTTP gateway. */
export interface HttpHandle {
  readonly url: string;
  readonly port: number;
  readonly server: NodeServer;
  /** Open stateful sessions. */
  sessionCount(): number;
  /** Sends notifications/tools/list_changed to every open session (hot reload). */
  notifyToolsChanged(): Promise<void>;
  close(): Promise<void>;
}

type JsonRpcMessage = { jsonrpc?: string; id?: string | number | null; method?: string; params?: { name?: unknown; _meta?: { progressToken?: unknown } } };

/** Whether any request in a POST asked for progress notifications (which only an SSE answer can carry). */
function wantsProgress(messages: readonly JsonRpcMessage[]): boolean {
  return messages.some((m) => m.params?._meta?.progressToken !== undefined);
}

// console: exported for src/console/security.ts (the same allow-list applies there).
export function hostAllowed(allowed: readonly string[], host: string | undefined): boolean {
  if (allowed.includes("*")) return true;
  if (!host) return false;
  const h = host.toLowerCase();
  const hostname = h.startsWith("[") ? h.slice(0, h.indexOf("]") + 1) : h.split(":")[0]!;
  return allowed.some((a) => a.toLowerCase() === h || a.toLowerCase() === hostname);
}

export function originAllowed(allowed: readonly string[], origin: string | undefined): boolean {
  if (origin === undefined || allowed.includes("*")) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return allowed.some((a) => a.toLowerCase() === origin.toLowerCase() || a.toLowerCase() === url.hostname.toLowerCase() || a.toLowerCase() === url.host.toLowerCase());
}

/** Reads the request body up to `max` bytes; a larger body is refused with payload_too_large. */
async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  const tooLarge = () => new GatewayError("payload_too_large", `Request body exceeds the limit of ${max} bytes`, { details: { limit_bytes: max } });
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new GatewayError("unauthorized", "malformed Authorization header (expected 'Bearer <token>')");
  return m[1];
}

/** The state of one HTTP session (or one stateless request), fresh. */
function httpBinding(principal: Principal, credential: string | undefined, params: Record<string, string>): SessionBinding {
  return { transport: "http", credential, principal, params, enabledModules: new Set(), admitted: new Set() };
}

/** Builds the Koa app for a gateway; `listen` it yourself or use startHttpServer. */
export function createHttpApp(gateway: Gateway): { app: Koa; router: Router; sessions: Map<string, LiveSession>; closeSessions(): Promise<void> } {
  const config = gateway.deps.config.http;
  const log = gateway.deps.log;
  const sessions = new Map<string, LiveSession>();
  gateway.deps.metrics.setSessions(() => sessions.size, "http");
  const app = new Koa();
  const router = new Router();

  function answer(ctx: Koa.Context, err: unknown, id: string | number | null = null): void {
    const { status, headers } = toHttp(err);
    ctx.status = status;
    ctx.set(headers);
    ctx.body = { jsonrpc: "2.0", id, error: toJsonRpcError(err) };
  }

  async function endSession(s: LiveSession): Promise<void> {
    if (!sessions.delete(s.id)) return;
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  }

  const reaper = setInterval(() => {
    const cutoff = Date.now() - config.sessionIdleMs;
    for (const s of sessions.values()) if (s.inflight === 0 && s.lastSeen < cutoff) void endSession(s);
  }, Math.max(250, Math.min(60_000, Math.floor(config.sessionIdleMs / 2))));
  reaper.unref();

  /** A new stateful session: its own SDK server and transport, bound to the token that created it. */
  async function openSession(principal: Principal, credential: string | undefined, params: Record<string, string>): Promise<LiveSession> {
    const binding = httpBinding(principal, credential, params);
    const server = createMcpServer(gateway, binding);
    const sdk: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Resumable streams cost a priming write per POST; they are only needed to switch long calls to polling.
      ...(config.pollAfterMs > 0 ? { eventStore: createEventStore(), retryInterval: config.sseRetryMs } : {}),
      onsessioninitialized: (id) => {
        live.id = id;
        sessions.set(id, live);
      },
      onsessionclosed: (id) => {
        const s = sessions.get(id);
        if (s) void endSession(s);
      },
    });
    const transport = new SessionTransport(sdk);
    const live: LiveSession = { id: "", tokenId: principal.tokenId, binding, server, transport, sdk, lastSeen: Date.now(), inflight: 0 };
    transport.onclose = () => {
      if (live.id) sessions.delete(live.id);
    };
    await server.connect(transport);
    return live;
  }

  /**
   * Servers for stateless requests answered directly: a request takes one (its binding set to the
   * request's token and parameters) and gives it back once answered, so no request pays for
   * building and closing an SDK server. At most STATELESS_POOL are kept idle.
   */
  const statelessPool: PooledServer[] = [];
  let closing = false;

  function takeStatelessServer(principal: Principal, credential: string | undefined, params: Record<string, string>): PooledServer {
    let pooled = statelessPool.pop();
    if (!pooled) {
      const binding: PooledServer["binding"] = httpBinding(principal, credential, params);
      const server = createMcpServer(gateway, binding);
      const transport = new SessionTransport();
      // Connecting to a SessionTransport without an SDK transport behind it completes at once.
      void server.connect(transport);
      pooled = { server, transport, binding };
    }
    const b = pooled.binding;
    b.credential = credential;
    b.principal = principal;
    b.params = params;
    b.logLevel = undefined;
    b.enabledModules.clear();
    b.admitted.clear();
    return pooled;
  }

  function releaseStatelessServer(pooled: PooledServer): void {
    if (!closing && statelessPool.length < STATELESS_POOL) statelessPool.push(pooled);
    else void pooled.server.close().catch(() => undefined);
  }

  /**
   * Whether a POST must be answered as an SSE stream: something may be sent before its answer
   * (progress, relayed upstream events as logs, a confirm elicitation) or a long call may switch to polling.
   */
  function needsStream(binding: SessionBinding, server: Server, messages: readonly JsonRpcMessage[]): boolean {
    if (wantsProgress(messages) || binding.logLevel !== undefined || config.pollAfterMs > 0) return true;
    return gateway.deps.config.confirm.elicitation && server.getClientCapabilities()?.elicitation !== undefined && messages.some((m) => m.method === "tools/call");
  }

  /** Takes rate-limit points for each tools/call before the SDK sees it, so a refusal can be HTTP 429. */
  async function admitCalls(principal: Principal, messages: JsonRpcMessage[], admitted: Set<string | number>): Promise<void> {
    for (const m of messages) {
      if (m.method !== "tools/call" || m.id === undefined || m.id === null) continue;
      try {
        await gateway.admit(principal, typeof m.params?.name === "string" ? m.params.name : "");
      } catch (err) {
        // audit: a 429 answered here never reaches the chain, so it is recorded here.
        const name = typeof m.params?.name === "string" ? m.params.name : undefined;
        const tool = name === undefined ? undefined : (gateway.registry.get(name) ?? gateway.metaTools.find((t) => t.name === name));
        await gateway.deps.audit.recordRefusal({ requestId: randomUUID(), transport: "http", principal, toolName: name, tool, args: (m.params as { arguments?: unknown } | undefined)?.arguments, error: err });
        throw Object.assign(err as object, { rpcId: m.id });
      }
      admitted.add(m.id);
    }
  }

  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/readyz", (ctx) => {
    ctx.body = { status: "ready", tools: gateway.registry.tools.length, sessions: sessions.size };
  });
  router.get("/metrics", metricsHandler(gateway.deps.metrics));

  router.all("/mcp", async (ctx) => {
    if (!hostAllowed(config.allowedHosts, ctx.get("host") || undefined)) {
      return answer(ctx, new GatewayError("forbidden", "Host header not allowed (DNS rebinding protection); add it to http.allowedHosts"));
    }
    if (!originAllowed(config.allowedOrigins, ctx.get("origin") || undefined)) {
      return answer(ctx, new GatewayError("forbidden", "Origin not allowed (DNS rebinding protection); add it to http.allowedOrigins"));
    }
    if (!["POST", "GET", "DELETE"].includes(ctx.method)) {
      ctx.status = 405;
      ctx.set("Allow", "GET, POST, DELETE");
      ctx.body = { jsonrpc: "2.0", id: null, error: { code: -32000, message: `Method ${ctx.method} is not allowed on /mcp` } };
      return;
    }

    let credential: string | undefined;
    let principal: Principal;
    try {
      credential = bearer(ctx.get("authorization") || undefined);
      principal = await gateway.authenticate(credential);
    } catch (err) {
      // audit: refused before the chain, so recorded here (exactly one record per refused request).
      await gateway.deps.audit.recordRefusal({ requestId: randomUUID(), transport: "http", sessionId: ctx.get("mcp-session-id") || undefined, request: `${ctx.method} /mcp`, error: err });
      return answer(ctx, err);
    }

    let body: unknown;
    if (ctx.method === "POST") {
      try {
        const text = await readBody(ctx.req, config.maxBodyBytes);
        body = JSON.parse(text);
      } catch (err) {
        if (err instanceof GatewayError) return answer(ctx, err);
        ctx.status = 400;
        ctx.body = { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error: the body is not valid JSON" } };
        return;
      }
    }
    const messages: JsonRpcMessage[] = Array.isArray(body) ? body : body && typeof body === "object" ? [body as JsonRpcMessage] : [];
    const params = Object.fromEntries(Object.entries(ctx.query).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v ?? "")]));
    try {
      surfaceSettings(gateway.deps.config.surface, params); // surface: reject a bad ?mode= / ?profile= with 400 up front
    } catch (err) {
      return answer(ctx, err);
    }

    if (config.stateless) {
      if (ctx.method !== "POST") {
        ctx.status = 405;
        ctx.set("Allow", "POST");
        ctx.body = { jsonrpc: "2.0", id: null, error: { code: -32000, message: "This gateway runs stateless: only POST is supported" } };
        return;
      }
      // Without a session nothing can arrive later, so a POST that asked for no progress is answered
      // as one plain JSON body, by a server kept from an earlier request.
      const direct = wantsProgress(messages) ? undefined : directMessages(ctx.req, body);
      if (direct) {
        const pooled = takeStatelessServer(principal, credential, params);
        try {
          await admitCalls(principal, messages, pooled.binding.admitted);
        } catch (err) {
          releaseStatelessServer(pooled);
          return answer(ctx, err, (err as { rpcId?: string | number }).rpcId ?? null);
        }
        ctx.respond = false;
        pooled.transport.answer(ctx.req, ctx.res, direct, () => releaseStatelessServer(pooled));
        return;
      }
      const binding = httpBinding(principal, credential, params);
      try {
        await admitCalls(principal, messages, binding.admitted);
      } catch (err) {
        return answer(ctx, err, (err as { rpcId?: string | number }).rpcId ?? null);
      }
      const server = createMcpServer(gateway, binding);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !wantsProgress(messages) });
      await server.connect(transport);
      ctx.respond = false;
      ctx.res.on("close", () => {
        void transport.close().catch(() => undefined);
        void server.close().catch(() => undefined);
      });
      await transport.handleRequest(ctx.req, ctx.res, body);
      return;
    }

    const sessionId = ctx.get("mcp-session-id") || undefined;
    let live: LiveSession | undefined;
    if (sessionId) {
      live = sessions.get(sessionId);
      // Another token's session answers exactly like an unknown one: nothing to learn by probing.
      if (!live || live.tokenId !== principal.tokenId) {
        return answer(ctx, new GatewayError("not_found", "Session not found: initialize a new session"));
      }
      live.binding.principal = principal;
      live.binding.credential = credential;
    } else if (ctx.method === "POST" && messages.some((m) => m.method === "initialize")) {
      if (sessions.size >= config.maxSessions) {
        return answer(ctx, new GatewayError("unavailable", "Too many open sessions; retry later", { retryAfterSeconds: 5 }));
      }
      live = await openSession(principal, credential, params);
    } else {
      return answer(ctx, new GatewayError("bad_request", "Mcp-Session-Id header is required (initialize first)"));
    }

    try {
      await admitCalls(principal, messages, live.binding.admitted);
    } catch (err) {
      return answer(ctx, err, (err as { rpcId?: string | number }).rpcId ?? null);
    }

    const current = live;
    current.inflight++;
    current.lastSeen = Date.now();
    ctx.respond = false;
    ctx.res.on("close", () => {
      current.inflight--;
      current.lastSeen = Date.now();
      // An initialize the SDK refused never became a session: release its server.
      if (current.id === "") void current.transport.close().then(() => current.server.close()).catch(() => undefined);
    });
    const direct = current.id !== "" && ctx.method === "POST" && !needsStream(current.binding, current.server, messages) ? directMessages(ctx.req, body) : undefined;
    if (direct) {
      current.transport.answer(ctx.req, ctx.res, direct);
      return;
    }
    try {
      await current.sdk.handleRequest(ctx.req, ctx.res, body);
    } catch (err) {
      log.error({ err }, "streamable HTTP transport failed");
      if (!ctx.res.headersSent) {
        ctx.res.statusCode = 500;
        ctx.res.end();
      }
    }
  });

  app.on("error", (err: unknown) => log.warn({ err }, "http error"));
  // console: the people's console under /console (src/console), before the gateway's routes.
  if (gateway.deps.config.console?.enabled !== false) app.use(createConsole(gateway).middleware);
  app.use(router.routes());
  app.use(router.allowedMethods());

  return {
    app,
    router,
    sessions,
    async closeSessions() {
      clearInterval(reaper);
      closing = true;
      await Promise.all(statelessPool.splice(0).map((p) => p.server.close().catch(() => undefined)));
      await Promise.all([...sessions.values()].map(endSession));
    },
  };
}

/** Starts the HTTP gateway; port 0 picks a free port. */
export async function startHttpServer(gateway: Gateway, options: { port?: number; host?: string } = {}): Promise<HttpHandle> {
  const { app, sessions, closeSessions } = createHttpApp(gateway);
  const host = options.host ?? gateway.deps.config.http.host;
  const port = options.port ?? gateway.deps.config.http.port;
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const actual = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${actual}/mcp`,
    port: actual,
    server,
    sessionCount: () => sessions.size,
    async notifyToolsChanged() {
      await Promise.all([...sessions.values()].map((s) => s.server.sendToolListChanged().catch(() => undefined)));
    },
    async close() {
      await closeSessions();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
