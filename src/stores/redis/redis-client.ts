/**
 * The ioredis connection of the distributed mode: built from REDIS_URL (one server, Cluster or
 * Sentinel; see redis-url.ts for the accepted forms), with prefixed key names so several
 * gateways can share one Redis.
 *
 * Commands never wait for a connection that is down: the offline queue is off and every command
 * has a timeout, so a call fails fast with GatewayError("unavailable") (HTTP 503 + Retry-After)
 * while ioredis keeps reconnecting in the background; everything recovers by itself.
 */
import { Cluster, Redis, ReplyError, type ClusterOptions, type RedisOptions } from "ioredis";
import { GatewayError } from "../../errors.js";
import { parseRedisUrl, type RedisTarget } from "./redis-url.js";

/** A command client: one server (or a Sentinel-managed master) or a cluster. */
export type RedisClient = Redis | Cluster;

/** Options of the connection. */
export interface RedisConnectionOptions {
  readonly url: string;
  /** Prepended to every key and channel (default `countersign:`). */
  readonly keyPrefix?: string;
  /** Per-command timeout in ms (default 2000). */
  readonly commandTimeoutMs?: number;
  /** Seconds a client is told to wait before retrying while Redis is down (default 2). */
  readonly retryAfterSeconds?: number;
  /** Told when the command connection goes up or down. */
  readonly onStatus?: (up: boolean, detail: string) => void;
  /** How often an idle-looking connection is PINGed to notice a Redis that stopped answering (default 1000 ms; 0 = never). */
  readonly healthCheckMs?: number;
  /** How long `close` waits for Redis to acknowledge QUIT before dropping the sockets (default 500 ms). */
  readonly closeTimeoutMs?: number;
}

/** A connection plus the naming and health helpers the Redis stores share. */
export interface RedisConnection {
  readonly client: RedisClient;
  readonly prefix: string;
  readonly retryAfterSeconds: number;
  /**
   * A key in the `group` hash slot: `<prefix>{group}:<parts>`. Keys one script touches share a
   * group, so multi-key scripts also work on Redis Cluster.
   */
  key(group: string, ...parts: string[]): string;
  /** A pub/sub channel name. */
  channel(name: string): string;
  /** Whether the command connection is ready right now. */
  isUp(): boolean;
  /** Resolves true once ready, false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  /** A separate connection for SUBSCRIBE (a subscribed connection can run nothing else); re-subscribes on reconnect. */
  createSubscriber(): RedisClient;
  /** Runs a command, mapping connection trouble to GatewayError("unavailable"). */
  guard<T>(run: () => Promise<T>): Promise<T>;
  /**
   * Closes this connection and every subscriber made from it: one QUIT each, all at once, bounded
   * by `closeTimeoutMs`, then the sockets are dropped. Resolves with nothing of ioredis left to keep
   * the process alive, whether Redis answers, hangs or was never reached.
   */
  close(): Promise<void>;
}

/** A Lua script bound to a client: runs by EVALSHA, loading itself once when Redis lacks it. */
export type Script = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/** Defines a Lua script on the client (ioredis caches the SHA and falls back to EVAL after a restart). */
export function defineScript(client: RedisClient, name: string, numberOfKeys: number, lua: string): Script {
  client.defineCommand(name, { numberOfKeys, lua });
  const command = (client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[name]!;
  return (keys, args) => {
    if (keys.length !== numberOfKeys) throw new Error(`script ${name} takes ${numberOfKeys} keys, got ${keys.length}`);
    return command.call(client, ...keys, ...args);
  };
}

/** The default key prefix. */
export const DEFAULT_KEY_PREFIX = "countersign:";

/** Reply errors that mean "Redis can't serve right now", as opposed to a bug in a command. */
const TRANSIENT_REPLY = /^(LOADING|READONLY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|BUSY|NOREPLICAS)\b/;

/** Whether an error from ioredis means Redis is unreachable or temporarily unable to serve. */
export function isUnavailableError(err: unknown): boolean {
  if (err instanceof ReplyError) return TRANSIENT_REPLY.test((err as Error).message);
  if (!(err instanceof Error)) return false;
  // Connection closed, offline queue off, command timeout, retries exhausted, socket errors.
  return /Connection is closed|Stream isn't writeable|Command timed out|MaxRetriesPerRequest|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|Cluster isn't ready|None of startup nodes is available|Failed to refresh slots cache|All sentinels are unreachable/i.test(err.message) || err.name === "MaxRetriesPerRequestError";
}

/** The GatewayError a caller sees while Redis is down. */
export function unavailable(retryAfterSeconds: number, cause?: unknown): GatewayError {
  return new GatewayError("unavailable", "The gateway's shared store (Redis) is temporarily unavailable; nothing was changed. Retry shortly.", {
    retryAfterSeconds,
    details: { reason: "redis_unavailable" },
    ...(cause === undefined ? {} : { cause }),
  });
}

function commonOptions(timeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    // After disconnect(), how long ioredis waits for the socket to close before destroying it.
    // Its default (2 s) holds a shutting-down process, and ioredis also arms that timer for a
    // socket that already failed to connect, whose close it will never see.
    disconnectTimeout: 100,
    enableReadyCheck: true,
    // Reconnect forever, at most a second apart, so recovery is quick once Redis is back.
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    reconnectOnError: (err: Error) => /READONLY/.test(err.message),
  };
}

