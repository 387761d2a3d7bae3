/**
 * What the agent sees of an action that needs a person: confirm_action answers
 * `awaiting_approval` and runs nothing (for `both` it is the agent's half of the approval, and
 * puts the action in the inbox); get_action tells where any of its actions stands.
 */
import type { ToolResult } from "../context.js";
import { GatewayError } from "../errors.js";
import type { PendingAction, PendingActionStore } from "../stores/pending-actions/contract.js";
import type { ApprovalHub } from "./hub.js";
import type { ApprovalRecord } from "./store.js";

/** Where an action stands, as get_action and the decision notice say it. */
export type ActionStatus =
  | "pending"
  | "awaiting_approval"
  | "executing"
  | "executed"
  | "failed"
  | "rejected"
  | "cancelled"
  | "expired"
  | "interrupted"
  | "unknown";

/** Who may approve, as the agent is told. */
export function approversOf(hub: ApprovalHub): string {
  return hub.config.separateApprover ? "a console admin other than the one who created this token" : "a console admin";
}

/** The status of an action (undefined: none of the caller's). */
export function statusOf(action: PendingAction | undefined, record: ApprovalRecord | undefined, now: number): ActionStatus {
  if (!action) return "unknown";
  switch (action.state) {
    case "pending":
      if (now >= action.expiresAt) return "expired";
      return record?.awaitingSince !== undefined ? "awaiting_approval" : "pending";
    case "executing":
      return "executing";
    case "done":
      return action.outcome?.status === "executed" ? "executed" : action.outcome?.status === "unknown" ? "interrupted" : "failed";
    case "cancelled":
      return record?.decision?.verdict === "rejected" ? "rejected" : "cancelled";
    case "expired":
      return "expired";
    case "unknown":
      return "interrupted";
  }
}

/** get_action's answer (also the data of the decision notice). */
export function describeAction(action: PendingAction | undefined, record: ApprovalRecord | undefined, hub: ApprovalHub, now: number, actionId: string): ToolResult {
  const status = statusOf(action, record, now);
  const out: Record<string, unknown> = { status, action_id: actionId };
  if (!action) {
    return { content: [{ type: "text", text: `No action ${actionId} of yours is known (it never existed, belongs to another token, or was forgotten after its retention period).` }], structuredContent: out };
  }
  out.tool = action.tool;
  out.summary = action.preview.summary;
  out.approval = action.approval ?? "agent";
  out.expires_at = new Date(action.expiresAt).toISOString();
  const decision = record?.decision;
  if (decision) {
    out.decision = { verdict: decision.verdict, by: decision.by, at: new Date(decision.at).toISOString(), ...(decision.reason ? { reason: decision.reason } : {}), ...(decision.outcome ? { outcome: decision.outcome } : {}) };
  }
  if (status === "awaiting_approval") out.approvers = approversOf(hub);
  if (action.outcome && (status === "executed" || status === "failed" || status === "interrupted")) {
    out.result = action.outcome.result.structuredContent ?? null;
  }
  const lines: Record<ActionStatus, string> = {
    pending: `Action ${actionId} is pending: ${action.approval === "both" ? "call confirm_action to send it to a person for approval" : "call confirm_action to run it"}.`,
    awaiting_approval: `Action ${actionId} is waiting for ${approversOf(hub)} to approve it in the console (until ${String(out.expires_at)}). Nothing has been sent.`,
    executing: `Action ${actionId} is running now.`,
    executed: `Action ${actionId} was ${decision ? `approved by ${decision.by} and ` : ""}executed.`,
    failed: `Action ${actionId} ${decision ? `was approved by ${decision.by} but ` : ""}failed and will not run again${decision?.outcome === "conflict" ? ": the resource changed since the preview (conflict); preview again" : ""}.`,
    rejected: `Action ${actionId} was rejected by ${decision?.by ?? "a person"}${decision?.reason ? `: ${decision.reason}` : ""}. Nothing was sent.`,
    cancelled: `Action ${actionId} was cancelled; nothing was sent.`,
    expired: `Action ${actionId} expired before it was ${action.approval === "agent" || action.approval === undefined ? "confirmed" : "approved"}; nothing was sent.`,
    interrupted: `The outcome of action ${actionId} is unknown: the gateway stopped while running it. It will not run again.`,
    unknown: "",
  };
  const content: ToolResult["content"] = [{ type: "text", text: lines[status] }];
  if (action.outcome && status !== "executing") content.push(...action.outcome.result.content);
  // Telling where an action stands is a success even when the action failed: the status says so.
  return { content, structuredContent: out };
}

/** Options of the confirm of an action that needs a person. */
export interface AgentConfirmDeps {
  readonly hub: ApprovalHub;
  readonly store: PendingActionStore;
  readonly now: number;
  /** The agent's own window to confirm a `both` action. */
  readonly confirmTtlMs: number;
}

/**
 * confirm_action on an action that needs a person. Answers for a pending, rejected or running
 * action; undefined for the other states, which the ordinary confirm answers (already executed,
 * cancelled, expired) without running anything.
 */
export async function confirmNeedingPerson(action: PendingAction, deps: AgentConfirmDeps): Promise<ToolResult | undefined> {
  const { hub, now } = deps;
  let record = await hub.store.get(action.id);
  if (action.state === "pending" && now < action.expiresAt) {
    if (action.approval === "both" && record?.awaitingSince === undefined) {
      if (now >= action.createdAt + deps.confirmTtlMs) {
        await deps.store.cancel(action.id, action.tokenId);
        throw new GatewayError("confirmation_invalid", `The confirm token expired at ${new Date(action.createdAt + deps.confirmTtlMs).toISOString()}; nothing was sent. Call the tool again for a new preview.`, { details: { action_id: action.id, status: "expired", reason: "expired" } });
      }
      const marked = await hub.store.markAwaiting(action.id, now);
      if (marked) hub.entered(marked);
      record = marked ?? (await hub.store.get(action.id));
    }
    const expiresAt = new Date(action.expiresAt).toISOString();
    return {
      content: [{ type: "text", text: `Action ${action.id} is waiting for ${approversOf(hub)} to approve it in the console; nothing has been sent. Ask get_action({"action_id": "${action.id}"}) for the outcome, or wait for the notice on this session (until ${expiresAt}).` }],
      structuredContent: { status: "awaiting_approval", action_id: action.id, approvers: approversOf(hub), expires_at: expiresAt },
    };
  }
  if (action.state === "executing" || (action.state === "cancelled" && record?.decision?.verdict === "rejected")) {
    return describeAction(action, record, hub, now, action.id);
  }
  return undefined;
}
