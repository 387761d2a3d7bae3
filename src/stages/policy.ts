/**
 * The policy stage: scope isolation (a token sees and calls only its modules), read-only tokens
 * (no write tools), and exclusions enforced at run time — the descriptor's own `policy.excluded`
 * and the config's `exclusions`, which can retire an operation without regenerating.
 * `visibleTools` applies the same decision to tools/list, so what is listed is what is callable.
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { CallContext, Principal, Stage } from "../context.js";
import { GatewayError } from "../errors.js";

/** A config exclusion: every given field must match (`*` is a wildcard); at least one is given. */
export interface ExclusionRule {
  readonly upstream?: string;
  readonly tool?: string;
  readonly module?: string;
  readonly operationId?: string;
  readonly reason?: string;
}

/** Why a tool is refused to a principal. */
export type PolicyRefusal = "scope" | "read_only" | "excluded";

/** The decision for one (principal, tool). */
export type PolicyDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: PolicyRefusal; readonly message: string };

/** What the policy needs. */
export interface PolicyDeps {
  readonly exclusions?: readonly ExclusionRule[];
  /** The upstream a tool belongs to, in a gateway of several (src/upstreams); undefined for a lone API. */
  readonly upstreamOf?: (tool: ToolDescriptor) => string | undefined;
}

/** The policy as plain functions (the stage and tools/list share them). */
export interface Policy {
  decide(principal: Principal, tool: ToolDescriptor): PolicyDecision;
  /** The tools `principal` may see in tools/list (and search). */
  visibleTools(principal: Principal, tools: readonly ToolDescriptor[]): ToolDescriptor[];
  /** Why `tool` is excluded, or `undefined` when it is not. */
  exclusionOf(tool: ToolDescriptor): string | undefined;
}

/** Checks a config exclusion list; returns the rules or throws naming the bad entry. */
export function checkExclusions(value: unknown, key = "exclusions"): ExclusionRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${key} must be a list of { upstream?, tool?, module?, operationId?, reason? }`);
  return value.map((entry, i) => {
    const at = `${key}[${i}]`;
    if (typeof entry !== "object" || entry === null) throw new Error(`${at} must be an object`);
    const rule: Record<string, string> = {};
    for (const [k, v] of Object.entries(entry)) {
      if (!["upstream", "tool", "module", "operationId", "reason"].includes(k)) throw new Error(`${at}.${k} is not a known field (upstream, tool, module, operationId, reason)`);
      if (typeof v !== "string" || v === "") throw new Error(`${at}.${k} must be a non-empty string`);
      rule[k] = v;
    }
    if (!rule.upstream && !rule.tool && !rule.module && !rule.operationId) throw new Error(`${at} must name at least one of upstream, tool, module, operationId`);
    return Object.freeze(rule) as ExclusionRule;
  });
}

function glob(pattern: string): RegExp {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`);
}

/** Builds the policy. */
export function createPolicy(deps: PolicyDeps = {}): Policy {
  const rules = (deps.exclusions ?? []).map((rule) => ({
    rule,
    upstream: rule.upstream === undefined ? undefined : glob(rule.upstream),
    tool: rule.tool === undefined ? undefined : glob(rule.tool),
    module: rule.module === undefined ? undefined : glob(rule.module),
    operationId: rule.operationId === undefined ? undefined : glob(rule.operationId),
  }));

  function exclusionOf(tool: ToolDescriptor): string | undefined {
    if (tool.policy.excluded !== false) return tool.policy.excluded || "excluded by the spec";
    for (const r of rules) {
      if (r.upstream && !r.upstream.test(deps.upstreamOf?.(tool) ?? "")) continue;
      if (r.tool && !r.tool.test(tool.name)) continue;
      if (r.module && !r.module.test(tool.module)) continue;
      if (r.operationId && !(tool.operationId !== undefined && r.operationId.test(tool.operationId))) continue;
      return r.rule.reason ?? "excluded by the gateway configuration";
    }
    return undefined;
  }

  function decide(principal: Principal, tool: ToolDescriptor): PolicyDecision {
    const excluded = exclusionOf(tool);
    if (excluded !== undefined) {
      return { allowed: false, reason: "excluded", message: `Tool '${tool.name}' is excluded and can't be called: ${excluded}` };
    }
    if (principal.upstreams) {
      // Fails closed: a token scoped to upstreams uses nothing of a lone API, which has no upstream name.
      const upstream = deps.upstreamOf?.(tool);
      if (upstream === undefined || !principal.upstreams.includes(upstream)) {
        return {
          allowed: false,
          reason: "scope",
          message: `Tool '${tool.name}' belongs to ${upstream === undefined ? "no named upstream" : `upstream '${upstream}'`}, which is outside this token's scope (upstreams: ${principal.upstreams.join(", ") || "none"})`,
        };
      }
    }
    if (principal.modules !== "all" && !principal.modules.includes(tool.module)) {
      return {
        allowed: false,
        reason: "scope",
        message: `Tool '${tool.name}' belongs to module '${tool.module}', which is outside this token's scope (modules: ${principal.modules.join(", ") || "none"})`,
      };
    }
    if (principal.readOnly && tool.policy.write) {
      return {
        allowed: false,
        reason: "read_only",
        message: `Tool '${tool.name}' changes data (${tool.binding.method} ${tool.binding.path}) and this token is read-only`,
      };
    }
    return { allowed: true };
  }

  return {
    decide,
    exclusionOf,
    visibleTools(principal, tools) {
      return tools.filter((tool) => decide(principal, tool).allowed);
    },
  };
}

/** Builds the policy stage; refusals never reach the upstream. */
export function createPolicyStage(deps: { readonly policy: Policy }): Stage {
  return async function policy(ctx: CallContext, next: () => Promise<void>): Promise<void> {
    if (!ctx.tool) throw new GatewayError("internal", "policy stage reached without a tool", { expose: false });
    const decision = deps.policy.decide(ctx.principal, ctx.tool);
    if (!decision.allowed) {
      throw new GatewayError("forbidden", decision.message, { details: { reason: decision.reason, tool: ctx.tool.name } });
    }
    await next();
  };
}
