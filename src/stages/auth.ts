/**
 * The auth stage: re-authorizes every call against the token store (so a revocation lands on
 * the very next call, whatever the transport checked at connect time), sets `ctx.principal`
 * and names the token in the audit record — its id and subject, never the secret.
 */
import type { CallContext, Stage } from "../context.js";
import type { Authenticator } from "../tokens/authenticate.js";

/** What the auth stage needs. */
export interface AuthStageDeps {
  readonly authenticator: Authenticator;
}

/** Builds the auth stage. */
export function createAuthStage(deps: AuthStageDeps): Stage {
  return async function auth(ctx: CallContext, next: () => Promise<void>): Promise<void> {
    // A call that carries no credential of its own (e.g. an action executed on confirm) is
    // re-checked through the principal it was made under.
    if (ctx.credential === undefined && ctx.principal) {
      ctx.audit.tokenId = ctx.principal.tokenId;
      ctx.audit.subject = ctx.principal.subject;
      ctx.principal = await deps.authenticator.recheck(ctx.principal);
    } else {
      const result = await deps.authenticator.resolve(ctx.credential);
      if (!result.ok) {
        ctx.principal = undefined;
        if (result.tokenId) ctx.audit.tokenId = result.tokenId;
        if (result.subject) ctx.audit.subject = result.subject;
        throw result.error;
      }
      ctx.principal = result.principal;
    }
    ctx.audit.tokenId = ctx.principal.tokenId;
    ctx.audit.subject = ctx.principal.subject;
    await next();
  };
}
