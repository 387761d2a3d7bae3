/**
 * A code run's change set: the writes its script asked for, in order, each previewed as a single
 * write would be, and stored as ONE pending action (one confirm token) when the run ends.
 */
import type { Approval, ToolDescriptor } from "../../codegen/descriptor.js";
import type { CodeRun, CollectedWrite, ToolResult } from "../context.js";
import { GatewayError } from "../errors.js";
import type { Preview } from "../confirm/preview.js";
import { refsIn } from "./refs.js";

/** The pending action's `tool` for a change set (confirm_action runs its steps in order). */
export const CHANGE_SET_TOOL = "run_code";

export type StepKind = "create" | "update" | "delete";
/** How much care a write asks of the person approving it, least to most. */
export const APPROVAL_LEVELS = ["standard", "sensitive", "destructive"] as const;
export type ApprovalLevel = (typeof APPROVAL_LEVELS)[number];

/** One write of a change set, as stored in the action's arguments. */
export interface ChangeStep {
  /** `w1`, `w2`, …: what the script's placeholder and later references call it. */
  readonly ref: string;
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly ifMatch?: string;
  /** Who must approve this write on its own (the approval policy); absent: the agent. */
  readonly approval?: Approval;
}

/** What a stored change set's arguments hold. */
export interface ChangeSetArgs {
  readonly run_id: string;
  readonly intent: string;
  readonly steps: readonly ChangeStep[];
}

/** One step as the change set's preview shows it. */
export interface StepPreview extends Preview {
  readonly ref: string;
  readonly kind: StepKind;
  readonly approval: ApprovalLevel;
  /** Who must approve this write (the approval policy for its tool and the caller). */
  readonly approval_policy: Approval;
  /** Earlier writes whose results this one uses. */
  readonly uses?: readonly string[];
}

/** The whole change set's preview. */
export interface ChangeSetPreview extends Preview {
  readonly intent: string;
  readonly run_id: string;
  readonly steps: readonly StepPreview[];
  readonly totals: Readonly<Record<StepKind, number>>;
  /** The approval level of the strictest write (how much care it asks; for display). */
  readonly approval: ApprovalLevel;
  /** Who must approve the whole set: the strictest approval policy of its writes. */
  readonly approval_policy: Approval;
}

/** Approval policies, least to most strict: `both` asks the agent's confirmation and a person's. */
const POLICY_ORDER: readonly Approval[] = ["agent", "person", "both"];

/** The strictest of some approval policies (`agent` for none). */
export function strictestPolicy(policies: readonly (Approval | undefined)[]): Approval {
  return policies.reduce<Approval>((top, p) => (p !== undefined && POLICY_ORDER.indexOf(p) > POLICY_ORDER.indexOf(top) ? p : top), "agent");
}

export function isChangeSet(action: { tool: string; args: Record<string, unknown> }): boolean {
  return action.tool === CHANGE_SET_TOOL && Array.isArray(action.args.steps);
}

/**
 * A POST creates when it goes to a collection (a list is read on the same path, or the path does
 * not end at an item or an action on one); `POST /tasks/{id}/move` updates the task.
 */
function kindOf(tool: ToolDescriptor, tools: readonly ToolDescriptor[]): StepKind {
  const { method, path } = tool.binding;
  if (method === "DELETE") return "delete";
  if (method !== "POST") return "update";
  if (tools.some((t) => t.binding.method === "GET" && t.binding.path === path)) return "create";
  return /\}$/.test(path) || /\{[^}]+\}\/[a-z_-]+$/i.test(path) ? "update" : "create";
}

function approvalOf(tool: ToolDescriptor): ApprovalLevel {
  if (tool.binding.method === "DELETE" || tool.annotations.destructiveHint === true) return "destructive";
  return tool.policy.sensitive ? "sensitive" : "standard";
}

/**
 * A whole-value reference travels through the chain as a reserved UUID, so an argument that must
 * be a UUID (most ids) passes validation; collecting the write turns it back into `${w1.id}`.
 */
const STAND_IN = /00000000-c0de-4000-8000-([0-9a-f]{12})/g;
const WHOLE_REF = /^\$\{w\d+(?:\.[A-Za-z0-9_$-]+)*\}$/;

