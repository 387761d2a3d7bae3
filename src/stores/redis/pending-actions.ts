/**
 * Pending actions in Redis, so an action previewed on one replica can be confirmed on any other,
 * exactly once.
 *
 * One hash per action (`<prefix>{pa}:a:<id>`: the immutable document as JSON, plus `state`,
 * `outcome`, `settledAt`, `bytes`) with a TTL of its expiry plus the retention period; a sorted set
 * of pending ids per token by expiry (for `list` and the per-token quota) and one of all pending
 * ids by expiry (for the gauge and the expiry sweep); the bytes of each open action in a hash and
 * their sum in a counter (for the store's byte quota). Every state change is one Lua script, so a
 * claim is atomic across replicas, and so is the quota check with the create it admits. All keys
 * share the `{pa}` hash tag, so the scripts also run on Redis Cluster.
 */
import type { ActionOutcome, ActionState, ClaimResult, NewPendingAction, PendingAction, PendingActionStore } from "../pending-actions/contract.js";
import { tombstone } from "../pending-actions/settled.js";
import { checkActionSize, openLimitOf, quotaExceeded, resolveQuotas, type PendingQuotas } from "../pending-actions/quotas.js";
import { defineScript, type RedisConnection } from "./redis-client.js";

/** Options of the Redis pending-action store. */
export interface RedisPendingActionsOptions {
  readonly connection: RedisConnection;
  /** Clock in epoch milliseconds. */
  readonly now?: () => number;
  /** How long settled and expired actions are kept so repeated confirms get a clear answer (default 24 h). */
  readonly retainSeconds?: number;
  /**
   * An action still `executing` after this long was cut off (its replica stopped mid-call): it is
   * reported as `unknown` and never re-run (default 10 min, well past the upstream timeout).
   */
  readonly executingTimeoutMs?: number;
  /** Told once, on exactly one replica, for each action that expires unconfirmed. */
  readonly onExpired?: (action: PendingAction) => void;
  /** How often expired actions are looked for, in ms (default 30 s; 0 turns the sweep off). */
  readonly sweepIntervalMs?: number;
  /** How long `complete`/`release` keep retrying while Redis is down, so an outcome is not lost (default 15 s). */
  readonly settleRetryMs?: number;
  /** `waitForSettled` polling interval cap in ms (default 200). */
  readonly pollMaxMs?: number;
  /** Caps on open actions per token, one action's size and the whole store's bytes (see pending-actions/quotas.ts). */
  readonly quotas?: PendingQuotas;
}

// Takes an action out of the byte quota's count. KEYS[4] open bytes by id, KEYS[5] their sum; ARGV[3] action id.
const UNCOUNT = `
local function uncount()
  local b = redis.call('HGET', KEYS[4], ARGV[3])
  if b then
    redis.call('HDEL', KEYS[4], ARGV[3])
    redis.call('DECRBY', KEYS[5], b)
  end
end
`;

// Shared Lua preamble: reads the action, applies the clock (pending past expiry → expired;
// executing past the timeout → unknown). KEYS[1] action, KEYS[2] pending index, KEYS[3] token set,
// KEYS[4] open bytes by id, KEYS[5] their sum; ARGV[1] token id ('' = any), ARGV[2] now, ARGV[3]
// action id, ARGV[4] executing timeout ms.
const PREAMBLE = `${UNCOUNT}
local k = KEYS[1]
local f = redis.call('HMGET', k, 'tokenId', 'state', 'expiresAt', 'settledAt')
if not f[1] or (ARGV[1] ~= '' and f[1] ~= ARGV[1]) then return {'not_found', 0} end
local now = tonumber(ARGV[2])
local state = f[2]
local expired = 0
if state == 'pending' and now >= tonumber(f[3]) then
  state = 'expired'
  expired = 1
  redis.call('HSET', k, 'state', 'expired', 'settledAt', f[3])
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[3])
  uncount()
elseif state == 'executing' and tonumber(ARGV[4]) > 0 and now - tonumber(f[4] or '0') >= tonumber(ARGV[4]) then
  state = 'unknown'
  redis.call('HSET', k, 'state', 'unknown')
end
`;

/** pending → executing (ARGV[5] = TTL ms to keep a claimed action). */
const CLAIM = `${PREAMBLE}
if state ~= 'pending' then return {state, expired, redis.call('HGETALL', k)} end
redis.call('HSET', k, 'state', 'executing', 'settledAt', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[3])
uncount()
redis.call('PEXPIRE', k, ARGV[5])
return {'claimed', 0, redis.call('HGETALL', k)}
`;

