/**
 * Optional (config `confirm.elicitation`): when a write goes pending in a stateful session whose
 * client supports form elicitation, the gateway asks the person right away with the preview.
 * Accept runs the action; decline cancels it; a dismissed or failed question leaves the action
 * pending and the agent gets the usual confirm-token answer.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { ElicitResultSchema, type ServerNotification, type ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { CallOutcome, Gateway, SessionContext } from "../gateway.js";
import type { ToolResult } from "../context.js";
import { renderPreview, type Preview } from "../confirm/preview.js";

/** Sends one request to the client in the context of the current call (the handler's `extra.sendRequest`). */
type SendRequest = RequestHandlerExtra<ServerRequest, ServerNotification>["sendRequest"];

/** Whether the client declared form elicitation (an empty `elicitation: {}` means form). */
function clientCanElicit(server: Server): boolean {
  const e = server.getClientCapabilities()?.elicitation as Record<string, unknown> | undefined;
  return e !== undefined && (e.form !== undefined || e.url === undefined);
}

/** Asks the person about a pending action when configured and possible; otherwise returns the call's result unchanged. */
export async function elicitPendingConfirmation(gateway: Gateway, server: Server, session: SessionContext, sendRequest: SendRequest, outcome: CallOutcome): Promise<ToolResult> {
  const { result, pending } = outcome;
  if (!gateway.deps.config.confirm.elicitation || !pending) return result;
  // Only a console admin approves an action that needs a person: asking the client's user would decide nothing.
  if (result.structuredContent?.approval === "person") return result;
  // Stateless HTTP has nowhere to route the person's answer back to.
  const stateful = session.transport === "stdio" || session.sessionId !== undefined;
  if (!stateful || !clientCanElicit(server)) return result;

  const { actionId, confirmToken: token } = pending;
  const message = `${renderPreview(pending.preview as Preview, { actionId, expiresAt: pending.expiresAt })}\n\nRun this change now?`;
  let answer: { action: string; content?: Record<string, unknown> | undefined };
  try {
    answer = await sendRequest(
      {
        method: "elicitation/create",
        params: {
          mode: "form",
          message,
          requestedSchema: {
            type: "object",
            properties: { confirm: { type: "boolean", title: "Run it", description: "Leave checked and accept to run the change; decline to discard it.", default: true } },
          },
        },
      },
      ElicitResultSchema,
      { signal: session.signal },
    );
  } catch (err) {
    return withNote(result, `The person could not be asked (${err instanceof Error ? err.message : String(err)}); the action is still pending.`);
  }

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
  return withNote(result, "The person dismissed the question; the action is still pending.");
}

function withNote(result: ToolResult, note: string): ToolResult {
  return { ...result, content: [{ type: "text", text: note }, ...result.content] };
}