function build(target: RedisTarget, options: RedisOptions): RedisClient {
  switch (target.kind) {
    case "standalone":
      return new Redis(target.url, options);
    case "sentinel":
      return new Redis({
        ...options,
        sentinels: target.sentinels.map((n) => ({ host: n.host, port: n.port })),
        name: target.name,
        db: target.db,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
        ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
        sentinelRetryStrategy: (times: number) => Math.min(100 * times, 1000),
      });
    case "cluster": {
      const redisOptions: RedisOptions = {
        ...options,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.tls ? { tls: {} } : {}),
      };
      const clusterOptions: ClusterOptions = {
        redisOptions,
        enableOfflineQueue: options.enableOfflineQueue,
        enableReadyCheck: true,
        maxRedirections: 16,
        clusterRetryStrategy: (times: number) => Math.min(100 * times, 1000),
      };
      return new Cluster(target.nodes.map((n) => ({ host: n.host, port: n.port })), clusterOptions);
    }
  }
}

/** A polite QUIT when the connection is up, never waiting longer than `ms` for it; then a hard disconnect. */
async function closeOne(c: RedisClient, ms: number): Promise<void> {
  if (c.status === "end") return;
  if (c.status === "ready") {
    let timer: NodeJS.Timeout | undefined;
    const quit = c.quit().then(() => true, () => false);
    const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    const polite = await Promise.race([quit, timedOut]);
    clearTimeout(timer);
    if (polite) return;
  }
  // Stops reconnecting too; a stream that hangs on is destroyed after `disconnectTimeout`.
  c.disconnect();
}

/** Opens the connection (it connects in the background; use `ready()` to wait). Throws on a bad URL. */
export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  const parsed = parseRedisUrl(options.url);
  if (!parsed.ok) throw new GatewayError("bad_request", `config redis.url (REDIS_URL) ${parsed.error}`);
  const target = parsed.target;
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const timeoutMs = options.commandTimeoutMs ?? 2000;
  const retryAfterSeconds = options.retryAfterSeconds ?? 2;
  const closeTimeoutMs = options.closeTimeoutMs ?? 500;
  const client = build(target, commonOptions(timeoutMs));
  const subscribers = new Set<RedisClient>();
  let up = false;

  function report(next: boolean, detail: string): void {
    if (next === up) return;
    up = next;
    options.onStatus?.(next, detail);
  }
  client.on("ready", () => report(true, "ready"));
  client.on("close", () => report(false, "connection closed"));
  client.on("end", () => report(false, "connection ended"));
  // Without a listener ioredis prints every failed reconnect; the status callback says it once.
  client.on("error", (err: Error) => {
    if (client.status !== "ready") report(false, err.message);
  });

  // A Redis that hangs (frozen process, network partition without a reset) leaves the socket
  // "ready" while every command times out. Two missed PINGs in a row drop the connection, so
  // writes fail fast as unavailable and ioredis reconnects as it does after a clean close.
  const healthMs = options.healthCheckMs ?? 1000;
  let missed = 0;
  let pinging = false;
  const health = healthMs > 0 ? setInterval(() => {
    if (pinging || client.status !== "ready") return;
    pinging = true;
    const timer = new Promise<false>((r) => setTimeout(() => r(false), Math.min(timeoutMs, healthMs * 2)).unref());
    void Promise.race([client.ping().then(() => true, () => false), timer]).then((ok) => {
      pinging = false;
      missed = ok ? 0 : missed + 1;
      if (missed >= 2 && client.status === "ready") {
        missed = 0;
        report(false, "redis stopped answering PING");
        client.disconnect(true);
      }
    });
  }, healthMs) : undefined;
  health?.unref();

  return {
    client,
    prefix,
    retryAfterSeconds,
    key(group, ...parts) {
      return `${prefix}{${group}}${parts.length > 0 ? ":" + parts.join(":") : ""}`;
    },
    channel(name) {
      return `${prefix}${name}`;
    },
    isUp() {
      return client.status === "ready";
    },
    ready(waitMs) {
      if (client.status === "ready") return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ok: boolean) => {
          clearTimeout(timer);
          client.off("ready", onReady);
          resolve(ok);
        };
        const onReady = () => done(true);
        const timer = setTimeout(() => done(false), waitMs);
        client.on("ready", onReady);
      });
    },
    createSubscriber() {
      // Subscriptions may queue while disconnected: ioredis sends them (and re-subscribes) on connect.
      const sub = build(target, { ...commonOptions(timeoutMs), enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, autoResubscribe: true });
      sub.on("error", () => undefined);
      subscribers.add(sub);
      return sub;
    },
    async guard(run) {
      try {
        return await run();
      } catch (err) {
        if (err instanceof GatewayError) throw err;
        if (isUnavailableError(err) || client.status !== "ready") throw unavailable(retryAfterSeconds, err);
        throw err;
      }
    },
    async close() {
      if (health) clearInterval(health);
      const all = [...subscribers, client];
      subscribers.clear();
      await Promise.all(all.map((c) => closeOne(c, closeTimeoutMs)));
    },
  };
}