/** pending → cancelled (ARGV[5] = retention ms). */
const CANCEL = `${PREAMBLE}
if state ~= 'pending' then return {state, expired, redis.call('HGETALL', k)} end
redis.call('HSET', k, 'state', 'cancelled', 'settledAt', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[3])
uncount()
redis.call('PEXPIRE', k, ARGV[5])
return {'cancelled', 0, redis.call('HGETALL', k)}
`;

/** Applies the clock only (used by get, list and the sweep). */
const OBSERVE = `${PREAMBLE}
return {state, expired, redis.call('HGETALL', k)}
`;

/**
 * Checks the quotas and creates, in one step: of any number of replicas creating for one token at
 * its cap, exactly one passes. The token set is scored by expiry, so the open count leaves out
 * actions past it even before the sweep has seen them.
 * KEYS: action, pending index, token set, open bytes by id, their sum.
 * ARGV: id, json, tokenId, createdAt, expiresAt, ttl ms, now, bytes, open-action cap, store byte cap.
 * Returns {1} created, {0} exists, {-1, open} over the token's cap, {-2, used} over the store's bytes.
 */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
local open = redis.call('ZCOUNT', KEYS[3], '(' .. ARGV[7], '+inf')
if open >= tonumber(ARGV[9]) then return {-1, open} end
local used = tonumber(redis.call('GET', KEYS[5]) or '0')
if used + tonumber(ARGV[8]) > tonumber(ARGV[10]) then return {-2, used} end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'tokenId', ARGV[3], 'state', 'pending', 'createdAt', ARGV[4], 'expiresAt', ARGV[5], 'bytes', ARGV[8])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[6]) then redis.call('PEXPIRE', KEYS[3], ARGV[6]) end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[8])
redis.call('INCRBY', KEYS[5], ARGV[8])
return {1}
`;

/** Replaces a settled action's document with its slim form. KEYS: action. ARGV: slim json. */
const SLIM = `
local s = redis.call('HGET', KEYS[1], 'state')
if not s or s == 'pending' or s == 'executing' then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[1])
return 1
`;

/** Forgets an index entry whose action hash is gone (TTL), with its bytes. KEYS: pending index, open bytes by id, their sum. ARGV: id. */
const DROP = `
redis.call('ZREM', KEYS[1], ARGV[1])
local b = redis.call('HGET', KEYS[2], ARGV[1])
if b then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('DECRBY', KEYS[3], b)
end
return 1
`;

/** executing → done. KEYS: action. ARGV: outcome json, now, retention ms. */
const COMPLETE = `
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'executing' and state ~= 'unknown' then return state or 'missing' end
redis.call('HSET', KEYS[1], 'state', 'done', 'outcome', ARGV[1], 'settledAt', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 'ok'
`;

/** executing → pending (counted in the quotas again). KEYS: action, pending index, token set, open bytes by id, their sum. ARGV: id, now, retention ms. */
const RELEASE = `
local f = redis.call('HMGET', KEYS[1], 'state', 'createdAt', 'expiresAt', 'bytes')
if f[1] ~= 'executing' then return f[1] or 'missing' end
redis.call('HSET', KEYS[1], 'state', 'pending')
redis.call('ZADD', KEYS[2], f[3], ARGV[1])
redis.call('ZADD', KEYS[3], f[3], ARGV[1])
if f[4] and redis.call('HSETNX', KEYS[4], ARGV[1], f[4]) == 1 then redis.call('INCRBY', KEYS[5], f[4]) end
local ttl = tonumber(f[3]) - tonumber(ARGV[2]) + tonumber(ARGV[3])
if ttl < tonumber(ARGV[3]) then ttl = tonumber(ARGV[3]) end
redis.call('PEXPIRE', KEYS[1], ttl)
return 'ok'
`;

type ScriptReply = [string, number, string[]?];

/** Creates the Redis pending-action store. */
export function createRedisPendingActions(options: RedisPendingActionsOptions): PendingActionStore {
  const conn = options.connection;
  const client = conn.client;
  const now = options.now ?? Date.now;
  const retainMs = (options.retainSeconds ?? 86_400) * 1000;
  const executingTimeoutMs = options.executingTimeoutMs ?? 600_000;
  const settleRetryMs = options.settleRetryMs ?? 15_000;
  const pollMaxMs = options.pollMaxMs ?? 200;
  const quotas = resolveQuotas(options.quotas);
  const pendingIndex = conn.key("pa", "pending");
  const openBytes = conn.key("pa", "open-bytes");
  const openBytesSum = conn.key("pa", "open-bytes-sum");
  const actionKey = (id: string) => conn.key("pa", "a", id);
  const tokenSet = (tokenId: string) => conn.key("pa", "tok", tokenId);
  const scripts = {
    create: defineScript(client, "csPaCreate", 5, CREATE),
    claim: defineScript(client, "csPaClaim", 5, CLAIM),
    cancel: defineScript(client, "csPaCancel", 5, CANCEL),
    observe: defineScript(client, "csPaObserve", 5, OBSERVE),
    complete: defineScript(client, "csPaComplete", 1, COMPLETE),
    release: defineScript(client, "csPaRelease", 5, RELEASE),
    drop: defineScript(client, "csPaDrop", 3, DROP),
    slim: defineScript(client, "csPaSlim", 1, SLIM),
  };

  function decode(fields: readonly string[] | undefined): PendingAction | undefined {
    if (!fields || fields.length === 0) return undefined;
    const h: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) h[fields[i]!] = fields[i + 1]!;
    if (h.doc === undefined) return undefined;
    const doc = JSON.parse(h.doc) as NewPendingAction;
    const action: PendingAction = { ...doc, state: h.state as ActionState };
    if (h.outcome !== undefined) action.outcome = JSON.parse(h.outcome) as ActionOutcome;
    if (h.settledAt !== undefined) action.settledAt = Number(h.settledAt);
    return action;
  }

  /**
   * A settled action keeps only what a repeated confirm needs (no arguments, the preview's
   * headline) for its retention period, as in the embedded store. Best effort: the settle itself
   * has happened, and a failure here only leaves the full document until the key expires.
   */
  async function slim(actionId: string, action?: PendingAction): Promise<void> {
    try {
      let a = action;
      if (!a) {
        const doc = await conn.guard(() => client.hget(actionKey(actionId), "doc"));
        if (!doc) return;
        a = { ...(JSON.parse(doc) as NewPendingAction), state: "done" };
      }
      const { state: _state, outcome: _outcome, settledAt: _settledAt, ...doc } = tombstone(a);
      await conn.guard(() => scripts.slim([actionKey(actionId)], [JSON.stringify(doc)]));
    } catch {
      // kept whole until the key expires
    }
  }

  function expiredOnce(reply: ScriptReply): void {
    if (reply[1] !== 1) return;
    const action = decode(reply[2]);
    if (!action) return;
    void slim(action.id, action);
    if (!options.onExpired) return;
    try {
      options.onExpired(action);
    } catch {
      // An observer's failure must not break the store.
    }
  }

  /** Runs a preamble script for one action, firing onExpired when this call expired it. */
  async function transition(
    script: (typeof scripts)["claim"],
    actionId: string,
    tokenId: string,
    owner: string | undefined,
    extra: number,
  ): Promise<ScriptReply> {
    const reply = (await conn.guard(() =>
      script([actionKey(actionId), pendingIndex, tokenSet(owner ?? tokenId), openBytes, openBytesSum], [tokenId, now(), actionId, executingTimeoutMs, extra]),
    )) as ScriptReply;
    expiredOnce(reply);
    return reply;
  }

  /** The owner of an action (needed to name its token set before the script runs). */
  async function ownerOf(actionId: string): Promise<string | undefined> {
    const owner = await conn.guard(() => client.hget(actionKey(actionId), "tokenId"));
    return owner ?? undefined;
  }

  function toClaimResult(reply: ScriptReply): ClaimResult {
    const kind = reply[0];
    if (kind === "not_found") return { kind: "not_found" };
    const action = decode(reply[2]);
    if (!action) return { kind: "not_found" };
    return { kind: kind as Exclude<ClaimResult["kind"], "not_found">, action };
  }

  /** Retries a settling write while Redis is unavailable: the upstream already answered, so its outcome must land. */
  async function settleWithRetry(run: () => Promise<unknown>): Promise<unknown> {
    const deadline = Date.now() + settleRetryMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await conn.guard(run);
      } catch (err) {
        if ((err as { code?: string }).code !== "unavailable" || Date.now() + delay > deadline) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async function get(actionId: string): Promise<PendingAction | undefined> {
    const owner = await ownerOf(actionId);
    if (owner === undefined) return undefined;
    return decode((await transition(scripts.observe, actionId, owner, owner, 0))[2]);
  }

  async function sweep(): Promise<number> {
    const due = await conn.guard(() => client.zrangebyscore(pendingIndex, "-inf", now(), "LIMIT", 0, 500));
    let n = 0;
    for (const id of due) {
      const owner = await ownerOf(id);
      if (owner === undefined) {
        // The hash is gone (TTL): drop the dangling index entry and its bytes.
        await conn.guard(() => scripts.drop([pendingIndex, openBytes, openBytesSum], [id]));
        continue;
      }
      const reply = await transition(scripts.observe, id, owner, owner, 0);
      if (reply[1] === 1) n++;
    }
    return n;
  }
  const sweepMs = options.sweepIntervalMs ?? 30_000;
  const sweeper = sweepMs > 0 ? setInterval(() => void sweep().catch(() => undefined), sweepMs) : undefined;
  sweeper?.unref();

  return {
    async create(action) {
      const bytes = checkActionSize(quotas, action);
      const t = now();
      const ttl = Math.max(1, action.expiresAt - t) + retainMs;
      const limit = openLimitOf(quotas, action);
      const [created, used] = (await conn.guard(() =>
        scripts.create(
          [actionKey(action.id), pendingIndex, tokenSet(action.tokenId), openBytes, openBytesSum],
          [action.id, JSON.stringify(action), action.tokenId, action.createdAt, action.expiresAt, ttl, t, bytes, limit, quotas.maxStoreBytes],
        ),
      )) as [number, number?];
      if (created === -1) throw quotaExceeded("open_actions", limit, used ?? limit);
      if (created === -2) throw quotaExceeded("store_bytes", quotas.maxStoreBytes, used ?? 0);
      if (created !== 1) throw new Error(`pending action ${action.id} already exists`);
    },

    get,

    async list(tokenId) {
      const ids = await conn.guard(() => client.zrange(tokenSet(tokenId), 0, -1));
      const out: PendingAction[] = [];
      for (const id of ids) {
        const reply = await transition(scripts.observe, id, tokenId, tokenId, 0);
        const action = reply[0] === "pending" ? decode(reply[2]) : undefined;
        if (action) out.push(action);
        else if (reply[0] === "not_found") await conn.guard(() => client.zrem(tokenSet(tokenId), id));
      }
      return out.sort((x, y) => x.createdAt - y.createdAt);
    },

    async claim(actionId, tokenId) {
      return toClaimResult(await transition(scripts.claim, actionId, tokenId, tokenId, retainMs + executingTimeoutMs));
    },

    async complete(actionId, outcome) {
      const res = await settleWithRetry(() => scripts.complete([actionKey(actionId)], [JSON.stringify(outcome), now(), retainMs]));
      if (res !== "ok") throw new Error(`pending action ${actionId} is not executing (${String(res)})`);
      await slim(actionId);
    },

    async release(actionId) {
      const res = await settleWithRetry(async () => {
        const owner = await client.hget(actionKey(actionId), "tokenId");
        return scripts.release([actionKey(actionId), pendingIndex, tokenSet(owner ?? ""), openBytes, openBytesSum], [actionId, now(), retainMs]);
      });
      if (res !== "ok") throw new Error(`pending action ${actionId} is not executing (${String(res)})`);
    },

    async cancel(actionId, tokenId) {
      const result = toClaimResult(await transition(scripts.cancel, actionId, tokenId, tokenId, retainMs));
      if (result.kind === "cancelled") await slim(actionId, result.action);
      return result;
    },

    async waitForSettled(actionId, timeoutMs, signal) {
      // Polling, not pub/sub: the executing replica may be another process, and a missed message
      // must never leave a waiter hanging. Backs off from 20 ms to pollMaxMs.
      const deadline = Date.now() + timeoutMs;
      for (let delay = 20; ; delay = Math.min(delay * 2, pollMaxMs)) {
        const action = await get(actionId);
        if (!action || action.state !== "executing" || signal?.aborted || Date.now() >= deadline) return action;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(delay, Math.max(0, deadline - Date.now())));
          function done(): void {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
          }
          signal?.addEventListener("abort", done, { once: true });
        });
      }
    },

    async countPending() {
      // Expired-but-unswept entries fall outside the score range.
      return conn.guard(() => client.zcount(pendingIndex, `(${now()}`, "+inf"));
    },

    async close() {
      if (sweeper) clearInterval(sweeper);
    },
  };
}
