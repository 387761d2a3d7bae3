/**
 * Minting a token: a fresh secret, a public id, and a record that keeps only the secret's hash
 * (and the upstream credential sealed). Used by `countersign tokens create` and `countersign demo`.
 */
import { randomInt } from "node:crypto";
import type { TokenRecord, TokenStore } from "../stores/token-store.js";
import { hashToken, mintToken } from "./format.js";
import { sealCredential, type SecretKeyResult } from "./sealed-credential.js";

/** What a new token grants. */
export interface IssueOptions {
  /** Who holds it (a person or an agent). */
  readonly name: string;
  readonly modules?: "all" | readonly string[];
  /** The upstreams it may use (absent: every one). */
  readonly upstreams?: readonly string[];
  readonly readOnly?: boolean;
  readonly tier?: string;
  readonly expiresAt?: Date;
  /** The token's own upstream credential; needs `secretKey`. */
  readonly upstreamCredential?: string;
  readonly secretKey?: SecretKeyResult;
  readonly now?: Date;
  /** Every write it asks for needs a person's approval. */
  readonly needsPerson?: boolean;
  /** The console admin (id) creating it. */
  readonly createdBy?: string;
}

/** The one time the secret exists outside its holder's hands. */
export interface IssuedToken {
  readonly token: string;
  readonly record: TokenRecord;
}

const ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** A public token id: `tok_` + 12 random base36 characters. */
export function newTokenId(): string {
  let id = "tok_";
  for (let i = 0; i < 12; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** Mints a token and stores its record; throws naming the problem (e.g. no key for a credential). */
export async function issueToken(store: TokenStore, options: IssueOptions): Promise<IssuedToken> {
  const name = options.name.trim();
  if (!name) throw new Error("a token needs a name (who holds it)");
  const id = newTokenId();
  let sealed: string | undefined;
  if (options.upstreamCredential !== undefined) {
    if (!options.secretKey?.ok) {
      throw new Error(`an upstream credential needs an encryption key: ${options.secretKey && !options.secretKey.ok ? options.secretKey.reason : "none given"}`);
    }
    sealed = sealCredential(options.upstreamCredential, options.secretKey.key, id);
  }
  const token = mintToken();
  const record: TokenRecord = {
    id,
    hash: hashToken(token),
    name,
    modules: options.modules ?? "all",
    ...(options.upstreams ? { upstreams: options.upstreams } : {}),
    readOnly: options.readOnly ?? false,
    tier: options.tier ?? "default",
    createdAt: (options.now ?? new Date()).toISOString(),
    ...(options.expiresAt ? { expiresAt: options.expiresAt.toISOString() } : {}),
    ...(options.createdBy !== undefined ? { createdBy: options.createdBy } : {}),
    ...(options.needsPerson ? { needsPerson: true } : {}),
    ...(sealed ? { upstreamCredential: sealed } : {}),
  };
  await store.create(record);
  return { token, record };
}
