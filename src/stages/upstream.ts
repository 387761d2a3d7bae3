/**
 * The terminal stage: sends the call to the upstream API and puts its answer on the context.
 */
import type { Stage } from "../context.js";
import { GatewayError } from "../errors.js";
import { deliveryOf, type UpstreamClient } from "../upstream/upstream-client.js";

/** Calls the upstream; non-2xx answers become GatewayErrors (upstream_error / upstream_unavailable). */
export function createUpstreamStage(deps: { upstream: UpstreamClient }): Stage {
  return async function upstream(ctx) {
    if (!ctx.tool) throw new GatewayError("internal", "upstream stage reached without a tool", { expose: false });
    let outcome;
    try {
      outcome = await deps.upstream.executeUpstream(ctx.tool, ctx.args, {
        signal: ctx.signal,
        progress: ctx.progress,
        credential: ctx.principal.upstreamCredential,
        idempotencyKey: ctx.confirmed?.actionId,
        ifMatch: ctx.confirmed?.ifMatch,
      });
    } catch (err) {
      // Sent, but no complete answer came back: whether the upstream acted is unknown.
      const delivery = deliveryOf(err);
      ctx.upstream = { delivery: delivery === undefined || delivery === "not_sent" ? "not_sent" : "sent" };
      throw err;
    }
    ctx.upstream = { status: outcome.status, delivery: "answered" };
    ctx.audit.upstreamStatus = outcome.status;
    if (outcome.error) throw outcome.error;
    ctx.result = outcome.result;
  };
}
