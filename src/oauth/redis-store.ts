/**
 * The OAuth store in Redis (the distributed mode), so every replica sees the same clients, grants
 * and tokens.
 *
 * The access-token lookup is on every call, so it is served from memory as `csk_` tokens are:
 * access records never change (cached until they expire) and grants are cached for `cacheTtlMs`.
 * A revocation is published on the gateway's revocation channel and drops the grant from every
 * replica's cache at once; the cache is bypassed while the subscription is down, and a lookup that
 * started before a revocation never caches what it read.
 *
 * Keys, all in the `{oauth}` slot: `client:<id>`, `req:<id>` (10 min), `grant:<id>` and the set
 * `grants`, `code:<hash>`, `access:<hash>`, `refresh:<hash>` (each expiring with its secret), and
 * `spent:<kind>:<hash>`, set once by the first exchange of a code or refresh token.
 */
import type { AuthorizationRequest, CodeRecord, Grant, OAuthClient, OAuthStore, TokenRecord } from "./contract.js";
import { REQUEST_TTL_MS } from "./memory-store.js";
import { defineScript, type RedisConnection } from "../stores/redis/redis-client.js";
import { createRevocations, type Revocations } from "../stores/redis/revocations.js";

/** The most access records one replica keeps in memory. */
const MAX_CACHED = 50_000;

/** Reads and deletes a key. KEYS: key. */
const TAKE = `
local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v
`;

/**
 * Marks a secret spent once: answers its record and when it was first spent ('' for this call).
 * KEYS: record, spent marker. ARGV: now.
 */
const SPEND = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local prev = redis.call('GET', KEYS[2])
if not prev then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('SET', KEYS[2], ARGV[1], 'PX', ttl) else redis.call('SET', KEYS[2], ARGV[1]) end
  prev = ''