/** Collects one run's writes. `run` goes on every call the script makes. */
export function createChangeSet(runId: string, tools: () => readonly ToolDescriptor[]): { run: CodeRun; steps: StepPreview[]; stored: ChangeStep[]; encode(args: unknown): unknown } {
  const steps: StepPreview[] = [];
  const stored: ChangeStep[] = [];
  const standIns: string[] = [];
  const encode = (v: unknown): unknown => {
    if (typeof v === "string" && WHOLE_REF.test(v)) {
      let i = standIns.indexOf(v);
      if (i < 0) i = standIns.push(v) - 1;
      return `00000000-c0de-4000-8000-${i.toString(16).padStart(12, "0")}`;
    }
    if (Array.isArray(v)) return v.map(encode);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
    return v;
  };
  const decode = <T>(v: T): T => JSON.parse(JSON.stringify(v).replace(STAND_IN, (m, hex: string) => standIns[parseInt(hex, 16)] ?? m)) as T;
  const run: CodeRun = {
    runId,
    collect(collected: CollectedWrite): ToolResult {
      const write = { ...collected, args: decode(collected.args), preview: decode(collected.preview) };
      const n = steps.length + 1;
      const ref = `w${n}`;
      const uses = [...refsIn(write.args)].sort((a, b) => a - b);
      const ahead = uses.filter((u) => u >= n);
      if (ahead.length > 0) {
        throw new GatewayError("invalid_arguments", `${write.tool.name} refers to w${ahead[0]}, which is not an earlier write of this run.`);
      }
      let preview = write.preview as Preview;
      if (uses.length > 0) {
        // The resource may be one this change set creates: its current state cannot be read yet.
        const made = `uses the result of ${uses.map((u) => `w${u}`).join(", ")}, an earlier write of this change set`;
        preview = { ...preview, warnings: preview.warnings.filter((w) => !w.startsWith("The resource was not found")), current_note: made };
      }
      const step: StepPreview = { ...preview, ref, kind: kindOf(write.tool, tools()), approval: approvalOf(write.tool), approval_policy: write.approval ?? "agent", ...(uses.length > 0 ? { uses: uses.map((u) => `w${u}`) } : {}) };
      steps.push(step);
      stored.push({ ref, tool: write.tool.name, args: write.args, ...(write.ifMatch !== undefined ? { ifMatch: write.ifMatch } : {}), ...(write.approval !== undefined && write.approval !== "agent" ? { approval: write.approval } : {}) });
      const placeholder = { pending: true, ref, preview: { summary: step.summary, method: step.method, url: step.url, ...(step.diff ? { diff: step.diff } : {}), warnings: step.warnings } };
      return { content: [{ type: "text", text: `Pending (${ref}): ${step.summary}` }], structuredContent: placeholder };
    },
  };
  return { run, steps, stored, encode };
}

/** The preview and arguments of the one pending action a run's writes become. */
export function changeSetAction(runId: string, intent: string, steps: readonly StepPreview[], stored: readonly ChangeStep[]): { preview: ChangeSetPreview; args: ChangeSetArgs } {
  const totals: Record<StepKind, number> = { create: 0, update: 0, delete: 0 };
  for (const s of steps) totals[s.kind]++;
  const approval = steps.reduce<ApprovalLevel>((top, s) => (APPROVAL_LEVELS.indexOf(s.approval) > APPROVAL_LEVELS.indexOf(top) ? s.approval : top), "standard");
  const counts = (Object.entries(totals) as [StepKind, number][]).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}${n === 1 ? "" : "s"}`);
  const preview: ChangeSetPreview = {
    summary: `${intent} — ${steps.length} write${steps.length === 1 ? "" : "s"} (${counts.join(", ")})`,
    tool: CHANGE_SET_TOOL,
    method: "CHANGE_SET",
    url: steps.map((s) => `${s.method} ${s.url}`).join("; "),
    warnings: steps.flatMap((s) => s.warnings.map((w) => `${s.ref}: ${w}`)),
    intent,
    run_id: runId,
    steps,
    totals,
    approval,
    approval_policy: strictestPolicy(steps.map((s) => s.approval_policy)),
  };
  return { preview, args: { run_id: runId, intent, steps: stored } };
}

/** The change set's preview as text for the person: every write in order with its changes. */
export function renderChangeSet(preview: ChangeSetPreview, pending: { actionId: string; confirmToken: string; expiresAt: string }): string {
  const lines = [
    `PENDING CONFIRMATION: nothing has been sent yet (change set ${pending.actionId}).`,
    preview.summary,
    `Approval: ${preview.approval} (the strictest of its writes).`,
    ...(preview.approval_policy === "agent" ? [] : [`Approval policy: ${preview.approval_policy} (${preview.steps.filter((s) => s.approval_policy !== "agent").map((s) => s.ref).join(", ")} need a person, so the whole set does).`]),
  ];
  for (const s of preview.steps) {
    lines.push(`${s.ref} [${s.kind}] ${s.summary}`, `   ${s.method} ${s.url}`);
    if (s.body !== undefined) lines.push(`   Body: ${JSON.stringify(s.body).slice(0, 500)}`);
    for (const d of (s.diff ?? []).slice(0, 20)) {
      lines.push(`   ${d.change === "added" ? "+" : d.change === "removed" ? "-" : "~"} ${d.path}: ${d.change === "added" ? "" : `${JSON.stringify(d.before)?.slice(0, 120)} → `}${JSON.stringify(d.after)?.slice(0, 120) ?? ""}`);
    }
    if (s.current_note) lines.push(`   Note: ${s.current_note}`);
    for (const w of s.warnings) lines.push(`   WARNING: ${w}`);
  }
  lines.push(`To run every write in this order, call confirm_action with {"confirm_token": "${pending.confirmToken}"} before ${pending.expiresAt}; to drop them all, call cancel_action with the same token.`);
  return lines.join("\n");
}
