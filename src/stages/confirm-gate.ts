/**
 * The confirm gate: a write never reaches the upstream on the call that asks for it. It becomes a
 * pending action with a preview and a single-use confirm token; `confirm_action` later re-runs
 * the chain with `ctx.confirmed` set, and only then does the gate call `next()`.
 */
import type { CallContext, Stage, ToolResult } from "../context.js";
import { GatewayError } from "../errors.js";
import type { NewPendingAction, PendingActionStore } from "../stores/pending-actions/contract.js";
import { approvalNote, needsPerson } from "../approvals/policy.js";
import { mintConfirmation } from "../confirm/tokens.js";
import { createPreviewer, renderPreview, type BuiltPreview, type PreviewUpstream } from "../confirm/preview.js";
import { deepEqual } from "../confirm/diff.js";
import type { Approval, ToolDescriptor } from "../../codegen/descriptor.js";
import type { Principal } from "../context.js";

/** What the gate needs. */
export interface ConfirmGateDeps {
  store: PendingActionStore;
  /** All tools of the API `of` belongs to (the preview reads the current state through the GET on the same path). */
  tools(of?: ToolDescriptor): readonly ToolDescriptor[];
  /** The upstream executor (src/upstream's UpstreamClient). */
  upstream: PreviewUpstream;
  /** Lifetime of a confirm token. */
  ttlSeconds: number;
  now?: () => number;
  /** Refuse to preview an update or delete that could not be guarded (confirm.requireGuard). */
  requireGuard?: boolean;
  /** What a write does in the audit trail's words (kept with the action for later records about it). */
  describe?: (tool: ToolDescriptor, args: Record<string, unknown>) => string;
  /** Who approves a write (src/approvals); absent: the agent, always. */
  approvalOf?: (tool: ToolDescriptor, principal: Principal) => Approval;
  /** Lifetime of an action that needs a person. */
  approvalTtlMs?: number;
  /** Told of a new action that needs a person, after it is stored (src/approvals puts it in the inbox). */
  personNeeded?: (action: NewPendingAction, principal: Principal) => Promise<void>;
}

/** Upstream answers that mean "the resource is not the one previewed". */
const PRECONDITION_FAILED = 412;
const VERSION_CONFLICT = 409;

/** Creates the confirm-gate stage. */
export function createConfirmGateStage(deps: ConfirmGateDeps): Stage {
  const now = deps.now ?? Date.now;
  const previewer = createPreviewer({ tools: deps.tools, upstream: deps.upstream, requireGuard: deps.requireGuard });

  return async function confirmGate(ctx: CallContext, next: () => Promise<void>): Promise<void> {
    const tool = ctx.tool;
    if (!tool) throw new GatewayError("internal", "confirm gate reached without a tool", { expose: false });
    if (!tool.policy.write) return next();
    const principal = ctx.principal;
    if (ctx.confirmed) return runConfirmed(ctx, tool, principal, ctx.confirmed, next);

    const built = await previewer.build(tool, ctx.args, { principal, signal: ctx.signal });
    const approval = deps.approvalOf?.(tool, principal) ?? "agent";
    if (ctx.run) {
      // A write inside a code run joins the run's change set; run_code stores the set as one action.
      ctx.audit.outcome = "pending";
      ctx.audit.type = "pending";
      ctx.audit.summary = built.preview.summary;
      ctx.result = ctx.run.collect({ tool, args: built.args, preview: built.preview, approval, ...(built.ifMatch !== undefined ? { ifMatch: built.ifMatch } : {}) });
      return;
    }
    const minted = mintConfirmation();
    const createdAt = now();
    const person = needsPerson(approval);
    const expiresAt = createdAt + (person && deps.approvalTtlMs !== undefined ? deps.approvalTtlMs : deps.ttlSeconds * 1000);
    const action: NewPendingAction = {
      id: minted.actionId,
      tokenId: principal.tokenId,
      tier: principal.tier,
      tool: tool.name,
      args: built.args,
      tokenHash: minted.tokenHash,
      createdAt,
      expiresAt,
      preview: built.preview,
      ...(built.ifMatch !== undefined ? { ifMatch: built.ifMatch } : {}),
      ...(ctx.sessionId !== undefined ? { sessionId: ctx.sessionId } : {}),
      ...(deps.describe ? { about: deps.describe(tool, built.args) } : {}),
      ...(approval !== "agent" ? { approval } : {}),
    };
    await deps.store.create(action);
    if (person) await deps.personNeeded?.(action, principal);
    const expiresIso = new Date(expiresAt).toISOString();
    ctx.audit.outcome = "pending";
    ctx.audit.type = "pending";
    ctx.audit.actionId = minted.actionId;
    ctx.audit.summary = built.preview.summary;
    ctx.pending = { actionId: minted.actionId, confirmToken: minted.confirmToken, expiresAt: expiresIso, preview: built.preview };
    ctx.result = pendingResult(minted.actionId, minted.confirmToken, expiresIso, built, approval);
  };

  async function runConfirmed(ctx: CallContext, tool: ToolDescriptor, principal: Principal, confirmed: NonNullable<CallContext["confirmed"]>, next: () => Promise<void>): Promise<void> {
    // `confirmed` is only honoured for the action confirm_action has claimed, with its exact
    // arguments, so no other caller of the chain can slip a write past the gate.
    const action = await deps.store.get(confirmed.actionId);
    if (!action || action.state !== "executing" || action.tool !== tool.name || action.tokenId !== principal.tokenId || !deepEqual(action.args, ctx.args)) {
      throw new GatewayError("confirmation_invalid", "This call does not match a confirmed pending action.");
    }
    // A person's approval is the only way past the gate for an action that needs one.
    if (needsPerson(action.approval) && !confirmed.approvedBy) {
      throw new GatewayError("confirmation_invalid", "This action needs a person's approval in the console; nothing was sent.");
    }
    ctx.audit.actionId = action.id;
    ctx.audit.type = "confirmed";
    ctx.audit.summary = action.preview.summary;
    const guarded = action.ifMatch !== undefined || action.preview.version !== undefined;
    const conflict = (status: number | undefined): boolean =>
      status === PRECONDITION_FAILED || (guarded && status === VERSION_CONFLICT);
    try {
      await next();
    } catch (err) {
      if (conflict(ctx.upstream?.status)) throw staleError(action.id, err);
      throw err;
    }
  }
}

function staleError(actionId: string, cause?: unknown): GatewayError {
  return new GatewayError("conflict", "The resource changed since the preview; preview again (call the tool again for a fresh preview).", {
    details: { action_id: actionId },
    cause,
  });
}

function pendingResult(actionId: string, confirmToken: string, expiresAt: string, built: BuiltPreview, approval: Approval): ToolResult {
  const text = renderPreview(built.preview, { actionId, confirmToken, expiresAt });
  return {
    content: [{ type: "text", text: approval === "agent" ? text : `${text}\n${approvalNote(approval)}` }],
    structuredContent: {
      status: "pending_confirmation",
      action_id: actionId,
      confirm_token: confirmToken,
      expires_at: expiresAt,
      preview: built.preview,
      ...(approval !== "agent" ? { approval } : {}),
    },
  };
}
