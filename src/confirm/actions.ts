/**
 * confirm / cancel / list for pending actions, independent of MCP (the meta-tools are thin
 * wrappers). Confirming re-authenticates the caller, claims the action atomically, and runs the
 * stored call through the whole chain again with `confirmed` set.
 *
 * Concurrent confirms of one action: one claims and executes; the others wait (bounded) until it
 * settles and then answer `already_executed` with the stored outcome.
 */
import type { CallContext, Principal, ProgressSink, ToolResult, Transport, ContentBlock } from "../context.js";
import { GatewayError, toToolResult, type ErrorCode } from "../errors.js";
import type { CallOutcome, CallRequest } from "../gateway.js";
import type { ClaimResult, PendingAction, PendingActionStore } from "../stores/pending-actions/contract.js";
import { actionIdOf, confirmTokenMatches } from "./tokens.js";
import { CHANGE_SET_TOOL, isChangeSet } from "../code/change-set.js";
import { interruptedChangeSet, runChangeSet } from "./change-set-run.js";
import type { ApprovalHub } from "../approvals/hub.js";
import { confirmNeedingPerson } from "../approvals/agent.js";
import { needsPerson } from "../approvals/policy.js";

/** The part of the gateway confirming needs: the tool-call chain. */
export interface ActionGateway {
  call(request: CallRequest): Promise<CallOutcome>;
}

/** Who is confirming: the principal admission resolved for this request, and the call it is in. */
export interface ActionCaller {
  principal: Principal;
  transport: Transport;
  sessionId?: string;
  signal: AbortSignal;
  progress?: ProgressSink;
  /** The confirm_action call itself: the execution's audit record stands in for its own. */
  call?: CallContext;
}

export interface ConfirmActionsDeps {
  store: PendingActionStore;
  gateway: ActionGateway;
  /** How long a concurrent confirm waits for the one that is executing (default 60 s). */
  waitTimeoutMs?: number;
  /** Actions that need a person: confirm_action then never runs them (src/approvals). */
  approvals?: ApprovalHub;
  /** The agent's window to confirm (a `both` action's first half). */
  confirmTtlMs?: number;
  now?: () => number;
}

/** Error codes meaning the chain stopped before the gate let the call through: the action stays pending. */
const NOT_RUN_CODES: ReadonlySet<ErrorCode> = new Set(["rate_limited", "unauthorized", "unavailable"]);
const UNKNOWN_TOKEN = "Unknown confirm token: it was never issued, was altered, or belongs to another token. Nothing was sent.";

/** The confirm/cancel/list operations. */
export interface ConfirmActions {
  confirm(confirmToken: unknown, caller: ActionCaller): Promise<ToolResult>;
  cancel(confirmToken: unknown, caller: ActionCaller): Promise<ToolResult>;
  list(caller: ActionCaller): Promise<ToolResult>;
  /**
   * Runs an action a person approved, once: claims it for its own token and runs the stored call
   * with `approvedBy` set. `claimed` carries what running it answered; any other kind says why it
   * did not run here (already running or done elsewhere, cancelled, expired, unknown).
   */
  runApproved(action: PendingAction, caller: ActionCaller, approvedBy: string): Promise<{ kind: "claimed"; result: ToolResult } | { kind: Exclude<ClaimResult["kind"], "claimed">; action?: PendingAction }>;
}

/**
 * The action a confirm token names, when it belongs to `tokenId` and the token matches its hash;
 * undefined for a malformed token, another token's action or a wrong secret alike.
 */
export async function ownAction(store: Pick<PendingActionStore, "get">, confirmToken: unknown, tokenId: string): Promise<PendingAction | undefined> {
  if (typeof confirmToken !== "string") return undefined;
  const actionId = actionIdOf(confirmToken);
  if (!actionId) return undefined;
  const action = await store.get(actionId);
  if (!action || action.tokenId !== tokenId || !confirmTokenMatches(confirmToken, action.tokenHash)) return undefined;
  return action;
}

