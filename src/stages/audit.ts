/**
 * The audit stage: first in the chain, it times the whole call and records it in `finally`,
 * whatever happened inside (refused, pending, executed, failed).
 */
import type { Stage } from "../context.js";
import type { AuditRecorder } from "../audit/recorder.js";

/** Wraps the chain and leaves exactly one audit record per call. */
export function createAuditStage(deps: { audit: AuditRecorder }): Stage {
  const recorder = deps.audit;
  return async function audit(ctx, next) {
    const started = performance.now();
    // Keep what the client sent: later stages may replace ctx.args (defaults, coercion).
    const args = ctx.args;
    let threw = false;
    let error: unknown;
    try {
      await next();
    } catch (err) {
      threw = true;
      error = err;
      throw err;
    } finally {
      await recorder.finish({
        audit: ctx.audit,
        tool: ctx.tool,
        principal: ctx.principal,
        args,
        result: ctx.result,
        threw,
        error,
        confirmedActionId: ctx.confirmed?.actionId,
        durationMs: performance.now() - started,
      });
    }
  };
}

/** Wraps the terminal stage to time the upstream call into the audit record (and so the upstream histogram). */
export function timeUpstream(stage: Stage): Stage {
  return async function timedUpstream(ctx, next) {
    const started = performance.now();
    try {
      await stage(ctx, next);
    } finally {
      ctx.audit.upstreamMs ??= performance.now() - started;
    }
  };
}
