/**
 * A person's side of an approval, for the console API: the inbox (actions awaiting a person,
 * newest first), one action's full preview with its resource re-read now and diffed, and the
 * decision. Approving claims the action in the pending-action store — the one atomic step, on any
 * replica — and runs exactly the stored call once through the chain (If-Match, Idempotency-Key);
 * rejecting cancels it. Whoever loses a race is told what the winner did.
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { Principal } from "../context.js";
import { createConfirmActions } from "../confirm/actions.js";
import { deepEqual } from "../confirm/diff.js";
import { createPreviewer } from "../confirm/preview.js";
import { isChangeSet } from "../code/change-set.js";
import { toGatewayError } from "../errors.js";
import type { Gateway } from "../gateway.js";
import type { PendingAction } from "../stores/pending-actions/contract.js";
import { withAccessTokens } from "../oauth/access-tokens.js";
import { createAuthenticator } from "../tokens/authenticate.js";
import { readSecretKey, SECRET_KEY_ENV } from "../tokens/sealed-credential.js";
import { statusOf } from "./agent.js";
import { needsPerson } from "./policy.js";
import type { ApprovalDecision, ApprovalRecord } from "./store.js";

/** The admin deciding. */
export interface Approver {
  readonly id: string;
  readonly name: string;
}

/** A refusal of the console API: HTTP status, stable code, message. */
export class DecisionError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One inbox line. */
export interface InboxItem {
  readonly actionId: string;
  readonly tool: string;
  readonly summary: string;
  readonly method: string;
  readonly url: string;
  readonly warnings: readonly string[];
  readonly approval: string;
  readonly tokenId: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly awaitingSince?: string;
  readonly expiresAt: string;
  readonly status: string;
  readonly decision?: ApprovalDecision & { readonly atIso: string };
  readonly delivery?: ApprovalRecord["delivery"];
}

