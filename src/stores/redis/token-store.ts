/**
 * Token records in Redis: a hash of records keyed by the secret's SHA-256
 * (`<prefix>{tokens}:by-hash`) and an id index (`<prefix>{tokens}:by-id`, id → hash).
 *
 * Every replica keeps a small cache of records, because the auth stage looks the token up on
 * every call. Three things bound its staleness: a revocation is published and drops the token
 * everywhere at once; entries expire on their own after `cacheTtlMs` (in case a message is
 * lost); and while the revocation subscription is down the cache is bypassed. When Redis itself
 * is unreachable, a cached record (even an old one) keeps serving reads for `staleIfErrorMs`:
 * nobody can revoke through a Redis that is down, so it cannot be more wrong than Redis is.
 */
import type { TokenRecord, TokenStore } from "../token-store.js";
import { defineScript, type RedisConnection } from "./redis-client.js";
import type { Revocations } from "./revocations.js";

/** Options of the Redis token store. */
export interface RedisTokenStoreOptions {
  readonly connection: RedisConnection;
  /** Revocation channel; without it there is no cache (every lookup reads Redis). */
  readonly revocations?: Revocations;
  /** `false` for one-shot users such as the CLI: no cache, no subscription; revocations are still published. */
  readonly cache?: boolean;
  /** How long a cached record is trusted (default 10 s). */
  readonly cacheTtlMs?: number;
  /** How long a cached record may still answer while Redis is unreachable (default 5 min). */
  readonly staleIfErrorMs?: number;
  /** Clock in epoch milliseconds (cache ages only). */
  readonly now?: () => number;
}

/** Adds a record unless its id or hash exists. KEYS: by-hash, by-id. ARGV: hash, id, json. */
const CREATE = `
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 1
`;

/** The record of an id. KEYS: by-hash, by-id. ARGV: id. */
const GET_BY_ID = `
local h = redis.call('HGET', KEYS[2], ARGV[1])
if not h then return false end
return redis.call('HGET', KEYS[1], h)
`;

/**
 * Replaces a record only if it is unchanged since it was read (compare-and-set keeps the JSON
 * under the client's control; Lua's cjson would turn an empty list into an object).
 * KEYS: by-hash. ARGV: hash, expected json, new json.
 */
const REPLACE = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`;

interface Cached {
  readonly record: TokenRecord | undefined;
  readonly at: number;
}

/** Creates the Redis token store. */
export function createRedisTokenStore(options: RedisTokenStoreOptions): TokenStore {
  const conn = options.connection;
  const client = conn.client;
  const now = options.now ?? Date.now;
  const caching = options.cache !== false;
  const cacheTtlMs = caching && options.revocations ? (options.cacheTtlMs ?? 10_000) : 0;
  const staleIfErrorMs = caching ? (options.staleIfErrorMs ?? 300_000) : 0;
  const byHashKey = conn.key("tokens", "by-hash");
  const byIdKey = conn.key("tokens", "by-id");
  const scripts = {
    create: defineScript(client, "csTokCreate", 2, CREATE),
    getById: defineScript(client, "csTokGetById", 2, GET_BY_ID),
    replace: defineScript(client, "csTokReplace", 1, REPLACE),
  };
  const byHash = new Map<string, Cached>();
  const hashById = new Map<string, string>();
  // Bumped by every revocation and resync: a lookup that started before one must not cache
  // what it read, or a record read just before a revocation could outlive it.
  let generation = 0;

  const stop = !caching ? undefined : options.revocations?.listen({
    revoked(event) {
      generation++;
      byHash.delete(event.hash);
      hashById.delete(event.id);
    },
    resync() {
      generation++;
      byHash.clear();
      hashById.clear();
    },
  });

  function remember(hash: string, record: TokenRecord | undefined): void {
    if (cacheTtlMs === 0 && staleIfErrorMs === 0) return;
    byHash.set(hash, { record, at: now() });
    if (record) hashById.set(record.id, hash);
    // Bounded: an unknown-token flood must not grow memory without limit.
    if (byHash.size > 50_000) byHash.delete(byHash.keys().next().value!);
  }

  function fresh(entry: Cached | undefined): boolean {
    return entry !== undefined && cacheTtlMs > 0 && now() - entry.at < cacheTtlMs && options.revocations!.isListening();
  }

  /** Reads through the cache; on Redis trouble answers from a recent enough entry. */
  async function cached(hash: string | undefined, load: () => Promise<string | null>): Promise<TokenRecord | undefined> {
    const entry = hash === undefined ? undefined : byHash.get(hash);
    // Misses are not cached: a token minted on another replica must be usable at once.
    if (entry?.record && fresh(entry)) return entry.record;
    const started = generation;
    try {
      const json = await conn.guard(load);
      const record = json ? (JSON.parse(json) as TokenRecord) : undefined;
      if (record && started === generation) remember(record.hash, record);
      else if (hash !== undefined) byHash.delete(hash);
      return record;
    } catch (err) {
      if ((err as { code?: string }).code === "unavailable" && entry?.record && now() - entry.at < staleIfErrorMs) return entry.record;
      throw err;
    }
  }

  /** Read-modify-write of one record with compare-and-set, retried on a concurrent change. */
  async function update(id: string, change: (r: TokenRecord) => TokenRecord | undefined): Promise<TokenRecord | undefined> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const json = await conn.guard(() => scripts.getById([byHashKey, byIdKey], [id]) as Promise<string | null>);
      if (!json) return undefined;
      const current = JSON.parse(json) as TokenRecord;
      const next = change(current);
      if (!next) return current;
      const nextJson = JSON.stringify(next);
      if ((await conn.guard(() => scripts.replace([byHashKey], [current.hash, json, nextJson]))) === 1) return next;
    }
    throw new Error(`token ${id} kept changing while being updated; try again`);
  }

  return {
    async create(record) {
      const ok = await conn.guard(() => scripts.create([byHashKey, byIdKey], [record.hash, record.id, JSON.stringify(record)]));
      if (ok !== 1) throw new Error(`token ${record.id} already exists`);
    },
    async list() {
      const all = await conn.guard(() => client.hvals(byHashKey));
      return all.map((j) => JSON.parse(j) as TokenRecord).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    },
    getByHash(hash) {
      return cached(hash, () => client.hget(byHashKey, hash));
    },
    get(id) {
      return cached(hashById.get(id), () => scripts.getById([byHashKey, byIdKey], [id]) as Promise<string | null>);
    },
    async revoke(id, at) {
      const revoked = await update(id, (r) => (r.revokedAt ? undefined : { ...r, revokedAt: at.toISOString() }));
      if (!revoked) return undefined;
      generation++;
      byHash.delete(revoked.hash);
      hashById.delete(id);
      // Published even when already revoked: a replica that missed the first message hears it now.
      if (options.revocations) await options.revocations.publish({ id, hash: revoked.hash });
      return revoked;
    },
    async touch(id, at) {
      const iso = at.toISOString();
      await update(id, (r) => (r.lastUsedAt && r.lastUsedAt >= iso ? undefined : { ...r, lastUsedAt: iso }));
    },
    async close() {
      stop?.();
    },
  };
}
