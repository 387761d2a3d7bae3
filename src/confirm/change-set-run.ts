/**
 * Confirming a change set (run_code's writes): each write runs in order, exactly once, as a step
 * action of its own (its id is the Idempotency-Key; the If-Match its preview read goes with it),
 * through the whole chain as a single confirmed action does. The first failure stops the set.
 *
 * A step's action is created (with the references to earlier results filled in) and claimed just
 * before it runs, so the store's own guarantees hold for every step: a step that was claimed is
 * never claimed again, and one interrupted by a crash reads `unknown` afterwards. Step ids derive
 * from the change set's id, so a later look at the set finds exactly what each step did.
 */
import { createHash } from "node:crypto";
import type { ToolResult } from "../context.js";
import { toGatewayError } from "../errors.js";
import type { PendingAction, PendingActionStore } from "../stores/pending-actions/contract.js";
import type { ChangeSetArgs, ChangeSetPreview } from "../code/change-set.js";
import { fillRefs } from "../code/refs.js";

/** What running one step answered (from the single-action executor). */
export interface StepOutcome {
  readonly status: string;
  readonly result: ToolResult;
}

/** One step in the report. */
export interface StepReport {
  readonly ref: string;
  readonly tool: string;
  readonly action_id: string;
  /** `executed`, `failed`, `unknown` (sent, outcome not known), or `not_run`. */
  readonly status: "executed" | "failed" | "unknown" | "not_run";
  readonly result?: unknown;
  readonly error?: unknown;
}

const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The action id of step `n` (1-based) of a change set: derived, so it is the same on every look. */
export function stepActionId(setId: string, n: number): string {
  const digest = createHash("sha256").update(`${setId}/${n}`).digest();
  let id = "";
  for (let i = 0; i < 20; i++) id += ALPHANUMERIC[digest[i]! % ALPHANUMERIC.length];
  return `act_${id}`;
}

/** The upstream's answer inside an executed step's result. */
function bodyOf(result: ToolResult): unknown {
  const structured = result.structuredContent?.result;
  if (structured !== undefined) return structured;
  for (const block of result.content) {
    if (block.type !== "text") continue;
    try {
      return JSON.parse(block.text) as unknown;
    } catch {
      // a headline, not the body
    }
  }
  return undefined;
}

function errorOf(result: ToolResult): unknown {
  return result.structuredContent?.error ?? result.content.map((c) => (c.type === "text" ? c.text : "")).join(" ");
}

/** A step as its stored action says it ended (for a set looked at again after a crash). */
function reportOf(ref: string, tool: string, id: string, stored: PendingAction | undefined): StepReport {
  if (!stored || stored.state === "pending" || stored.state === "cancelled" || stored.state === "expired") return { ref, tool, action_id: id, status: "not_run" };
  if (stored.state === "done" && stored.outcome?.status === "executed") return { ref, tool, action_id: id, status: "executed", result: bodyOf(stored.outcome.result) };
  if (stored.state === "done" && stored.outcome?.status === "failed") return { ref, tool, action_id: id, status: "failed", error: errorOf(stored.outcome.result) };
  return { ref, tool, action_id: id, status: "unknown" };
}

/** Renders the report: what ran, what failed and why, what did not run. */
export function changeSetResult(set: PendingAction, steps: readonly StepReport[], headline?: string): { result: ToolResult; status: "executed" | "failed" | "unknown" } {
  const failed = steps.find((s) => s.status === "failed");
  const unknown = steps.find((s) => s.status === "unknown");
  const status = unknown ? "unknown" : failed || steps.some((s) => s.status === "not_run") ? "failed" : "executed";
  const ran = steps.filter((s) => s.status === "executed").length;
  const lines = [
    headline ?? (status === "executed"
      ? `Executed change set ${set.id}: all ${steps.length} writes ran in order.`
      : `Change set ${set.id} stopped: ${ran} of ${steps.length} writes ran; it will not run again.`),
    ...steps.map((s) => `${s.ref} ${s.tool}: ${s.status}${s.status === "failed" ? ` (${typeof s.error === "string" ? s.error : JSON.stringify(s.error)})` : ""}${s.status === "unknown" ? " (sent, but whether it took effect is unknown; check before trying again)" : ""}`),
  ];
  return {
    status,
    result: {
      content: [{ type: "text", text: lines.join("\n") }],
      structuredContent: { status, action_id: set.id, steps },
      ...(status === "executed" ? {} : { isError: true }),
    },
  };
}