/** Creates the confirm/cancel/list operations. */
export function createConfirmActions(deps: ConfirmActionsDeps): ConfirmActions {
  const { store, gateway } = deps;
  const waitTimeoutMs = deps.waitTimeoutMs ?? 60_000;

  /** Resolves a presented confirm token to the caller's action, refusing anything else with one message. */
  async function resolve(confirmToken: unknown, principal: Principal): Promise<PendingAction> {
    if (typeof confirmToken !== "string" || confirmToken.length === 0) {
      throw new GatewayError("invalid_arguments", "confirm_token is required: pass the confirm_token a pending write returned.");
    }
    const actionId = actionIdOf(confirmToken);
    if (!actionId) throw new GatewayError("confirmation_invalid", "Malformed confirm token: expected the cfm_… token a pending write returned. Nothing was sent.");
    const action = await ownAction(store, confirmToken, principal.tokenId);
    if (!action) throw new GatewayError("confirmation_invalid", UNKNOWN_TOKEN);
    return action;
  }

  async function execute(action: PendingAction, caller: ActionCaller, approvedBy?: string): Promise<ToolResult> {
    let outcome: CallOutcome;
    try {
      outcome = await gateway.call({
        name: action.tool,
        args: action.args,
        principal: caller.principal,
        transport: caller.transport,
        ...(caller.sessionId !== undefined ? { sessionId: caller.sessionId } : {}),
        signal: caller.signal,
        ...(caller.progress ? { progress: caller.progress } : {}),
        ...(caller.call ? { parent: caller.call } : {}),
        confirmed: { actionId: action.id, ...(action.ifMatch !== undefined ? { ifMatch: action.ifMatch } : {}), ...(approvedBy !== undefined ? { approvedBy } : {}) },
      });
    } catch (err) {
      // call never throws; anything thrown here is unexpected, and the write may have happened,
      // so the action is settled as unknown rather than left to run again.
      const unknown = toToolResult(new GatewayError("internal", "Executing the action failed unexpectedly; whether it ran is unknown.", { expose: true, retryable: false, cause: err }));
      await store.complete(action.id, { status: "unknown", result: unknown });
      return withStatus(unknown, "unknown", action.id);
    }
    const { result, error } = outcome;
    if (error && NOT_RUN_CODES.has(error.code)) {
      await store.release(action.id);
      const out = withStatus(result, "not_executed", action.id);
      out.content = [{ type: "text", text: `Action ${action.id} was not executed and is still pending.` }, ...result.content];
      return out;
    }
    // Sent, but no answer came back: the upstream may have acted. Never retried, never "failed".
    if (error && outcome.upstream?.delivery === "sent") {
      await settle(action.id, "unknown", result);
      return withStatus(result, "unknown", action.id, `The outcome of action ${action.id} is unknown, and it will not run again: ${action.preview.summary}`);
    }
    const status = error ? "failed" : "executed";
    await settle(action.id, status, result);
    return withStatus(result, status, action.id, status === "executed" ? `Executed action ${action.id}: ${action.preview.summary}` : `Action ${action.id} failed and will not run again: ${action.preview.summary}`);
  }

  /**
   * A change set (run_code's writes): its steps in order, each executed as a single action is
   * (approved by the same person as the set, when it needed one).
   */
  async function executeChangeSet(set: PendingAction, caller: ActionCaller, approvedBy?: string): Promise<ToolResult> {
    const { result, status } = await runChangeSet(set, {
      store,
      now: deps.now ?? Date.now,
      runStep: async (step) => {
        const out = await execute(step, caller, approvedBy);
        return { status: String(out.structuredContent?.status), result: out };
      },
    });
    await settle(set.id, status, result);
    return result;
  }

  async function settle(actionId: string, status: "executed" | "failed" | "unknown", result: ToolResult): Promise<void> {
    try {
      await store.complete(actionId, { status, result });
    } catch {
      // The upstream has answered; the caller gets its answer even if the store could not keep
      // it (a later confirm then reports the outcome as unknown, and still never re-runs it).
    }
  }

  return {
    async confirm(confirmToken, caller) {
      const principal = caller.principal;
      const found = await resolve(confirmToken, principal);
      if (caller.call) {
        caller.call.about = found.about;
        caller.call.audit.actionId = found.id;
      }
      // Only a person runs an action that needs one: the agent's confirm never claims it.
      if (deps.approvals && needsPerson(found.approval)) {
        const answer = await confirmNeedingPerson(found, { hub: deps.approvals, store, now: (deps.now ?? Date.now)(), confirmTtlMs: deps.confirmTtlMs ?? 600_000 });
        if (answer) return answer;
        if (found.state === "pending") throw new GatewayError("confirmation_invalid", `Action ${found.id} needs a person's approval; nothing was sent.`);
      }
      // A released claim (rate limited elsewhere) can be claimed again; bounded so this always ends.
      for (let attempt = 0; attempt < 3; attempt++) {
        const claim = await store.claim(found.id, principal.tokenId);
        switch (claim.kind) {
          case "claimed":
            return isChangeSet(claim.action) ? executeChangeSet(claim.action, caller) : execute(claim.action, caller);
          case "executing": {
            const settled = await store.waitForSettled(found.id, waitTimeoutMs, caller.signal);
            if (settled?.state === "executing") {
              return {
                content: [{ type: "text", text: `Action ${found.id} is being executed by another confirm_action call; call confirm_action again for its outcome.` }],
                structuredContent: { status: "executing", action_id: found.id },
              };
            }
            continue;
          }
          case "done":
            return alreadyExecuted(claim.action);
          case "unknown":
            if (claim.action.tool === CHANGE_SET_TOOL) return interruptedChangeSet(claim.action, store);
            return {
              isError: true,
              content: [{ type: "text", text: `The outcome of action ${found.id} is unknown: the gateway stopped while executing it. It was not re-run; check the resource before previewing again.` }],
              structuredContent: {
                status: "unknown",
                action_id: found.id,
                error: { code: "conflict", message: "Outcome unknown: the gateway stopped while executing this action; it will not be re-run.", retryable: false },
              },
            };
          case "cancelled":
            throw new GatewayError("confirmation_invalid", `Action ${found.id} was cancelled; nothing was sent. Call the tool again for a new preview.`, { details: { action_id: found.id, status: "cancelled", reason: "cancelled" } });
          case "expired":
            throw new GatewayError("confirmation_invalid", `The confirm token expired at ${new Date(claim.action.expiresAt).toISOString()}; nothing was sent. Call the tool again for a new preview.`, { details: { action_id: found.id, status: "expired", reason: "expired" } });
          case "not_found":
            throw new GatewayError("confirmation_invalid", UNKNOWN_TOKEN);
        }
      }
      throw new GatewayError("unavailable", `Action ${found.id} could not be claimed; try confirm_action again.`, { retryAfterSeconds: 1 });
    },

    async cancel(confirmToken, caller) {
      const principal = caller.principal;
      const found = await resolve(confirmToken, principal);
      if (caller.call) {
        caller.call.about = found.about;
        caller.call.audit.actionId = found.id;
      }
      const res = await store.cancel(found.id, principal.tokenId);
      switch (res.kind) {
        case "cancelled":
          return {
            content: [{ type: "text", text: `Cancelled action ${found.id}; nothing was sent. (${found.preview.summary})` }],
            structuredContent: { status: "cancelled", action_id: found.id },
          };
        case "expired":
          return {
            content: [{ type: "text", text: `Action ${found.id} had already expired; nothing was sent.` }],
            structuredContent: { status: "expired", action_id: found.id },
          };
        case "done":
          throw new GatewayError("confirmation_invalid", `Action ${found.id} was already executed; it can't be cancelled.`, { details: { action_id: found.id, status: "already_executed" } });
        case "executing":
          throw new GatewayError("confirmation_invalid", `Action ${found.id} is executing; it can't be cancelled.`, { details: { action_id: found.id, status: "executing" } });
        case "unknown":
          throw new GatewayError("confirmation_invalid", `Action ${found.id} was interrupted while executing; its outcome is unknown and it can't be cancelled.`, { details: { action_id: found.id, status: "unknown" } });
        case "claimed":
        case "not_found":
          throw new GatewayError("confirmation_invalid", UNKNOWN_TOKEN);
      }
    },

    async runApproved(action, caller, approvedBy) {
      const claim = await store.claim(action.id, action.tokenId);
      if (claim.kind === "claimed") {
        const result = isChangeSet(claim.action) ? await executeChangeSet(claim.action, caller, approvedBy) : await execute(claim.action, caller, approvedBy);
        return { kind: "claimed", result };
      }
      return claim.kind === "not_found" ? { kind: "not_found" } : { kind: claim.kind, action: claim.action };
    },

    async list(caller) {
      const actions = await store.list(caller.principal.tokenId);
      const items = actions.map((a) => ({
        action_id: a.id,
        tool: a.tool,
        summary: a.preview.summary,
        method: a.preview.method,
        url: a.preview.url,
        warnings: a.preview.warnings,
        created_at: new Date(a.createdAt).toISOString(),
        expires_at: new Date(a.expiresAt).toISOString(),
      }));
      const text = items.length === 0
        ? "No pending actions."
        : [`${items.length} pending action${items.length === 1 ? "" : "s"} (confirm with the confirm_token each preview returned):`,
          ...items.map((i) => `- ${i.action_id} ${i.method} ${i.url}: ${i.summary} (expires ${i.expires_at})`)].join("\n");
      return { content: [{ type: "text", text }], structuredContent: { actions: items } };
    },
  };
}

function alreadyExecuted(action: PendingAction): ToolResult {
  const outcome = action.outcome!;
  const when = action.settledAt !== undefined ? ` at ${new Date(action.settledAt).toISOString()}` : "";
  const out = withStatus(outcome.result, "already_executed", action.id, `Action ${action.id} was already executed${when} (${outcome.status}); it did not run again. Stored outcome follows.`);
  out.structuredContent = { ...out.structuredContent, outcome: outcome.status };
  return out;
}

/** The upstream result under `result`, with the action's status beside it (nested so an upstream `status` field is never overwritten). */
function withStatus(result: ToolResult, status: string, actionId: string, headline?: string): ToolResult {
  const structured: Record<string, unknown> = { status, action_id: actionId };
  if (result.structuredContent !== undefined) {
    if (result.isError && result.structuredContent.error !== undefined) Object.assign(structured, result.structuredContent);
    else structured.result = result.structuredContent;
    structured.status = status;
    structured.action_id = actionId;
  }
  const content: ContentBlock[] = headline ? [{ type: "text", text: headline }, ...result.content] : [...result.content];
  return { content, structuredContent: structured, ...(result.isError ? { isError: true } : {}) };
}
