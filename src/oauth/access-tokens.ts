/**
 * OAuth access tokens at admission: a credential with the access-token prefix is resolved by the
 * authority, every other one by the `csk_` authenticator, and both give the authenticate stage the
 * same Principal, so scope, limits, approvals and audit treat them alike.
 */
import type { Principal } from "../context.js";
import { GatewayError } from "../errors.js";
import type { AuthResult, Authenticator } from "../tokens/authenticate.js";
import type { Authority } from "./authority.js";
import { ACCESS_PREFIX } from "./secrets.js";

const SHAPE = /^cso_[A-Za-z0-9_-]{43}$/;

/** The authenticator that also accepts the authority's access tokens. */
export function withAccessTokens(base: Authenticator, authority: Authority): Authenticator {
  async function resolve(credential: string | undefined): Promise<AuthResult> {
    const presented = credential?.trim();
    if (!presented?.startsWith(ACCESS_PREFIX)) return base.resolve(credential);
    if (!SHAPE.test(presented)) return { ok: false, error: new GatewayError("unauthorized", "Malformed access token", { details: { reason: "malformed" } }) };
    const r = await authority.resolveAccess(presented);
    if (r.ok) return r;
    const error = new GatewayError("unauthorized", r.message, { details: { reason: r.reason } });
    return r.grant ? { ok: false, error, tokenId: r.grant.id, subject: `${r.grant.userName} via ${r.grant.clientName}` } : { ok: false, error };
  }
  return {
    resolve,
    async authenticate(credential) {
      const r = await resolve(credential);
      if (!r.ok) throw r.error;
      return r.principal;
    },
    async recheck(principal: Principal) {
      if (!principal.tokenId.startsWith("gr_")) return base.recheck(principal);
      const grant = await authority.store.getGrant(principal.tokenId);
      // The grant is what can end early; the access token's own end is checked at admission.
      if (!grant || grant.revokedAt) throw new GatewayError("unauthorized", "Access revoked: connect again to authorize", { details: { reason: "revoked" } });
      return principal;
    },
  };
}