/** The decisions a console makes through one gateway. */
export interface Decisions {
  /** Actions awaiting a person, newest first; with `all`, the decided and expired ones kept too. */
  inbox(all?: boolean): Promise<InboxItem[]>;
  /** One action's full preview, its resource re-read now and the diff against it. */
  detail(actionId: string, signal: AbortSignal): Promise<Record<string, unknown>>;
  approve(actionId: string, approver: Approver, signal: AbortSignal): Promise<Record<string, unknown>>;
  reject(actionId: string, approver: Approver, reason: string): Promise<Record<string, unknown>>;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const ACTION_ID = /^act_[A-Za-z0-9_-]{1,64}$/;

/** Builds the decisions over a gateway. */
export function createDecisions(gateway: Gateway, now: () => number = Date.now): Decisions {
  const deps = gateway.deps;
  const hub = deps.approvals;
  // Re-reads the requesting token (revoked or expired since? its upstream credential) without counting a use.
  const tokenAuthenticator = createAuthenticator({ store: deps.tokens, secretKey: readSecretKey({ [SECRET_KEY_ENV]: deps.config.secretKey }), now: () => new Date(now()), touchIntervalMs: Number.MAX_SAFE_INTEGER });
  // An OAuth grant's principal is re-checked against its grant (revoked?), a token's against its record.
  const authenticator = deps.oauth ? withAccessTokens(tokenAuthenticator, deps.oauth) : tokenAuthenticator;
  const previewer = createPreviewer({ tools: () => gateway.registry.tools, upstream: deps.upstream });

  function item(action: PendingAction | undefined, record: ApprovalRecord): InboxItem {
    const p = action?.preview;
    return {
      actionId: record.actionId,
      tool: record.tool,
      summary: p?.summary ?? "",
      method: p?.method ?? "",
      url: p?.url ?? "",
      warnings: p?.warnings ?? [],
      approval: record.approval,
      tokenId: record.tokenId,
      requestedBy: record.subject,
      requestedAt: iso(record.requestedAt),
      ...(record.awaitingSince !== undefined ? { awaitingSince: iso(record.awaitingSince) } : {}),
      expiresAt: iso(record.expiresAt),
      status: statusOf(action, record, now()),
      ...(record.decision ? { decision: { ...record.decision, atIso: iso(record.decision.at) } } : {}),
      ...(record.delivery ? { delivery: record.delivery } : {}),
    };
  }

  async function load(actionId: string): Promise<{ action: PendingAction; record: ApprovalRecord }> {
    if (!ACTION_ID.test(actionId)) throw new DecisionError(400, "invalid_arguments", `Not an action id: ${JSON.stringify(actionId.slice(0, 80))} (expected act_…)`);
    const record = await hub.store.get(actionId);
    const action = record ? await deps.pendingActions.get(actionId) : undefined;
    if (!record || !action || !needsPerson(action.approval)) throw new DecisionError(404, "not_found", `No action ${actionId} awaits a person (unknown, or it never needed one)`);
    return { action, record };
  }

  async function principalOf(record: ApprovalRecord): Promise<Principal> {
    try {
      return await authenticator.recheck(record.principal ?? { tokenId: record.tokenId, subject: record.subject, modules: [], readOnly: true, tier: "default" });
    } catch (err) {
      throw new DecisionError(409, "token_unusable", `The token that asked for this action can no longer be used (${toGatewayError(err).message}); reject it instead.`);
    }
  }

  /** Waits for another admin's run of the action to settle, and for their decision to be recorded (bounded). */
  async function afterOther(actionId: string, action: PendingAction, record: ApprovalRecord, signal: AbortSignal): Promise<{ action: PendingAction; record: ApprovalRecord }> {
    const latest = (await deps.pendingActions.waitForSettled(actionId, 60_000, signal)) ?? action;
    let rec = record;
    const end = now() + 2000;
    for (;;) {
      rec = (await hub.store.get(actionId)) ?? rec;
      if (rec.decision || latest.state === "pending" || now() > end) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    return { action: latest, record: rec };
  }

  function awaiting(action: PendingAction, record: ApprovalRecord): void {
    const status = statusOf(action, record, now());
    if (status === "awaiting_approval") return;
    const why: Record<string, string> = {
      pending: "the agent has not confirmed it yet (approval: both)",
      executing: "it is being run now",
      executed: `it was already approved${record.decision ? ` by ${record.decision.by}` : ""} and executed`,
      failed: `it was already approved${record.decision ? ` by ${record.decision.by}` : ""} and ran (it failed)`,
      rejected: `it was already rejected${record.decision ? ` by ${record.decision.by}` : ""}`,
      cancelled: "the agent cancelled it",
      expired: "it expired",
      interrupted: "its outcome is unknown (the gateway stopped while running it)",
    };
    throw new DecisionError(409, "already_decided", `Action ${action.id} can't be decided: ${why[status] ?? status}.`);
  }

  return {
    async inbox(all = false) {
      const records = await hub.store.list();
      const out: InboxItem[] = [];
      for (const r of records) {
        if (!all && (r.decision || r.awaitingSince === undefined || r.expiresAt <= now())) continue;
        const action = await deps.pendingActions.get(r.actionId);
        const it = item(action, r);
        if (all || it.status === "awaiting_approval") out.push(it);
      }
      return out;
    },

    async detail(actionId, signal) {
      const { action, record } = await load(actionId);
      const base = { ...item(action, record), preview: action.preview, about: action.about ?? null };
      // A change set's preview lists its writes in order, each with the state read at preview time.
      if (statusOf(action, record, now()) !== "awaiting_approval" || isChangeSet(action)) return { ...base, fresh: null };
      const tool: ToolDescriptor | undefined = gateway.registry.get(action.tool);
      if (!tool) return { ...base, fresh: { error: `The tool ${action.tool} is no longer served` } };
      try {
        const principal = await principalOf(record);
        const fresh = await previewer.build(tool, action.args, { principal, signal });
        const then = action.preview;
        const changed =
          (action.ifMatch !== undefined && fresh.ifMatch !== action.ifMatch) ||
          (then.version !== undefined && !deepEqual(fresh.preview.version, then.version)) ||
          (then.current !== undefined && !deepEqual(fresh.preview.current, then.current));
        return { ...base, fresh: { readAt: iso(now()), current: fresh.preview.current ?? null, diff: fresh.preview.diff ?? [], warnings: fresh.preview.warnings, changed } };
      } catch (err) {
        return { ...base, fresh: { error: err instanceof DecisionError ? err.message : toGatewayError(err).message } };
      }
    },

    async approve(actionId, approver, signal) {
      const loaded = await load(actionId);
      // Decided elsewhere a moment ago (running, or done but its decision not written yet): wait to say by whom.
      const { action, record } = loaded.action.state !== "pending" && !loaded.record.decision ? await afterOther(actionId, loaded.action, loaded.record, signal) : loaded;
      awaiting(action, record);
      if (hub.config.separateApprover) {
        const token = await deps.tokens.get(action.tokenId);
        if (token?.createdBy === approver.id) {
          throw new DecisionError(403, "separate_approver", `Four eyes: you created the token that asked for this action (${record.subject}); another admin must approve it.`);
        }
      }
      const principal = await principalOf(record);
      const actions = createConfirmActions({ store: deps.pendingActions, gateway });
      const ran = await actions.runApproved(action, { principal, transport: "http", signal }, `admin:${approver.name}`);
      if (ran.kind !== "claimed") {
        // Someone else decided first (another admin, another replica): say what they did.
        const other = await afterOther(actionId, action, record, signal);
        awaiting(other.action, other.record);
        throw new DecisionError(409, "already_decided", `Action ${actionId} could not be claimed (${ran.kind}).`);
      }
      const sc = ran.result.structuredContent ?? {};
      const status = String(sc.status ?? "unknown");
      const error = (sc.error ?? undefined) as { code?: string; message?: string } | undefined;
      const outcome = error?.code === "conflict" ? "conflict" : status === "executed" ? "executed" : status === "not_executed" ? "not_executed" : status === "unknown" ? "unknown" : "failed";
      if (outcome === "not_executed") {
        // Refused before any upstream request (rate limited, Redis down): still awaiting a person.
        throw new DecisionError(503, "not_executed", `Action ${actionId} was not run and still awaits approval: ${error?.message ?? "try again"}`);
      }
      const decision: ApprovalDecision = { verdict: "approved", by: approver.name, adminId: approver.id, at: now(), outcome, ...(error?.message ? { detail: error.message } : {}) };
      const updated = (await hub.store.update(actionId, { decision })) ?? { ...record, decision };
      hub.decided(updated);
      await audit(gateway, approver, "action_approved", `${approver.name} approved ${action.about ?? action.preview.summary} (${actionId}): ${outcome}`, { actionId, tokenId: action.tokenId, tool: action.tool, outcome }, outcome === "executed" ? "executed" : outcome, now());
      return { actionId, verdict: "approved", outcome, ...(error ? { error } : {}), result: sc.result ?? null, ...(Array.isArray(sc.steps) ? { steps: sc.steps } : {}), ...(outcome === "conflict" ? { message: "The resource changed since the preview; the write was refused (conflict) and will not run. The agent must preview again." } : {}) };
    },

    async reject(actionId, approver, reason) {
      const text = reason.trim();
      if (!text) throw new DecisionError(400, "invalid_arguments", "reason is required: tell the agent why (it sees it in get_action)");
      if (text.length > 500) throw new DecisionError(400, "invalid_arguments", "reason is at most 500 characters");
      const loaded = await load(actionId);
      const { action, record } = loaded.action.state !== "pending" && !loaded.record.decision ? await afterOther(actionId, loaded.action, loaded.record, new AbortController().signal) : loaded;
      awaiting(action, record);
      const res = await deps.pendingActions.cancel(actionId, action.tokenId);
      if (res.kind !== "cancelled") {
        const other = await afterOther(actionId, res.kind === "not_found" ? action : res.action, record, new AbortController().signal);
        awaiting(other.action, other.record);
        throw new DecisionError(409, "already_decided", `Action ${actionId} could not be rejected (${res.kind}).`);
      }
      const decision: ApprovalDecision = { verdict: "rejected", by: approver.name, adminId: approver.id, at: now(), reason: text };
      const updated = (await hub.store.update(actionId, { decision })) ?? { ...record, decision };
      hub.decided(updated);
      await audit(gateway, approver, "action_rejected", `${approver.name} rejected ${action.about ?? action.preview.summary} (${actionId}): ${text}`, { actionId, tokenId: action.tokenId, tool: action.tool, reason: text }, "rejected", now());
      return { actionId, verdict: "rejected", reason: text };
    },
  };
}

/** The decision in the audit trail, under the admin's name and with the requesting token's id (so get_activity shows it to the agent). */
async function audit(gateway: Gateway, approver: Approver, action: string, summary: string, args: Record<string, unknown>, outcome: string, at: number): Promise<void> {
  await gateway.deps.auditSink.write({
    ts: iso(at),
    requestId: crypto.randomUUID(),
    transport: "http",
    tokenId: String(args.tokenId),
    subject: `admin:${approver.name}`,
    tool: `console.${action}`,
    module: "console",
    type: "admin",
    outcome,
    summary,
    actionId: String(args.actionId),
    args,
  });
}
