/**
 * The rate-limit stage: every tools/call a client makes takes one point from the token's normal
 * bucket — here, unless the HTTP transport already took it in `admit` to answer 429 itself. A
 * sensitive write takes a point from the sensitive bucket when it executes (`ctx.confirmed`),
 * not when it is previewed; that execution is part of the confirm_action call, which already
 * paid its normal point, so it does not pay a second one.
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { CallContext, Principal, Stage } from "../context.js";
import { GatewayError } from "../errors.js";
import type { Bucket, RateLimits } from "../stores/rate-limits.js";

/** What the rate-limit stage and `admit` need. */
export interface RateLimitDeps {
  readonly limits: RateLimits;
}

/** Whether executing `tool` counts against the sensitive bucket. */
export function isSensitiveWrite(tool: ToolDescriptor): boolean {
  return tool.policy.write && tool.policy.sensitive;
}

/** Takes one point from `bucket`, or throws the GatewayError the transports map (429 / tool error). */
export async function take(limits: RateLimits, bucket: Bucket, principal: Principal): Promise<void> {
  const result = await limits.consume(bucket, principal.tokenId, principal.tier);
  switch (result.kind) {
    case "allowed":
      return;
    case "limited": {
      const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      const per = limits.windowSeconds === 60 ? "minute" : `${limits.windowSeconds} s`;
      throw new GatewayError(
        "rate_limited",
        `Rate limit exceeded: this token's ${bucket} bucket allows ${result.limit} calls per ${per}; retry in ${seconds} s`,
        { retryAfterSeconds: seconds, details: { bucket, limit: result.limit } },
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

/** The transport-side admission: one point from the normal bucket for a tools/call (any tool, meta-tools too). */
export function createAdmit(deps: RateLimitDeps): (principal: Principal, toolName?: string) => Promise<void> {
  return function admit(principal: Principal): Promise<void> {
    return take(deps.limits, "normal", principal);
  };
}

/** Builds the rate-limit stage. */
export function createRateLimitStage(deps: RateLimitDeps): Stage {
  return async function rateLimit(ctx: CallContext, next: () => Promise<void>): Promise<void> {
    if (!ctx.principal) throw new GatewayError("internal", "rate-limit stage reached without a principal", { expose: false });
    if (!ctx.admitted && !ctx.confirmed) {
      await take(deps.limits, "normal", ctx.principal);
      ctx.admitted = true;
    }
    if (ctx.confirmed && isSensitiveWrite(ctx.tool)) await take(deps.limits, "sensitive", ctx.principal);
    await next();
  };
}
