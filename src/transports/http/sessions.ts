/**
 * Stateful sessions over HTTP (one SDK server and transport each, bound to the token that opened
 * it) and the pool of servers that answer stateless requests. Each token gets a share of the
 * session cap, so one token can never lock the others out.
 */
import { randomUUID } from "node:crypto";
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import type { Server } from "@modelcontextprotocol/server";
import type { Principal } from "../../context.js";
import { GatewayError } from "../../errors.js";
import type { Gateway } from "../../gateway.js";
import { createMcpServer, laneOf, type SessionBinding } from "../../mcp/server.js";
import { createEventStore } from "../event-store.js";
import { SessionTransport } from "../session-transport.js";

/** One live stateful session. */
export interface LiveSession {
  /** Empty until the SDK has accepted the initialize request. */
  id: string;
  readonly tokenId: string;
  readonly binding: SessionBinding;
  readonly server: Server;
  /** What the server is connected to: answers plain POSTs itself, the rest through `sdk`. */
  readonly transport: SessionTransport;
  readonly sdk: NodeStreamableHTTPServerTransport;
  lastSeen: number;
  /** Open HTTP exchanges (an open GET stream counts): such a session is never reaped as idle. */
  inflight: number;
}

/** A stateless request's server, reused by later requests. */
export interface PooledServer {
  readonly server: Server;
  readonly transport: SessionTransport;
  readonly binding: { -readonly [K in keyof SessionBinding]: SessionBinding[K] };
}

/** Idle stateless servers kept for reuse. */
const STATELESS_POOL = 64;

/** The sessions each token may hold: a quarter of the cap, at least 8 (never more than the cap). */
export function tokenShare(maxSessions: number): number {
  return Math.min(maxSessions, Math.max(8, Math.floor(maxSessions / 4)));
}

/** The state of one HTTP session (or one stateless request), fresh. */
function httpBinding(principal: Principal, params: Record<string, string>): SessionBinding {
  return { transport: "http", principal, params, enabledModules: new Set() };
}

/** The sessions of one HTTP gateway. */
export function createSessions(gateway: Gateway) {
  const config = gateway.deps.config.http;
  const live = new Map<string, LiveSession>();
  const byToken = new Map<string, Set<LiveSession>>();
  gateway.deps.metrics.setSessions(() => live.size, "http");
  const share = tokenShare(config.maxSessions);

  function forget(s: LiveSession): boolean {
    byToken.get(s.tokenId)?.delete(s);
    if (byToken.get(s.tokenId)?.size === 0) byToken.delete(s.tokenId);
    return live.delete(s.id);
  }

  async function end(s: LiveSession): Promise<void> {
    if (!forget(s)) return;
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  }

  const reaper = setInterval(() => {
    const cutoff = Date.now() - config.sessionIdleMs;
    for (const s of live.values()) if (s.inflight === 0 && s.lastSeen < cutoff) void end(s);
  }, Math.max(250, Math.min(60_000, Math.floor(config.sessionIdleMs / 2))));
  reaper.unref();

  /** Makes room for one more session of `tokenId`: closes its own oldest idle session when it must. */
  async function makeRoom(tokenId: string): Promise<void> {
    const own = byToken.get(tokenId) ?? new Set<LiveSession>();
    if (own.size < share && live.size < config.maxSessions) return;
    const idle = [...own].filter((s) => s.inflight === 0).sort((a, b) => a.lastSeen - b.lastSeen)[0];
    if (idle) {
      await end(idle);
      if (live.size < config.maxSessions) return;
    }
    const why = own.size >= share ? `this token already holds ${own.size} open sessions (its share is ${share})` : "too many open sessions";
    throw new GatewayError("unavailable", `Cannot open a session: ${why}; close one (DELETE /mcp) or retry later`, { retryAfterSeconds: 5, details: { share, open: own.size } });
  }

  /** A new stateful session: its own SDK server and transport, bound to the token that created it. */
  async function open(principal: Principal, params: Record<string, string>): Promise<LiveSession> {
    await makeRoom(principal.tokenId);
    const binding = httpBinding(principal, params);
    const server = createMcpServer(gateway, binding);
    const sdk: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Resumable streams cost a priming write per POST; they are only needed to switch long calls to polling.
      ...(config.pollAfterMs > 0 ? { eventStore: createEventStore(), retryInterval: config.sseRetryMs } : {}),
      onsessioninitialized: (id) => {
        session.id = id;
        live.set(id, session);
        let own = byToken.get(session.tokenId);
        if (!own) byToken.set(session.tokenId, (own = new Set()));
        own.add(session);
      },
      onsessionclosed: (id) => {
        const s = live.get(id);
        if (s) void end(s);
      },
    });
    const transport = new SessionTransport(sdk);
    transport.lane = laneOf(server);
    const session: LiveSession = { id: "", tokenId: principal.tokenId, binding, server, transport, sdk, lastSeen: Date.now(), inflight: 0 };
    transport.onclose = () => {
      if (session.id) forget(session);
    };
    await server.connect(transport);
    return session;
  }

  /** The session `id` of `principal`'s token; another token's answers exactly like an unknown one. */
  function get(id: string, principal: Principal): LiveSession {
    const s = live.get(id);
    if (!s || s.tokenId !== principal.tokenId) throw new GatewayError("session_not_found", "Session not found: initialize a new session");
    s.binding.principal = principal;
    return s;
  }

  /**
   * Servers for stateless requests answered directly: a request takes one (its binding set to the
   * request's token and parameters) and gives it back once answered, so no request pays for
   * building and closing an SDK server.
   */
  const pool: PooledServer[] = [];
  let closing = false;

  function takeStateless(principal: Principal, params: Record<string, string>): PooledServer {
    let pooled = pool.pop();
    if (!pooled) {
      const binding: PooledServer["binding"] = httpBinding(principal, params);
      const server = createMcpServer(gateway, binding);
      const transport = new SessionTransport();
      transport.lane = laneOf(server);
      // Connecting to a SessionTransport without an SDK transport behind it completes at once.
      void server.connect(transport);
      pooled = { server, transport, binding };
    }
    const b = pooled.binding;
    b.principal = principal;
    b.params = params;
    b.logLevel = undefined;
    b.enabledModules.clear();
    return pooled;
  }

  function releaseStateless(pooled: PooledServer): void {
    if (!closing && pool.length < STATELESS_POOL) pool.push(pooled);
    else void pooled.server.close().catch(() => undefined);
  }

  return {
    live,
    open,
    get,
    end,
    binding: httpBinding,
    takeStateless,
    releaseStateless,
    async close(): Promise<void> {
      clearInterval(reaper);
      closing = true;
      await Promise.all(pool.splice(0).map((p) => p.server.close().catch(() => undefined)));
      await Promise.all([...live.values()].map(end));
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
