/**
 * The OAuth store in Redis (the distributed mode), so every replica sees the same clients, grants
 * and tokens: a grant revoked through one replica's console is refused by every replica on the
 * client's next call (access tokens are looked up in Redis on every call; nothing is cached).
 *
 * Keys, all in the `{oauth}` slot: `client:<id>`, `req:<id>` (10 min), `grant:<id>` and the set
 * `grants`, `code:<hash>`, `access:<hash>`, `refresh:<hash>` (each expiring with its secret), and
 * `spent:<kind>:<hash>`, set once by the first exchange of a code or refresh token.
 */
import type { AuthorizationRequest, CodeRecord, Grant, OAuthClient, OAuthStore, TokenRecord } from "./contract.js";
import { REQUEST_TTL_MS } from "./memory-store.js";
import { defineScript, type RedisConnection } from "../stores/redis/redis-client.js";

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

/** Builds the store on a connection. */
export function createRedisOAuthStore(connection: RedisConnection, options: { now?: () => number } = {}): OAuthStore {
  const now = options.now ?? Date.now;
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
      return parse<Grant>(await guard(() => client.get(key("grant", id))));
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
        if ((await guard(() => replace([key("grant", id)], [raw!, JSON.stringify(revoked)]))) === 1) return revoked;
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
      return parse<TokenRecord>(await guard(() => client.get(key("access", hash))));
    },
    async putRefresh(hash, token: TokenRecord) {
      await putExpiring(key("refresh", hash), token, token.expiresAt);
    },
    spendRefresh: (hash, at) => spend<TokenRecord>("refresh", hash, at),
  };
}
