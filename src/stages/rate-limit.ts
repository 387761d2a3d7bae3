/**
 * Rate limits. Admission charges every tools/call a client makes one point of the token's normal
 * bucket — before any tool runs, so over HTTP a refusal can be a 429 — whatever the transport and
 * whatever the tool (meta-tools too). The rate-limit stage of the tool-call chain charges a
 * sensitive write one point of the sensitive bucket when it executes (`ctx.confirmed`), not when it
 * is previewed; that execution is part of a confirm_action call, which paid its normal point.
 *
 * In a gateway of several upstreams each upstream has its own budget: a call to one of its tools
 * (directly, or through call_tool, which names it) takes its point there, so a token that used up
 * its calls to one upstream can still call the others. confirm_action takes its point where the
 * pending action it names runs (its upstream), as the sensitive point of that execution does. The
 * gateway's other tools (search_tools, run_code, …), and a confirm whose token names none of the
 * caller's actions, take theirs from the token's gateway-wide budget, the one a lone API has.
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { AdmissionStage, Principal, Stage } from "../context.js";
import { GatewayError } from "../errors.js";
import type { Bucket, RateLimits, UpstreamScope } from "../stores/rate-limits.js";

/** What the rate-limit stages need. */
export interface RateLimitDeps {
  readonly limits: RateLimits;
  /** The upstream budget a tool's calls count against (a gateway of several); undefined: the gateway-wide one. */
  readonly scopeOf?: (toolName: string) => UpstreamScope | undefined;
  /** The tool of the caller's own pending action a confirm token names; undefined for anything else. */
  readonly pendingToolOf?: (confirmToken: unknown, principal: Principal) => Promise<string | undefined>;
  /** Checked before a point is taken for a tool (Redis mode: writes fail closed while Redis is down). */
  readonly beforeCall?: (toolName: string) => void;
}

/** Whether executing `tool` counts against the sensitive bucket. */
export function isSensitiveWrite(tool: ToolDescriptor): boolean {
  return tool.policy.write && tool.policy.sensitive;
}

/** Takes one point from `bucket`, or throws the GatewayError the transports map (429 / tool error). */
export async function take(limits: RateLimits, bucket: Bucket, principal: Principal, upstream?: UpstreamScope): Promise<void> {
  const result = await limits.consume(bucket, principal.tokenId, principal.tier, upstream);
  switch (result.kind) {
    case "allowed":
      return;
    case "limited": {
      const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      const per = limits.windowSeconds === 60 ? "minute" : `${limits.windowSeconds} s`;
      const on = upstream ? ` on upstream '${upstream.name}'` : "";
      throw new GatewayError(
        "rate_limited",
        `Rate limit exceeded: this token's ${bucket} bucket${on} allows ${result.limit} calls per ${per}; retry in ${seconds} s`,
        { retryAfterSeconds: seconds, details: { bucket, limit: result.limit, ...(upstream ? { upstream: upstream.name } : {}) } },
      );
    }
    case "unknown_tier":
      throw new GatewayError("internal", `This token's tier '${result.tier}' is not defined in the config (rateLimits.tiers)`, {
        expose: true,
        details: { reason: "unknown_tier" },
      });
    case "unavailable":
      throw new GatewayError("unavailable", "Rate limiter temporarily unavailable, retry", { retryAfterSeconds: 1, cause: result.error });
  }
}

/** A refusal of one call of a request, tagged with that call's JSON-RPC id. */
export function forCall(err: unknown, id: string | number | null | undefined): unknown {
  if (id !== undefined && err instanceof GatewayError) err.rpcId = id;
  return err;
}

/** The tool a call runs: call_tool's is the one it names; confirm_action's, its pending action's. */
async function toolOfCall(deps: RateLimitDeps, call: { readonly name: string; readonly args?: unknown }, principal: Principal): Promise<string> {
  const args = call.args as { name?: unknown; confirm_token?: unknown } | undefined;
  if (call.name === "confirm_action" && deps.pendingToolOf) return (await deps.pendingToolOf(args?.confirm_token, principal)) ?? call.name;
  if (call.name !== "call_tool") return call.name;
  return typeof args?.name === "string" ? args.name : call.name;
}

/** Admission's rate-limit stage: one normal-bucket point per tools/call of the request. */
export function createAdmitStage(deps: RateLimitDeps): AdmissionStage {
  return async function admit(ctx, next) {
    const principal = ctx.principal;
    if (!principal) throw new GatewayError("internal", "admit stage reached without a principal", { expose: false });
    for (const call of ctx.calls) {
      try {
        deps.beforeCall?.(call.name);
        const scope = deps.scopeOf && deps.scopeOf(await toolOfCall(deps, call, principal));
        await take(deps.limits, "normal", principal, scope);
      } catch (err) {
        throw forCall(err, call.id);
      }
    }
    await next();
  };
}

/** The tool-call chain's rate-limit stage: the sensitive bucket, for a sensitive write as it executes. */
export function createRateLimitStage(deps: RateLimitDeps): Stage {
  return async function rateLimit(ctx, next) {
    if (ctx.confirmed && ctx.tool && isSensitiveWrite(ctx.tool)) await take(deps.limits, "sensitive", ctx.principal, deps.scopeOf?.(ctx.tool.name));
    await next();
  };
}
