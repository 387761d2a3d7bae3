/**
 * Resolves the tool a call names, and runs meta-tools. A meta-tool (confirm_action, search_tools,
 * …) answers at the meta stage, inside audit; a generated tool goes on to policy and the rest; an
 * unknown name ends the call with `not_found`.
 */
import type { CallContext, Stage, ToolResult } from "../context.js";
import { GatewayError } from "../errors.js";
import type { Registry } from "../registry.js";

/** The meta stage: runs the meta-tool a call names; anything else goes on down the chain. */
export function createMetaStage(deps: { run(ctx: CallContext): Promise<ToolResult> | undefined }): Stage {
  return async function meta(ctx, next) {
    const answer = deps.run(ctx);
    if (answer === undefined) return next();
    ctx.result = await answer;
  };
}

/** The resolve stage: finds the generated tool (once, so a hot reload never gives a call a mix). */
export function createResolveStage(deps: { registry(): Registry }): Stage {
  return async function resolve(ctx, next) {
    const tool = deps.registry().get(ctx.name);
    if (!tool) throw new GatewayError("not_found", `Unknown tool '${ctx.name}'`);
    ctx.tool = tool;
    ctx.audit.tool = tool.name;
    ctx.audit.module = tool.module;
    const upstream = deps.registry().upstreamOf?.(tool.name);
    if (upstream) ctx.audit.upstream = upstream.name;
    await next();
  };
}
