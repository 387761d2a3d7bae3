/**
 * The secrets the authorization server hands out (codes, access and refresh tokens), how they are
 * stored (SHA-256 only, like `csk_` tokens), and the PKCE check.
 */
import { createHash, randomBytes } from "node:crypto";
import { safeEqual } from "../tokens/safe-equal.js";

/** Prefix of an OAuth access token (a scanner can spot a leaked one; `csa_` is an admin credential). */
export const ACCESS_PREFIX = "cso_";
/** Prefix of a refresh token. */
export const REFRESH_PREFIX = "csr_";
/** Prefix of an authorization code. */
export const CODE_PREFIX = "csc_";

/** A fresh secret: the prefix and 32 random bytes, base64url. */
export function mintSecret(prefix: string): string {
  return prefix + randomBytes(32).toString("base64url");
}

/** A fresh public id (`gr_…`, `ar_…`, `oc_…`). */
export function mintId(prefix: string): string {
  return prefix + randomBytes(12).toString("base64url");
}

/** The SHA-256 (hex) a secret is stored under. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** The S256 challenge of a verifier (RFC 7636 §4.2). */
export function s256(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/** A verifier's shape (RFC 7636 §4.1): 43–128 unreserved characters. */
export const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** A challenge's shape: the base64url SHA-256, 43 characters. */
export const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Whether `verifier` is the one the S256 `challenge` was made from (constant time). */
export function pkceMatches(verifier: string, challenge: string): boolean {
  return VERIFIER.test(verifier) && safeEqual(s256(verifier), challenge);
}
