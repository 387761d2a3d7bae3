/**
 * The terminal stage: sends the call to the upstream API and puts its answer on the context.
 */
import type { Stage } from "../context.js";
import type { UpstreamClient } from "../upstream/upstream-client.js";

/** Calls the upstream; non-2xx answers become GatewayErrors (upstream_error / upstream_unavailable). */
export function createUpstreamStage(deps: { upstream: UpstreamClient }): Stage {
  return async function upstream(ctx) {
    const outcome = await deps.upstream.executeUpstream(ctx.tool, ctx.args, {
      signal: ctx.signal,
      progress: ctx.progress,
      credential: ctx.principal?.upstreamCredential,
      idempotencyKey: ctx.confirmed?.actionId,
      ifMatch: ctx.confirmed?.ifMatch,
    });
    ctx.audit.upstreamStatus = outcome.status;
    if (outcome.error) throw outcome.error;
    ctx.result = outcome.result;
  };
}
