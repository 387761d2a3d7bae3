/** The in-process token store: tests, and a base for caching layers. */
import type { TokenRecord, TokenStore } from "./token-store.js";

/** An in-process store (tests, and a base for caching layers). */
export function createMemoryTokenStore(initial: readonly TokenRecord[] = []): TokenStore {
  const byId = new Map<string, TokenRecord>();
  const idByHash = new Map<string, string>();
  for (const r of initial) put(r);

  function put(r: TokenRecord): void {
    byId.set(r.id, r);
    idByHash.set(r.hash, r.id);
  }

  return {
    async create(record) {
      if (byId.has(record.id) || idByHash.has(record.hash)) throw new Error(`token ${record.id} already exists`);
      put(record);
    },
    async list() {
      return [...byId.values()];
    },
    async getByHash(hash) {
      const id = idByHash.get(hash);
      return id === undefined ? undefined : byId.get(id);
    },
    async get(id) {
      return byId.get(id);
    },
    async revoke(id, at) {
      const r = byId.get(id);
      if (!r) return undefined;
      if (r.revokedAt) return r;
      const revoked = { ...r, revokedAt: at.toISOString() };
      put(revoked);
      return revoked;
    },
    async touch(id, at) {
      const r = byId.get(id);
      if (r) put({ ...r, lastUsedAt: at.toISOString() });
    },
    async close() {},
  };
}
