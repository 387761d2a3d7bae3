/**
 * The token store: records keyed by the SHA-256 of the secret. The secret itself is never
 * stored. One interface, an in-memory default for tests, the embedded file store
 * (`token-file-store.ts`) for `serve`/`stdio`, and a Redis store in the distributed mode.
 */

/** One minted token, as stored. */
export interface TokenRecord {
  /** Public id (`tok_…`), shown by `tokens list` and used by `tokens revoke`. */
  readonly id: string;
  /** SHA-256 (hex) of the secret. */
  readonly hash: string;
  /** Who holds the token (a person or an agent); also the audit subject. */
  readonly name: string;
  readonly modules: "all" | readonly string[];
  readonly readOnly: boolean;
  readonly tier: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly lastUsedAt?: string;
  readonly revokedAt?: string;
  /** The token's own upstream credential, sealed (see src/tokens/sealed-credential.ts). */
  readonly upstreamCredential?: string;
}

/** Where token records live. */
export interface TokenStore {
  /** Adds a record; rejects if the id or hash already exists. */
  create(record: TokenRecord): Promise<void>;
  /** All records, revoked ones included, oldest first. */
  list(): Promise<TokenRecord[]>;
  /** The record whose hash is `hash` (the caller re-checks it in constant time). */
  getByHash(hash: string): Promise<TokenRecord | undefined>;
  get(id: string): Promise<TokenRecord | undefined>;
  /** Marks a record revoked; resolves to the record, or `undefined` for an unknown id. */
  revoke(id: string, at: Date): Promise<TokenRecord | undefined>;
  /** Records a use (best effort; callers throttle how often they ask). */
  touch(id: string, at: Date): Promise<void>;
  /** Flushes pending writes. */
  close(): Promise<void>;
}

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

/** Opens the token store the configuration calls for: Redis when `redis.url` is set (CLI use: uncached), else the file in the data dir. */
export async function openTokenStore(options: { readonly dataDir: string; readonly redis?: { readonly url?: string; readonly keyPrefix: string } }): Promise<TokenStore> {
  if (options.redis?.url) {
    const { openRedisTokenStore } = await import("./redis/redis-stores.js");
    return openRedisTokenStore({ redis: options.redis });
  }
  const { createTokenFileStore } = await import("./token-file-store.js");
  return createTokenFileStore({ dir: options.dataDir });
}
