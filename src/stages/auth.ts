/**
 * The authenticate stage of admission: resolves the request's credential against the token store
 * once per request (so a revocation lands on the very next request, whatever the transport checked
 * at connect time) and sets `ctx.principal` — the token's id and subject, never the secret.
 */
import type { AdmissionStage } from "../context.js";
import type { Authenticator } from "../tokens/authenticate.js";

/** What the authenticate stage needs. */
export interface AuthStageDeps {
  readonly authenticator: Authenticator;
}

/** Builds the authenticate stage. */
export function createAuthStage(deps: AuthStageDeps): AdmissionStage {
  return async function authenticate(ctx, next) {
    const result = await deps.authenticator.resolve(ctx.credential, ctx.credentialHash);
    if (!result.ok) {
      if (result.tokenId) ctx.claimed = { tokenId: result.tokenId, subject: result.subject };
      throw result.error;
    }
    ctx.principal = result.principal;
    await next();
  };
}
