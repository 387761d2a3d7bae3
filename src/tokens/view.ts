/**
 * How a token record is shown to a person (the CLI's --json, the console API): never the hash,
 * never the sealed credential.
 */
import type { TokenRecord } from "../stores/token-store.js";

/** Whether a token can still be used, at epoch milliseconds `now`. */
export function tokenStatus(r: TokenRecord, now: number): "active" | "revoked" | "expired" {
  if (r.revokedAt) return "revoked";
  if (r.expiresAt && Date.parse(r.expiresAt) <= now) return "expired";
  return "active";
}

/** The public fields of a token record, with its status when `now` is given. */
export function publicToken(r: TokenRecord, now?: number) {
  return {
    id: r.id,
    name: r.name,
    modules: r.modules,
    upstreams: r.upstreams ?? "all",
    readOnly: r.readOnly,
    tier: r.tier,
    createdAt: r.createdAt,
    lastUsedAt: r.lastUsedAt ?? null,
    expiresAt: r.expiresAt ?? null,
    revokedAt: r.revokedAt ?? null,
    hasUpstreamCredential: Boolean(r.upstreamCredential),
    needsPerson: r.needsPerson === true,
    ...(now !== undefined ? { status: tokenStatus(r, now) } : {}),
  };
}
