/**
 * The confirm gate: a write never reaches the upstream on the call that asks for it. It becomes a
 * pending action with a preview and a single-use confirm token; `confirm_action` later re-runs
 * the chain with `ctx.confirmed` set, and only then does the gate call `next()`.
 */
import type { CallContext, Stage, ToolResult } from "../context.js";
import { GatewayError } from "../errors.js";
import type { PendingActionStore } from "../stores/pending-actions/contract.js";
import { mintConfirmation } from "../confirm/tokens.js";
import { createPreviewer, renderPreview, type BuiltPreview, type PreviewUpstream } from "../confirm/preview.js";
import { deepEqual } from "../confirm/diff.js";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { Principal } from "../context.js";

/** What the gate needs. */
export interface ConfirmGateDeps {
  store: PendingActionStore;
  /** All tools of the API (the preview reads the current state through the GET on the same path). */
  tools(): readonly ToolDescriptor[];
  /** The upstream executor (src/upstream's UpstreamClient). */
  upstream: PreviewUpstream;
  /** Lifetime of a confirm token. */
  ttlSeconds: number;
  now?: () => number;
}

/** Upstream answers that mean "the resource is not the one previewed". */
const PRECONDITION_FAILED = 412;
const VERSION_CONFLICT = 409;

/** Creates the confirm-gate stage. */
export function createConfirmGateStage(deps: ConfirmGateDeps): Stage {
  const now = deps.now ?? Date.now;
  const previewer = createPreviewer({ tools: deps.tools, upstream: deps.upstream });

  return async function confirmGate(ctx: CallContext, next: () => Promise<void>): Promise<void> {
    if (!ctx.tool.policy.write) return next();
    const principal = ctx.principal;
    if (!principal) throw new GatewayError("unauthorized", "A write needs an authenticated token.");
    if (ctx.confirmed) return runConfirmed(ctx, principal, next);

    const built = await previewer.build(ctx.tool, ctx.args, { principal, signal: ctx.signal });
    const minted = mintConfirmation();
    const createdAt = now();
    const expiresAt = createdAt + deps.ttlSeconds * 1000;
    await deps.store.create({
      id: minted.actionId,
      tokenId: principal.tokenId,
      tool: ctx.tool.name,
      args: built.args,
      tokenHash: minted.tokenHash,
      createdAt,
      expiresAt,
      preview: built.preview,
      ...(built.ifMatch !== undefined ? { ifMatch: built.ifMatch } : {}),
      ...(ctx.sessionId !== undefined ? { sessionId: ctx.sessionId } : {}),
    });
    const expiresIso = new Date(expiresAt).toISOString();
    ctx.audit.outcome = "pending";
    ctx.audit.type = "pending";
    ctx.audit.actionId = minted.actionId;
    ctx.audit.summary = built.preview.summary;
    ctx.result = pendingResult(minted.actionId, minted.confirmToken, expiresIso, built);
  };

  async function runConfirmed(ctx: CallContext, principal: Principal, next: () => Promise<void>): Promise<void> {
    const confirmed = ctx.confirmed!;
    // `confirmed` is only honoured for the action confirm_action has claimed, with its exact
    // arguments, so no other caller of the chain can slip a write past the gate.
    const action = await deps.store.get(confirmed.actionId);
    if (!action || action.state !== "executing" || action.tool !== ctx.tool.name || action.tokenId !== principal.tokenId || !deepEqual(action.args, ctx.args)) {
      throw new GatewayError("confirmation_invalid", "This call does not match a confirmed pending action.");
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
      if (conflict(ctx.audit.upstreamStatus ?? statusOf(err))) throw staleError(action.id, err);
      throw err;
    }
    if (ctx.result?.isError && conflict(ctx.audit.upstreamStatus ?? statusOf(ctx.result.structuredContent?.error))) {
      throw staleError(action.id);
    }
  }
}

function staleError(actionId: string, cause?: unknown): GatewayError {
  return new GatewayError("conflict", "The resource changed since the preview; preview again (call the tool again for a fresh preview).", {
    details: { action_id: actionId },
    cause,
  });
}

/** The upstream status carried by an upstream error, wherever the upstream stage put it. */
function statusOf(err: unknown): number | undefined {
  if (!err || typeof err !== "object") return undefined;
  const e = err as { details?: Record<string, unknown>; status?: unknown; upstream_status?: unknown };
  for (const v of [e.details?.upstream_status, e.details?.status, e.upstream_status, e.status]) {
    if (typeof v === "number") return v;
  }
  return undefined;
}

function pendingResult(actionId: string, confirmToken: string, expiresAt: string, built: BuiltPreview): ToolResult {
  return {
    content: [{ type: "text", text: renderPreview(built.preview, { actionId, confirmToken, expiresAt }) }],
    structuredContent: {
      status: "pending_confirmation",
      action_id: actionId,
      confirm_token: confirmToken,
      expires_at: expiresAt,
      preview: built.preview,
    },
  };
}
