/**
 * Who approves a pending action: `agent` (confirm_action, as before), `person` (an admin, in the
 * console) or `both` (the agent confirms, then a person approves). Decided once, when the write
 * becomes a pending action, and stored on it.
 *
 * Order: the serve config's `approvals.rules` (first matching rule), else the tool's own policy
 * (`x-mcp-approval` or a generate-config rule), else `agent`. A rule may select by tool, module,
 * sensitivity, HTTP method, token id and tier. A token is marked "always needs a person" by its
 * record's flag (`tokens create --needs-person`) or by a rule that names it. Nothing here lowers an approval a rule did not name: a token rule only
 * ever escalates (`agent` → `person`; `both` stays `both`).
 */
import { APPROVALS, type Approval, type ToolDescriptor } from "../../codegen/descriptor.js";
import type { Principal } from "../context.js";

/** One rule of `approvals.rules`: every given selector must match (`*` wildcards in tool and module). */
export interface ApprovalRule {
  readonly tool?: string;
  readonly module?: string;
  readonly sensitive?: boolean;
  /** HTTP methods, upper case. */
  readonly methods?: readonly string[];
  /** Token ids (`tok_…`). */
  readonly tokens?: readonly string[];
  readonly tiers?: readonly string[];
  readonly approval: Approval;
}

const SELECTORS = ["tool", "module", "sensitive", "methods", "tokens", "tiers"] as const;
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

/** Checks `approvals.rules`; returns the frozen rules or throws naming the bad entry. */
export function checkApprovalRules(value: unknown, key = "approvals.rules"): readonly ApprovalRule[] {
  if (value === undefined || value === null) return Object.freeze([]);
  if (!Array.isArray(value)) throw new Error(`${key} must be a list of { approval, tool?, module?, sensitive?, methods?, tokens?, tiers? }`);
  return Object.freeze(
    value.map((entry: unknown, i) => {
      const at = `${key}[${i}]`;
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new Error(`${at} must be a mapping`);
      const o = entry as Record<string, unknown>;
      const rule: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(o)) {
        if (k === "approval") {
          if (!APPROVALS.includes(v as Approval)) throw new Error(`${at}.approval must be one of ${APPROVALS.join(", ")}`);
          rule.approval = v;
        } else if (k === "tool" || k === "module") {
          if (typeof v !== "string" || v === "") throw new Error(`${at}.${k} must be a non-empty string`);
          rule[k] = v;
        } else if (k === "sensitive") {
          if (typeof v !== "boolean") throw new Error(`${at}.sensitive must be true or false`);
          rule.sensitive = v;
        } else if (k === "methods" || k === "tokens" || k === "tiers") {
          const list = typeof v === "string" ? [v] : v;
          if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === "string" && x !== "")) throw new Error(`${at}.${k} must be a non-empty list of strings`);
          const items = k === "methods" ? list.map((m: string) => m.toUpperCase()) : [...(list as string[])];
          if (k === "methods") for (const m of items) if (!METHODS.has(m)) throw new Error(`${at}.methods: ${JSON.stringify(m)} is not an HTTP method (${[...METHODS].join(", ")})`);
          rule[k] = Object.freeze(items);
        } else {
          throw new Error(`${at}.${k} is not a known field (approval, ${SELECTORS.join(", ")})`);
        }
      }
      if (rule.approval === undefined) throw new Error(`${at}.approval is required (${APPROVALS.join(", ")})`);
      if (!SELECTORS.some((s) => rule[s] !== undefined)) throw new Error(`${at} must select with at least one of ${SELECTORS.join(", ")}`);
      return Object.freeze(rule) as unknown as ApprovalRule;
    }),
  );
}

function glob(pattern: string, value: string): boolean {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`).test(value);
}

/** Whether every selector the rule gives holds for this call. */
export function ruleMatches(rule: ApprovalRule, tool: ToolDescriptor, principal: Principal): boolean {
  if (rule.tool !== undefined && !glob(rule.tool, tool.name)) return false;
  if (rule.module !== undefined && !glob(rule.module, tool.module)) return false;
  if (rule.sensitive !== undefined && rule.sensitive !== tool.policy.sensitive) return false;
  if (rule.methods && !rule.methods.includes(tool.binding.method.toUpperCase())) return false;
  if (rule.tokens && !rule.tokens.includes(principal.tokenId)) return false;
  if (rule.tiers && !rule.tiers.includes(principal.tier)) return false;
  return true;
}

/** A rule about who asks (it selects only by token or tier): it can add a person, never remove one. */
function aboutCaller(rule: ApprovalRule): boolean {
  return rule.tool === undefined && rule.module === undefined && rule.sensitive === undefined && rule.methods === undefined;
}

/** The approval a write of `tool` by `principal` needs. */
export function approvalFor(tool: ToolDescriptor, principal: Principal, rules: readonly ApprovalRule[]): Approval {
  const first = rules.find((r) => !aboutCaller(r) && ruleMatches(r, tool, principal));
  const decided: Approval = first?.approval ?? tool.policy.approval ?? "agent";
  const personForCaller = principal.needsPerson === true || rules.some((r) => aboutCaller(r) && r.approval !== "agent" && ruleMatches(r, tool, principal));
  return personForCaller && decided === "agent" ? "person" : decided;
}

/** Whether a person has to approve. */
export function needsPerson(approval: Approval | undefined): boolean {
  return approval === "person" || approval === "both";
}

/** What the agent is told about an action that needs a person, under its preview. */
export function approvalNote(approval: Approval): string {
  return approval === "both"
    ? "APPROVAL: this write also needs a person. Calling confirm_action sends it to the approval inbox; it runs once a console admin approves it (get_action tells you the outcome)."
    : "APPROVAL: this write needs a person. It is in the approval inbox now; a console admin approves or rejects it. confirm_action and get_action tell you where it stands; only a person's approval runs it.";
}