/** Runs a claimed change set's steps in order; `runStep` executes one claimed step action. */
export async function runChangeSet(
  set: PendingAction,
  deps: { store: PendingActionStore; now: () => number; runStep(step: PendingAction): Promise<StepOutcome> },
): Promise<{ result: ToolResult; status: "executed" | "failed" | "unknown" }> {
  const { store } = deps;
  const args = set.args as unknown as ChangeSetArgs;
  const previews = (set.preview as ChangeSetPreview).steps ?? [];
  const results = new Map<number, unknown>();
  const report: StepReport[] = [];
  let stopped = false;
  for (const [i, step] of args.steps.entries()) {
    const n = i + 1;
    const id = stepActionId(set.id, n);
    if (stopped) {
      report.push({ ref: step.ref, tool: step.tool, action_id: id, status: "not_run" });
      continue;
    }
    let claimed: PendingAction | undefined;
    try {
      const filled = fillRefs(step.args, results);
      const created = deps.now();
      await store.create({
        id,
        tokenId: set.tokenId,
        ...(set.tier !== undefined ? { tier: set.tier } : {}),
        tool: step.tool,
        args: filled,
        // Never presented: a confirm token names the change set, not its steps.
        tokenHash: set.tokenHash,
        createdAt: created,
        expiresAt: created + 600_000,
        preview: previews[i] ?? set.preview,
        ...(step.ifMatch !== undefined ? { ifMatch: step.ifMatch } : {}),
        ...(set.sessionId !== undefined ? { sessionId: set.sessionId } : {}),
        about: `${step.tool} (${step.ref} of change set ${set.id})`,
        // The step passes the gate only as the set was approved (by the person who approved it).
        ...(step.approval !== undefined ? { approval: step.approval } : {}),
      });
      const claim = await store.claim(id, set.tokenId);
      if (claim.kind === "claimed") claimed = claim.action;
    } catch (err) {
      const e = toGatewayError(err);
      report.push({ ref: step.ref, tool: step.tool, action_id: id, status: "failed", error: { code: e.code, message: e.expose ? e.message : "internal error" } });
      stopped = true;
      continue;
    }
    if (!claimed) {
      report.push(reportOf(step.ref, step.tool, id, await store.get(id)));
      stopped = true;
      continue;
    }
    const outcome = await deps.runStep(claimed);
    if (outcome.status === "executed") {
      const body = bodyOf(outcome.result);
      results.set(n, body);
      report.push({ ref: step.ref, tool: step.tool, action_id: id, status: "executed", result: body });
      continue;
    }
    stopped = true;
    if (outcome.status === "not_executed") {
      // Refused before it was sent (rate limited): it must not linger as a pending action of its own.
      await store.cancel(id, set.tokenId).catch(() => undefined);
      report.push({ ref: step.ref, tool: step.tool, action_id: id, status: "not_run", error: errorOf(outcome.result) });
    } else {
      report.push({ ref: step.ref, tool: step.tool, action_id: id, status: outcome.status === "unknown" ? "unknown" : "failed", error: errorOf(outcome.result) });
    }
  }
  return changeSetResult(set, report);
}

/** The report of a set whose run was interrupted (the gateway stopped mid-set): read from its steps' actions. */
export async function interruptedChangeSet(set: PendingAction, store: PendingActionStore): Promise<ToolResult> {
  const listed = (set.args as Partial<ChangeSetArgs>).steps;
  const steps: StepReport[] = [];
  if (listed) {
    for (const [i, s] of listed.entries()) steps.push(reportOf(s.ref, s.tool, stepActionId(set.id, i + 1), await store.get(stepActionId(set.id, i + 1))));
  } else {
    // A settled set keeps no arguments: its steps are found by their derived ids, in order.
    for (let n = 1; ; n++) {
      const stored = await store.get(stepActionId(set.id, n));
      if (!stored) break;
      steps.push(reportOf(`w${n}`, stored.tool, stored.id, stored));
    }
  }
  const ran = steps.filter((s) => s.status === "executed").length;
  const text = `Change set ${set.id} was interrupted: the gateway stopped while running it. ${ran} write(s) ran; none is run again, and writes after the interrupted one did not run.`;
  const { result } = changeSetResult(set, steps, text);
  return { ...result, isError: true, structuredContent: { ...result.structuredContent, status: "unknown" } };
}
