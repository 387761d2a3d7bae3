/**
 * The distributed mode in one place: opens the Redis connection from the config and builds every
 * store on it (tokens + revocations, pending actions, audit stream, rate limits with their
 * in-memory insurance). The composition root swaps these in for the embedded stores when
 * REDIS_URL is set; the CLI uses `openRedisTokenStore` and `openRedisAuditStream`.
 */
import type { Config } from "../../config.js";
import { GatewayError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { AuditSink } from "../audit-sink.js";
import type { PendingAction, PendingActionStore } from "../pending-actions/contract.js";
import type { PendingQuotas } from "../pending-actions/quotas.js";
import { createRateLimits, type RateLimits } from "../rate-limits.js";
import type { TokenStore } from "../token-store.js";
import { createRedisAuditStream, type RedisAuditStream } from "./audit-stream.js";
import { createRedisPendingActions } from "./pending-actions.js";
import { createRedisTaskStore } from "./tasks.js";
import type { TaskStore } from "../tasks.js";
import { createRedisConnection, unavailable, type RedisConnection } from "./redis-client.js";
import { createRevocations } from "./revocations.js";
import { createRedisTokenStore } from "./token-store.js";
import { createRedisApprovalStore } from "../../approvals/redis-store.js";
import type { ApprovalStore } from "../../approvals/store.js";

/** How long start-up waits for Redis before serving degraded (reads from nothing cached fail until it answers). */
const STARTUP_WAIT_MS = 5000;

/** What the metrics module records about the distributed mode. */
export interface RedisMetricsSink {
  trackRedis(up: () => boolean): void;
  insuranceLimiterUsed(): void;
}

/** Every store of the distributed mode, on one connection. */
export interface RedisStores {
  readonly connection: RedisConnection;
  readonly tokens: TokenStore;
  readonly pendingActions: PendingActionStore;
  /** Tasks (the MCP tasks extension): readable and cancellable from every replica. */
  readonly tasks: TaskStore;
  readonly approvals: ApprovalStore;
  readonly auditSink: AuditSink;
  readonly rateLimits: RateLimits;
  /** Whether Redis answers right now. */
  isUp(): boolean;
  /** Throws GatewayError("unavailable") (→ 503 + Retry-After) while Redis is down: writes fail closed. */
  assertWritable(): void;
  /** Exports `countersign_redis_up` and the insurance-limiter counter. */
  instrument(metrics: RedisMetricsSink): void;
  close(): Promise<void>;
}

/** Options beyond the config. */
export interface RedisStoresOptions {
  readonly log: Logger;
  readonly now?: () => number;
  readonly onExpired?: (action: PendingAction) => void;
  /** Caps on pending actions (open per token, one action's size, the store's bytes); defaults when absent. */
  readonly pendingQuotas?: PendingQuotas;
}

function connect(config: Pick<Config, "redis">, log?: Logger): RedisConnection {
  const url = config.redis.url;
  if (!url) throw new GatewayError("internal", "the distributed mode needs REDIS_URL", { expose: true });
  let seenUp = false;
  return createRedisConnection({
    url,
    keyPrefix: config.redis.keyPrefix,
    onStatus: (up, detail) => {
      // Logged once per transition, not per failed reconnect.
      if (up && !seenUp) log?.info({ redis: "up", keyPrefix: config.redis.keyPrefix }, "redis: connected (distributed mode)");
      else if (up) log?.info({ redis: "up" }, "redis: connected again; writes and exact rate limits are back");
      else log?.warn({ redis: "down", detail }, "redis: unreachable; writes fail with 503, reads continue on cached tokens and per-replica insurance rate limits");
      seenUp ||= up;
    },
  });
}

/** Opens the Redis stores of a gateway (waits up to 5 s for Redis, then starts degraded and keeps reconnecting). */
export async function openRedisStores(config: Pick<Config, "redis" | "rateLimits" | "audit" | "upstream">, options: RedisStoresOptions): Promise<RedisStores> {
  const { log } = options;
  const connection = connect(config, log);
  if (!(await connection.ready(STARTUP_WAIT_MS))) {
    log.warn({ redis: "down" }, "redis: not reachable at start-up; serving degraded until it answers");
  }
  const revocations = createRevocations(connection);
  const tokens = createRedisTokenStore({ connection, revocations });
  let lastPending = 0;
  // An action whose gateway died mid-execution is reported unknown once the upstream call could no
  // longer be running (as the file store does at once), not after ten minutes.
  const pending = createRedisPendingActions({ connection, now: options.now, onExpired: options.onExpired, quotas: options.pendingQuotas, executingTimeoutMs: config.upstream.timeoutMs + 30_000 });
  // The pending-actions gauge is read at scrape time; a scrape during an outage shows the last count.
  const pendingActions: PendingActionStore = {
    ...pending,
    async countPending() {
      try {
        lastPending = await pending.countPending();
      } catch {
        // keep the last known value
      }
      return lastPending;
    },
  };
  const auditSink = createRedisAuditStream({
    connection,
    bufferRecords: config.audit.bufferRecords,
    // Inside the gateway's 5 s shutdown budget, leaving room for the connection's own close.
    closeTimeoutMs: 3_500,
    onError: (err) => log.error({ err }, "audit: writing to the Redis stream failed; records stay queued"),
  });
  let insurance: (() => void) | undefined;
  const limits = createRateLimits({ ...config.rateLimits, storeClient: connection.client, keyPrefix: `${connection.prefix}rl` });
  const rateLimits: RateLimits = {
    windowSeconds: limits.windowSeconds,
    limitsOf: (tier) => limits.limitsOf(tier),
    consume(bucket, tokenId, tier, upstream) {
      // rate-limiter-flexible falls back to its in-memory insurance limiter on any Redis error;
      // counted here so the degradation shows on /metrics.
      if (!connection.isUp()) insurance?.();
      return limits.consume(bucket, tokenId, tier, upstream);
    },
  };

  return {
    connection,
    tokens,
    pendingActions,
    tasks: createRedisTaskStore(connection, options.now),
    approvals: createRedisApprovalStore(connection, options.now),
    auditSink,
    rateLimits,
    isUp: () => connection.isUp(),
    assertWritable() {
      if (!connection.isUp()) throw unavailable(connection.retryAfterSeconds);
    },
    instrument(metrics) {
      metrics.trackRedis(() => connection.isUp());
      insurance = () => metrics.insuranceLimiterUsed();
    },
    async close() {
      await pendingActions.close();
      await tokens.close();
      await revocations.close();
      await connection.close();
    },
  };
}

/** The token store for `countersign tokens` with REDIS_URL: no cache, revocations published; close() disconnects. */
export async function openRedisTokenStore(config: Pick<Config, "redis">): Promise<TokenStore> {
  const connection = await connectForCli(config);
  const store = createRedisTokenStore({ connection, revocations: createRevocations(connection), cache: false });
  return {
    ...store,
    async close() {
      await store.close();
      await connection.close();
    },
  };
}

/** The audit stream for `countersign audit` with REDIS_URL (read-only use); close() disconnects. */
export async function openRedisAuditStream(config: Pick<Config, "redis">): Promise<RedisAuditStream> {
  const connection = await connectForCli(config);
  const sink = createRedisAuditStream({ connection });
  return {
    ...sink,
    async close() {
      await sink.close();
      await connection.close();
    },
  };
}

async function connectForCli(config: Pick<Config, "redis">): Promise<RedisConnection> {
  const connection = connect(config);
  if (!(await connection.ready(STARTUP_WAIT_MS))) {
    await connection.close();
    throw new GatewayError("unavailable", `cannot reach Redis at REDIS_URL within ${STARTUP_WAIT_MS / 1000} s`);
  }
  return connection;
}

/** Meta-tools that write pending-action state in Redis. */
const WRITING_META_TOOLS = new Set(["confirm_action", "cancel_action"]);

/** Admission's check before a tool's point is taken: writes and confirms fail closed while Redis is down. */
export function writeGuard(stores: Pick<RedisStores, "assertWritable">, isWriteTool: (name: string) => boolean): (toolName: string) => void {
  return function failClosedWhileRedisDown(toolName) {
    if (WRITING_META_TOOLS.has(toolName) || isWriteTool(toolName)) stores.assertWritable();
  };
}
