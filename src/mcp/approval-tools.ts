/**
 * get_action: where one of the caller's actions stands (pending, awaiting a person, executed with
 * its result, rejected with the reason, expired, unknown). See src/approvals/agent.ts.
 */
import type { Deps, MetaTool } from "../gateway.js";
import { GatewayError } from "../errors.js";
import { describeAction } from "../approvals/agent.js";

const STATUSES = ["pending", "awaiting_approval", "executing", "executed", "failed", "rejected", "cancelled", "expired", "interrupted", "unknown"];

/** Builds get_action. */
export function createApprovalTools(deps: Deps): readonly MetaTool[] {
  return [
    {
      name: "get_action",
      title: "Where a pending write stands",
      description:
        "Tells where one of your pending writes stands: pending, awaiting_approval (a person must approve it in the console), " +
        "executed (with its result), failed, rejected (with the reason), cancelled, expired, or unknown. Pass the action_id the write returned.",
      inputSchema: {
        type: "object",
        properties: { action_id: { type: "string", description: "The action_id a pending write returned (act_…)." } },
        required: ["action_id"],
        additionalProperties: false,
      },
      outputSchema: {
        type: "object",
        properties: { status: { type: "string", enum: STATUSES }, action_id: { type: "string" } },
        required: ["status", "action_id"],
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      async handle(args, session, call) {
        const id = args.action_id;
        if (typeof id !== "string" || !/^act_[A-Za-z0-9_-]{1,64}$/.test(id)) {
          throw new GatewayError("invalid_arguments", "action_id must be the act_… id a pending write returned.");
        }
        const found = await deps.pendingActions.get(id);
        // Another token's action is reported exactly as one that never existed.
        const action = found && found.tokenId === session.principal.tokenId ? found : undefined;
        // Reading where an action stands is a read, whatever status it reports.
        call.audit.type = "tool_call";
        call.audit.outcome = "ok";
        if (action) call.audit.actionId = action.id;
        const record = action ? await deps.approvals.store.get(id) : undefined;
        return describeAction(action, record, deps.approvals, deps.now(), id);
      },
    },
  ];
}