end
return {v, prev}
`;

/** Replaces a value only if unchanged since read. KEYS: key. ARGV: expected, new. */
const REPLACE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/** Options of the Redis store. */
export interface RedisOAuthStoreOptions {
  readonly now?: () => number;
  /** The revocation channel (default: one on this connection). */
  readonly revocations?: Revocations;
  /** How long a cached grant is trusted (default 10 s; 0: no cache). */
  readonly cacheTtlMs?: number;
}

/** Builds the store on a connection. */
export function createRedisOAuthStore(connection: RedisConnection, options: RedisOAuthStoreOptions = {}): OAuthStore {
  const now = options.now ?? Date.now;
  const revocations = options.revocations ?? createRevocations(connection);
  const cacheTtlMs = options.cacheTtlMs ?? 10_000;
  const accessCache = new Map<string, TokenRecord>();
  const grantCache = new Map<string, { grant: Grant; at: number }>();
  // Bumped by every revocation and resync: a read that started before one is not cached.
  let generation = 0;
  const forget = (id?: string) => {
    generation++;
    if (id === undefined) grantCache.clear();
    else grantCache.delete(id);
  };
  if (cacheTtlMs > 0) revocations.listen({ revoked: (e) => forget(e.id), resync: () => forget() });
  const trusted = () => cacheTtlMs > 0 && revocations.isListening();
  const { client, guard } = connection;
  const key = (...parts: string[]) => connection.key("oauth", ...parts);
  const take = defineScript(client, "countersignOAuthTake", 1, TAKE);
  const spendScript = defineScript(client, "countersignOAuthSpend", 2, SPEND);
  const replace = defineScript(client, "countersignOAuthReplace", 1, REPLACE);
  const ttl = (expiresAt: number) => Math.max(1, expiresAt - now());
  const parse = <T>(v: string | null | undefined): T | undefined => (v ? (JSON.parse(v) as T) : undefined);

  async function putExpiring(k: string, value: unknown, expiresAt: number): Promise<void> {
    await guard(() => client.set(k, JSON.stringify(value), "PX", ttl(expiresAt)));
  }

  async function spend<T extends { spentAt?: number }>(kind: string, hash: string, at: number): Promise<T | undefined> {
    const out = (await guard(() => spendScript([key(kind, hash), key("spent", kind, hash)], [String(at)]))) as [string, string] | null;
    if (!out) return undefined;
    const record = JSON.parse(out[0]) as T;
    return out[1] === "" ? record : { ...record, spentAt: Number(out[1]) };
  }

  return {
    async putClient(c: OAuthClient) {
      await guard(() => client.set(key("client", c.clientId), JSON.stringify(c)));
    },
    async getClient(id) {
      return parse<OAuthClient>(await guard(() => client.get(key("client", id))));
    },
    async putRequest(r: AuthorizationRequest) {
      await putExpiring(key("req", r.id), r, r.createdAt + REQUEST_TTL_MS);
    },
    async getRequest(id) {
      return parse<AuthorizationRequest>(await guard(() => client.get(key("req", id))));
    },
    async takeRequest(id) {
      return parse<AuthorizationRequest>((await guard(() => take([key("req", id)], []))) as string | null);
    },
    async putGrant(g: Grant) {
      await guard(() => client.multi().set(key("grant", g.id), JSON.stringify(g)).sadd(key("grants"), g.id).exec());
    },
    async getGrant(id) {
      const hit = grantCache.get(id);
      if (hit && trusted() && now() - hit.at < cacheTtlMs) return hit.grant;
      const seen = generation;
      const grant = parse<Grant>(await guard(() => client.get(key("grant", id))));
      if (grant && !grant.revokedAt && trusted() && seen === generation) grantCache.set(id, { grant, at: now() });
      return grant;
    },
    async listGrants() {
      const ids = await guard(() => client.smembers(key("grants")));
      if (ids.length === 0) return [];
      const values = await guard(() => client.mget(...ids.map((id) => key("grant", id))));
      return values.map((v) => parse<Grant>(v)).filter((g): g is Grant => g !== undefined).sort((x, y) => (x.createdAt < y.createdAt ? -1 : 1));
    },
    async revokeGrant(id, at, why) {
      // Compare-and-set, retried: two replicas revoking at once both end with one revocation.
      for (let attempt = 0; attempt < 5; attempt++) {
        const raw = await guard(() => client.get(key("grant", id)));
        const g = parse<Grant>(raw);
        if (!g || g.revokedAt) return g;
        const revoked: Grant = { ...g, revokedAt: at.toISOString(), revokedWhy: why };
        if ((await guard(() => replace([key("grant", id)], [raw!, JSON.stringify(revoked)]))) === 1) {
          forget(id);
          // `hash` is the token channel's field; a grant has none.
          await revocations.publish({ id, hash: "" });
          return revoked;
        }
      }
      throw new Error(`grant ${id} kept changing while it was being revoked`);
    },
    async putCode(hash, code: CodeRecord) {
      await putExpiring(key("code", hash), code, code.expiresAt);
    },
    spendCode: (hash, at) => spend<CodeRecord>("code", hash, at),
    async putAccess(hash, token: TokenRecord) {
      await putExpiring(key("access", hash), token, token.expiresAt);
    },
    async getAccess(hash) {
      const hit = accessCache.get(hash);
      if (hit && hit.expiresAt > now()) return hit;
      const record = parse<TokenRecord>(await guard(() => client.get(key("access", hash))));
      // Access records never change; what ends one early is its grant's revocation.
      if (record && cacheTtlMs > 0) {
        if (accessCache.size >= MAX_CACHED) for (const [k, v] of accessCache) if (v.expiresAt <= now() || accessCache.size >= MAX_CACHED) accessCache.delete(k);
        accessCache.set(hash, record);
      }
      return record;
    },
    async putRefresh(hash, token: TokenRecord) {
      await putExpiring(key("refresh", hash), token, token.expiresAt);
    },
    spendRefresh: (hash, at) => spend<TokenRecord>("refresh", hash, at),
  };
}
