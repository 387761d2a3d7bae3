/**
 * Confirmations as input requests, for MCP 2026-07-28 clients that declare form elicitation (and
 * when `confirm.elicitation` is on): a write that goes pending answers `input_required` with one
 * elicitation showing the preview, and a `requestState` sealed to the token, the tool and the
 * action's expiry (src/confirm/request-state.ts). The client's retry carries the person's answer:
 * accept runs the action through the pending-action store (exactly once: a replayed state finds it
 * already confirmed), decline cancels it. The retry never runs the write's own call again; the
 * sealed state, not the retried arguments, says what runs. A tampered, foreign or expired state is
 * refused with -32602.
 */
import { inputRequired, inputResponse, ProtocolError, ProtocolErrorCode, type InputRequiredResult, type Server, type ServerContext } from "@modelcontextprotocol/server";
import type { PendingInfo, ToolResult } from "../context.js";
import { createRequestStateSealer, type RequestStateSealer } from "../confirm/request-state.js";
import { GatewayError, toJsonRpcError } from "../errors.js";
import type { Gateway, SessionContext } from "../gateway.js";
import { readSecretKey } from "../tokens/sealed-credential.js";
import { clientCanElicit, confirmForm, confirmQuestion, settleAnswer } from "./confirm-elicitation.js";

/** The key of the one input request a confirmation asks. */
export const CONFIRM_INPUT = "confirm";

const sealers = new WeakMap<Gateway, RequestStateSealer>();

function sealerOf(gateway: Gateway): RequestStateSealer {
  let sealer = sealers.get(gateway);
  if (!sealer) {
    const key = readSecretKey({ COUNTERSIGN_SECRET_KEY: gateway.deps.config.secretKey });
    sealer = createRequestStateSealer(key.ok ? key.key : undefined);
    sealers.set(gateway, sealer);
  }
  return sealer;
}

/** Whether this request's writes are confirmed by input requests: a 2026-07-28 request from a client that can be asked. */
export function confirmsByInputRequest(gateway: Gateway, server: Server, ctx: ServerContext): boolean {
  return gateway.deps.config.confirm.elicitation && ctx.mcpReq.envelope !== undefined && clientCanElicit(server, ctx);
}

/** The first round: the pending write's preview as a question, and the sealed state of its action. */
export function askToConfirm(gateway: Gateway, session: SessionContext, tool: string, pending: PendingInfo): InputRequiredResult {
  const requestState = sealerOf(gateway).seal(
    { actionId: pending.actionId, confirmToken: pending.confirmToken, expiresAt: Date.parse(pending.expiresAt) },
    { tokenId: session.principal.tokenId, tool },
  );
  return inputRequired({ inputRequests: { [CONFIRM_INPUT]: inputRequired.elicit(confirmQuestion(pending)) }, requestState });
}

/** The retry: opens the state (or refuses it with -32602) and acts on the person's answer. */
export async function answerConfirmation(gateway: Gateway, session: SessionContext, tool: string, state: string, responses: Record<string, unknown> | undefined): Promise<ToolResult | InputRequiredResult> {
  let action: { actionId: string; confirmToken: string };
  try {
    action = sealerOf(gateway).open(state, { tokenId: session.principal.tokenId, tool });
    // A state is answered once: replayed after its action ran or was cancelled, it is refused (and
    // two replays racing each other still run the action once: the store's claim decides).
    const current = await gateway.deps.pendingActions.get(action.actionId);
    if (current && current.state !== "pending") throw new GatewayError("confirmation_invalid", `The requestState was refused: it was already answered (action ${action.actionId} is ${current.state})`);
  } catch (err) {
    const e = toJsonRpcError(err instanceof GatewayError ? err : new GatewayError("confirmation_invalid", "The requestState was refused"));
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, e.message, e.data);
  }
  const answer = inputResponse(responses, CONFIRM_INPUT);
  if (answer.kind !== "elicit") {
    // No answer to the question: ask again, about the same action.
    const question = confirmForm(`Run the change of pending action ${action.actionId} now?`);
    return inputRequired({ inputRequests: { [CONFIRM_INPUT]: inputRequired.elicit(question) }, requestState: state });
  }
  return settleAnswer(gateway, session, action, answer, () => ({
    content: [{ type: "text", text: `The person dismissed the question; action ${action.actionId} is still pending (confirm_action with its confirm_token runs it, cancel_action discards it).` }],
    structuredContent: { status: "pending", action_id: action.actionId, confirm_token: action.confirmToken },
  }));
}
