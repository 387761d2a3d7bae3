/**
 * An action that needs a person enters the approval records: at once for `person`, and for `both`
 * once the agent has confirmed it (see agent.ts). Entering the inbox is news for the webhook.
 */
import type { Principal } from "../context.js";
import type { NewPendingAction } from "../stores/pending-actions/contract.js";
import type { ApprovalHub } from "./hub.js";
import type { ApprovalRecord } from "./store.js";

function withoutCredential(p: Principal): Omit<Principal, "upstreamCredential"> {
  const { upstreamCredential: _secret, ...rest } = p;
  return rest;
}

/** Records a new action that needs a person; a `person` action is in the inbox from now on. */
export async function requestPerson(hub: ApprovalHub, action: NewPendingAction, principal: Principal, now: number): Promise<void> {
  const record: ApprovalRecord = {
    actionId: action.id,
    tokenId: action.tokenId,
    subject: principal.subject,
    tool: action.tool,
    approval: action.approval ?? "person",
    requestedAt: action.createdAt,
    expiresAt: action.expiresAt,
    ...(action.sessionId !== undefined ? { sessionId: action.sessionId } : {}),
    principal: withoutCredential(principal),
    ...(action.approval === "both" ? {} : { awaitingSince: now }),
  };
  await hub.store.put(record);
  if (record.awaitingSince !== undefined) hub.entered(record);
}
