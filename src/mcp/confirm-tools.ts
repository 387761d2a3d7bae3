/**
 * Meta-tools for pending actions: confirm_action, cancel_action, list_pending_actions.
 */
import type { CallContext } from "../context.js";
import type { Deps } from "../gateway.js";
import { createConfirmActions, type ActionCaller } from "../confirm/actions.js";
import type { MetaTool, SessionContext } from "../gateway.js";
import { watchDecision } from "../approvals/watch.js";

const TOKEN_INPUT = {
  type: "object",
  properties: {
    confirm_token: { type: "string", description: "The confirm_token returned by the pending write (cfm_…)." },
  },
  required: ["confirm_token"],
  additionalProperties: false,
} as const;

const LIST_OUTPUT = {
  type: "object",
  properties: {
    actions: {
      type: "array",
      items: {
        type: "object",
        properties: {
          action_id: { type: "string" },
          tool: { type: "string" },
          summary: { type: "string" },
          method: { type: "string" },
          url: { type: "string" },
          warnings: { type: "array", items: { type: "string" } },
          created_at: { type: "string", format: "date-time" },
          expires_at: { type: "string", format: "date-time" },
        },
        required: ["action_id", "tool", "summary", "method", "url", "warnings", "created_at", "expires_at"],
      },
    },
  },
  required: ["actions"],
} as const;

function callerOf(session: SessionContext, call: CallContext): ActionCaller {
  return {
    principal: session.principal,
    call,
    transport: session.transport,
    ...(session.sessionId !== undefined ? { sessionId: session.sessionId } : {}),
    signal: session.signal,
    ...(session.progress ? { progress: session.progress } : {}),
  };
}

/** Builds the pending-action meta-tools. */
export function createConfirmTools(deps: Deps): readonly MetaTool[] {
  // The gateway is only known per session (it is built after the meta-tools), so the operations
  // are created per call around it; they hold no state of their own.
  const actions = (session: SessionContext) =>
    createConfirmActions({ store: deps.pendingActions, gateway: session.gateway, approvals: deps.approvals, confirmTtlMs: deps.config.confirm.ttlSeconds * 1000, now: deps.now });
  return [
    {
      name: "confirm_action",
      title: "Confirm a pending write",
      description:
        "Runs a pending write exactly as its preview showed. Show the preview to the person you act for and call this " +
        "only once they approve. Pass the confirm_token the write returned; tokens are single-use and expire, and a " +
        "repeated confirm returns the stored outcome without running it again. A write that needs a person's approval " +
        "answers awaiting_approval instead and runs only once a console admin approves it (get_action tells the outcome).",
      inputSchema: TOKEN_INPUT,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
      handle: async (args, session, call) => {
        const result = await actions(session).confirm(args.confirm_token, callerOf(session, call));
        if (result.structuredContent?.status === "awaiting_approval") watchDecision(deps, session, String(result.structuredContent.action_id));
        return result;
      },
    },
    {
      name: "cancel_action",
      title: "Cancel a pending write",
      description: "Discards a pending write; nothing is sent. Pass the confirm_token the write returned.",
      inputSchema: TOKEN_INPUT,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      handle: (args, session, call) => actions(session).cancel(args.confirm_token, callerOf(session, call)),
    },
    {
      name: "list_pending_actions",
      title: "List pending writes",
      description: "Lists your own pending writes that are waiting for confirm_action, with their summaries and expiry.",
      inputSchema: { type: "object", properties: {}, additionalProperties: false },
      outputSchema: LIST_OUTPUT,
      annotations: { readOnlyHint: true, openWorldHint: false },
      handle: (_args, session, call) => actions(session).list(callerOf(session, call)),
    },
  ];
}
