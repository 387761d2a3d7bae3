/**
 * confirm / cancel / list for pending actions, independent of MCP (the meta-tools are thin
 * wrappers). Confirming re-authenticates the caller, claims the action atomically, and runs the
 * stored call through the whole chain again with `confirmed` set.
 *
 * Concurrent confirms of one action: one claims and executes; the others wait (bounded) until it
 * settles and then answer `already_executed` with the stored outcome.
 */
import type { Principal, ProgressSink, ToolResult, Transport, ContentBlock } from "../context.js";
import { GatewayError, toToolResult } from "../errors.js";
import type { PendingAction, PendingActionStore } from "../stores/pending-actions/contract.js";
import { actionIdOf, confirmTokenMatches } from "./tokens.js";

/** The part of the gateway confirming needs. */
export interface ActionGateway {
  authenticate(credential?: string): Promise<Principal>;
  callTool(request: {
    name: string;
    args: Record<string, unknown>;
    credential?: string;
    transport: Transport;
    sessionId?: string;
    signal: AbortSignal;
    progress?: ProgressSink;
    admitted?: boolean;
    confirmed?: { actionId: string; ifMatch?: string };
  }): Promise<ToolResult>;
}

/** Who is confirming, as the session knows them. */
export interface ActionCaller {
  credential?: string;
  transport: Transport;
  sessionId?: string;
  signal: AbortSignal;
  progress?: ProgressSink;
}

export interface ConfirmActionsDeps {
  store: PendingActionStore;
  gateway: ActionGateway;
  /** How long a concurrent confirm waits for the one that is executing (default 60 s). */
  waitTimeoutMs?: number;
}

/** Error codes meaning the chain stopped before the gate let the call through: the action stays pending. */
const NOT_RUN_CODES = new Set(["rate_limited", "unauthorized", "unavailable"]);
const UNKNOWN_TOKEN = "Unknown confirm token: it was never issued, was altered, or belongs to another token. Nothing was sent.";

/** The confirm/cancel/list operations. */
export interface ConfirmActions {
  confirm(confirmToken: unknown, caller: ActionCaller): Promise<ToolResult>;
  cancel(confirmToken: unknown, caller: ActionCaller): Promise<ToolResult>;
  list(caller: ActionCaller): Promise<ToolResult>;
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
    const action = await store.get(actionId);
    if (!action || action.tokenId !== principal.tokenId || !confirmTokenMatches(confirmToken, action.tokenHash)) {
      throw new GatewayError("confirmation_invalid", UNKNOWN_TOKEN);
    }
    return action;
  }

  async function execute(action: PendingAction, caller: ActionCaller): Promise<ToolResult> {
    let result: ToolResult;
    try {
      result = await gateway.callTool({
        name: action.tool,
        args: action.args,
        ...(caller.credential !== undefined ? { credential: caller.credential } : {}),
        transport: caller.transport,
        ...(caller.sessionId !== undefined ? { sessionId: caller.sessionId } : {}),
        signal: caller.signal,
        ...(caller.progress ? { progress: caller.progress } : {}),
        admitted: false,
        confirmed: { actionId: action.id, ...(action.ifMatch !== undefined ? { ifMatch: action.ifMatch } : {}) },
      });
    } catch (err) {
      // callTool maps errors itself; anything thrown here is unexpected, and the write may have
      // happened, so the action is settled as failed rather than left to run again.
      const failed = toToolResult(new GatewayError("internal", "Executing the action failed unexpectedly.", { expose: true, cause: err }));
      await store.complete(action.id, { status: "failed", result: failed });
      return withStatus(failed, "failed", action.id);
    }
    const code = errorCodeOf(result);
    if (result.isError && code !== undefined && NOT_RUN_CODES.has(code)) {
      await store.release(action.id);
      const out = withStatus(result, "not_executed", action.id);
      out.content = [{ type: "text", text: `Action ${action.id} was not executed and is still pending.` }, ...result.content];
      return out;
    }
    const status = result.isError ? "failed" : "executed";
    try {
      await store.complete(action.id, { status, result });
    } catch {
      // The upstream has answered; the caller gets its answer even if the store could not keep
      // it (a later confirm then reports the outcome as unknown, and still never re-runs it).
    }
    return withStatus(result, status, action.id, status === "executed" ? `Executed action ${action.id}: ${action.preview.summary}` : `Action ${action.id} failed and will not run again: ${action.preview.summary}`);
  }

  return {
    async confirm(confirmToken, caller) {
      const principal = await gateway.authenticate(caller.credential);
      const found = await resolve(confirmToken, principal);
      // A released claim (rate limited elsewhere) can be claimed again; bounded so this always ends.
      for (let attempt = 0; attempt < 3; attempt++) {
        const claim = await store.claim(found.id, principal.tokenId);
        switch (claim.kind) {
          case "claimed":
            return execute(claim.action, caller);
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
      const principal = await gateway.authenticate(caller.credential);
      const found = await resolve(confirmToken, principal);
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

    async list(caller) {
      const principal = await gateway.authenticate(caller.credential);
      const actions = await store.list(principal.tokenId);
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

function errorCodeOf(result: ToolResult): string | undefined {
  const error = result.structuredContent?.error as { code?: unknown } | undefined;
  return typeof error?.code === "string" ? error.code : undefined;
}
