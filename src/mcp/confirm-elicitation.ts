/**
 * Optional (config `confirm.elicitation`): when a write goes pending in a stateful session whose
 * client supports form elicitation, the gateway asks the person right away with the preview.
 * Accept runs the action; decline cancels it; a dismissed or failed question leaves the action
 * pending and the agent gets the usual confirm-token answer.
 */
import type { Server, ServerContext } from "@modelcontextprotocol/server";
import type { CallOutcome, Gateway, SessionContext } from "../gateway.js";
import type { ToolResult } from "../context.js";
import { renderPreview, type Preview } from "../confirm/preview.js";
import { clientCapabilitiesOf } from "./client-capabilities.js";

/**
 * Whether the client declared form elicitation (an empty `elicitation: {}` means form): in the
 * request's envelope when it has one (2026-07-28, HTTP and stdio alike), else at initialize.
 */
export function clientCanElicit(server: Server, ctx?: ServerContext): boolean {
  const e = clientCapabilitiesOf(server, ctx)?.elicitation as Record<string, unknown> | undefined;
  return e !== undefined && (e.form !== undefined || e.url === undefined);
}

/** Asks the person about a pending action when configured and possible; otherwise returns the call's result unchanged. */
export async function elicitPendingConfirmation(gateway: Gateway, server: Server, session: SessionContext, ctx: ServerContext, outcome: CallOutcome): Promise<ToolResult> {
  const { result, pending } = outcome;
  if (!gateway.deps.config.confirm.elicitation || !pending) return result;
  // Only a console admin approves an action that needs a person: asking the client's user would decide nothing.
  if (result.structuredContent?.approval === "person") return result;
  // Stateless HTTP has nowhere to route the person's answer back to.
  const stateful = session.transport === "stdio" || session.sessionId !== undefined;
  if (!stateful || !clientCanElicit(server, ctx)) return result;

  let answer: PersonAnswer;
  try {
    answer = await ctx.mcpReq.send({ method: "elicitation/create", params: confirmQuestion(pending) }, { signal: session.signal });
  } catch (err) {
    return withNote(result, `The person could not be asked (${err instanceof Error ? err.message : String(err)}); the action is still pending.`);
  }
  return settleAnswer(gateway, session, pending, answer, () => withNote(result, "The person dismissed the question; the action is still pending."));
}

/** What a person answered to a confirmation question. */
export interface PersonAnswer {
  readonly action: string;
  readonly content?: Record<string, unknown> | undefined;
}

/** The form that asks the person about a pending action, with its preview. */
export function confirmQuestion(pending: { actionId: string; expiresAt: string; preview: unknown }) {
  return confirmForm(`${renderPreview(pending.preview as Preview, { actionId: pending.actionId, expiresAt: pending.expiresAt })}\n\nRun this change now?`);
}

/** The confirmation form, with its message. */
export function confirmForm(message: string) {
  return {
    mode: "form" as const,
    message,
    requestedSchema: {
      type: "object" as const,
      properties: { confirm: { type: "boolean" as const, title: "Run it", description: "Leave checked and accept to run the change; decline to discard it.", default: true } },
    },
  };
}

/**
 * Acts on a person's answer: accept runs the action (through the chain, as confirm_action: audited,
 * and at most once however often the answer is replayed), decline cancels it, anything else leaves
 * it pending (`dismissed`).
 */
export async function settleAnswer(
  gateway: Gateway,
  session: SessionContext,
  pending: { readonly actionId: string; readonly confirmToken: string },
  answer: PersonAnswer,
  dismissed: () => ToolResult,
): Promise<ToolResult> {
  const { actionId, confirmToken: token } = pending;
  // Through the chain as the real meta-tools, so the answer is audited like a confirm_action call.
  const run = async (name: "confirm_action" | "cancel_action"): Promise<ToolResult> =>
    (await gateway.call({ name, args: { confirm_token: token }, principal: session.principal, transport: session.transport, sessionId: session.sessionId, signal: session.signal, progress: session.progress, session })).result;
  if (answer.action === "accept" && answer.content?.confirm !== false) {
    const done = await run("confirm_action");
    return { ...done, content: [{ type: "text", text: "The person approved this change when asked." }, ...done.content] };
  }
  if (answer.action === "decline" || answer.action === "accept") {
    const cancelled = await run("cancel_action");
    if (cancelled.isError) return cancelled;
    return {
      content: [{ type: "text", text: `The person declined this change; action ${actionId} was cancelled and nothing was sent.` }],
      structuredContent: { status: "cancelled", action_id: actionId, declined_by: "user" },
    };
  }
  return dismissed();
}

function withNote(result: ToolResult, note: string): ToolResult {
  return { ...result, content: [{ type: "text", text: note }, ...result.content] };
}
