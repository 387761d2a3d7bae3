/**
 * The audit stages. In the tool-call chain, audit comes first: it times the whole call and records
 * it in `finally`, whatever happened inside (refused, pending, executed, failed). In admission, the
 * refusals stage records a request refused before any tool ran (401, 429), once.
 */
import type { AdmissionStage, Stage } from "../context.js";
import type { AuditedTool, AuditRecorder } from "../audit/recorder.js";
import { toGatewayError } from "../errors.js";

/** Wraps the tool-call chain and leaves exactly one audit record per call. */
export function createAuditStage(deps: { audit: AuditRecorder; metaTool(name: string): AuditedTool | undefined }): Stage {
  const recorder = deps.audit;
  return async function audit(ctx, next) {
    const started = performance.now();
    // Keep what the client sent: later stages may replace ctx.args (defaults, coercion).
    const args = ctx.args;
    let error: unknown;
    let threw = false;
    try {
      await next();
    } catch (err) {
      threw = true;
      error = err;
      throw err;
    } finally {
      // A call made inside this one (call_tool's, confirm_action's execution) left the record.
      if (ctx.parent) ctx.parent.delegated = true;
      if (!ctx.delegated) {
        await recorder.finish({
          audit: ctx.audit,
          tool: ctx.tool ?? deps.metaTool(ctx.name),
          principal: ctx.principal,
          args,
          result: ctx.result,
          threw,
          error: threw ? toGatewayError(error) : undefined,
          confirmedActionId: ctx.confirmed?.actionId,
          durationMs: performance.now() - started,
          about: ctx.about,
        });
      }
    }
  };
}

/** Admission's audit: a refused request leaves one record (unauthenticated ones are aggregated). */
export function createRefusalStage(deps: { audit: AuditRecorder; metaTool(name: string): AuditedTool | undefined; tool(name: string): AuditedTool | undefined }): AdmissionStage {
  return async function refusals(ctx, next) {
    const started = performance.now();
    try {
      await next();
    } catch (err) {
      const e = toGatewayError(err);
      const call = e.rpcId === undefined ? undefined : ctx.calls.find((c) => c.id === e.rpcId);
      await deps.audit.refusal({
        transport: ctx.transport,
        sessionId: ctx.sessionId,
        principal: ctx.principal,
        claimed: ctx.claimed,
        toolName: call?.name,
        tool: call ? (deps.tool(call.name) ?? deps.metaTool(call.name)) : undefined,
        args: call?.args,
        request: ctx.request,
        source: ctx.source,
        error: e,
        durationMs: performance.now() - started,
      });
      throw e;
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
