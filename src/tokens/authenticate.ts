/**
 * Turns a presented credential into a Principal, or a GatewayError("unauthorized") saying which
 * of missing | malformed | checksum | unknown | expired | revoked. Shape and checksum are checked
 * before any lookup; "expired" and "revoked" are only said to someone who presented the real
 * secret, so no answer reveals whether a token they don't hold exists.
 */
import type { Principal } from "../context.js";
import { GatewayError } from "../errors.js";
import type { TokenRecord, TokenStore } from "../stores/token-store.js";
import { TOKEN_LENGTH, TOKEN_PREFIX, checkTokenShape, hashToken } from "./format.js";
import { safeEqualFixed } from "./safe-equal.js";
import { openCredential, readSecretKey, type SecretKeyResult } from "./sealed-credential.js";

/** Why a credential was refused (also `details.reason` of the error). */
export type AuthFailure = "missing" | "malformed" | "checksum" | "unknown" | "expired" | "revoked";

/** What the authenticator needs. */
export interface AuthenticatorDeps {
  readonly store: TokenStore;
  readonly now?: () => Date;
  /** The upstream-credential key (default: read from COUNTERSIGN_SECRET_KEY). */
  readonly secretKey?: SecretKeyResult;
  /** How often a token's last-used time is written at most (default 60 s). */
  readonly touchIntervalMs?: number;
  /** Called when recording a last use fails (it never fails the call). */
  readonly onError?: (err: unknown) => void;
}

/** A resolved credential, or the refusal plus whose token it was (when the holder proved it). */
export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly error: GatewayError; readonly tokenId?: string; readonly subject?: string };

/** Checks credentials against the token store on every call. */
export interface Authenticator {
  /** Resolves a credential; throws the GatewayError("unauthorized") of a refusal. */
  authenticate(credential: string | undefined): Promise<Principal>;
  /**
   * Like `authenticate`, but answers refusals as a result (so audit can name a revoked token).
   * `knownHash`: the credential's hash (`credentialHash`), from a caller that checked its shape
   * and hashed it once for a session whose credential never changes.
   */
  resolve(credential: string | undefined, knownHash?: string): Promise<AuthResult>;
  /** Re-checks an already resolved principal (revoked or expired since?) by its token id. */
  recheck(principal: Principal): Promise<Principal>;
}

const MESSAGES: Record<AuthFailure, string> = {
  missing: "Missing bearer token (send Authorization: Bearer <token>, or set MCP_TOKEN for stdio)",
  malformed: `Malformed token (expected ${TOKEN_PREFIX} followed by ${TOKEN_LENGTH - TOKEN_PREFIX.length} letters and digits)`,
  checksum: "Token checksum mismatch (typo or truncated paste?)",
  unknown: "Unknown token",
  expired: "Token expired",
  revoked: "Token revoked",
};

/** The refusal for `reason`. */
export function unauthorized(reason: AuthFailure, extra = ""): GatewayError {
  return new GatewayError("unauthorized", MESSAGES[reason] + extra, { details: { reason } });
}

/** Builds the authenticator over a token store. */
export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  const now = deps.now ?? (() => new Date());
  const secretKey = deps.secretKey ?? readSecretKey();
  const touchIntervalMs = deps.touchIntervalMs ?? 60_000;
  const lastTouch = new Map<string, number>();

  function admit(record: TokenRecord | undefined): AuthResult {
    if (!record) return { ok: false, error: unauthorized("unknown") };
    const who = { tokenId: record.id, subject: record.name };
    if (record.revokedAt) {
      return { ok: false, error: unauthorized("revoked", ` on ${record.revokedAt}; ask for a new one (countersign tokens create)`), ...who };
    }
    const at = now();
    if (record.expiresAt && Date.parse(record.expiresAt) <= at.getTime()) {
      return { ok: false, error: unauthorized("expired", ` on ${record.expiresAt}`), ...who };
    }
    touch(record, at);
    return { ok: true, principal: principalOf(record) };
  }

  function principalOf(record: TokenRecord): Principal {
    return {
      tokenId: record.id,
      subject: record.name,
      modules: record.modules,
      ...(record.upstreams ? { upstreams: record.upstreams } : {}),
      readOnly: record.readOnly,
      tier: record.tier,
      ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
      ...(record.needsPerson ? { needsPerson: true } : {}),
      ...(record.upstreamCredential ? { upstreamCredential: openCredential(record.upstreamCredential, secretKey, record.id) } : {}),
    };
  }

  function touch(record: TokenRecord, at: Date): void {
    const last = lastTouch.get(record.id) ?? (record.lastUsedAt ? Date.parse(record.lastUsedAt) : 0);
    if (at.getTime() - last < touchIntervalMs) return;
    lastTouch.set(record.id, at.getTime());
    deps.store.touch(record.id, at).catch((err) => deps.onError?.(err));
  }

  async function resolve(credential: string | undefined, knownHash?: string): Promise<AuthResult> {
    const presented = credential?.trim();
    if (!presented) return { ok: false, error: unauthorized("missing") };
    let hash = knownHash;
    if (hash === undefined) {
      const problem = checkTokenShape(presented);
      if (problem) return { ok: false, error: unauthorized(problem) };
      hash = hashToken(presented);
    }
    const record = await deps.store.getByHash(hash);
    // The store finds by hash; this re-check keeps the final comparison constant-time even if
    // a store implementation matches loosely (prefix scans, case folding).
    if (record && !safeEqualFixed(record.hash, hash)) return { ok: false, error: unauthorized("unknown") };
    return admit(record);
  }

  function unwrap(result: AuthResult): Principal {
    if (!result.ok) throw result.error;
    return result.principal;
  }

  return {
    resolve,
    async authenticate(credential) {
      return unwrap(await resolve(credential));
    },
    async recheck(principal) {
      return unwrap(admit(await deps.store.get(principal.tokenId)));
    },
  };
}
