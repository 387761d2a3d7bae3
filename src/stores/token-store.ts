/**
 * The token store contract: records keyed by the SHA-256 of the secret (the secret itself is
 * never stored). Imports no implementation: the memory store, the embedded file store and the
 * Redis store implement it, and `tokens.ts` picks one.
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
  /** The upstreams it may use, by name (`tokens create --upstreams`); absent: every one. */
  readonly upstreams?: readonly string[];
  readonly readOnly: boolean;
  readonly tier: string;
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly lastUsedAt?: string;
  readonly revokedAt?: string;
  /** The token's own upstream credential, sealed (see src/tokens/sealed-credential.ts). */
  readonly upstreamCredential?: string;
  /** Every write it asks for needs a person's approval (src/approvals), whatever the tool's own approval. */
  readonly needsPerson?: boolean;
  /** The console admin (id) who created it, when one did (four-eyes approvals look at it). */
  readonly createdBy?: string;
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
