/**
 * The pending-action contract: what a stored action is and what every store (the embedded one,
 * Redis) answers. Imports no implementation.
 */
import type { ToolResult } from "../../context.js";
import type { Preview } from "../../confirm/preview.js";
import type { Approval } from "../../../codegen/descriptor.js";

/** Life of an action: pending → executing → done; or pending → cancelled | expired; `unknown` when the gateway stopped mid-execution. */
export type ActionState = "pending" | "executing" | "done" | "cancelled" | "expired" | "unknown";

/** What executing an action produced (stored, so a repeated confirm can return it). */
export interface ActionOutcome {
  /** `executed`: the upstream accepted it; `failed`: it ran (or was refused at execution) and will not run again. */
  readonly status: "executed" | "failed" | "unknown";
  readonly result: ToolResult;
}

/** One pending action, as stored. Never holds the confirm token itself, only its SHA-256. */
export interface PendingAction {
  readonly id: string;
  /** The token that previewed it; only this token can confirm, cancel or list it. */
  readonly tokenId: string;
  readonly tool: string;
  /** The validated arguments, exactly as they will be sent (emptied once the action is settled). */
  args: Record<string, unknown>;
  readonly tokenHash: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The preview (reduced to its headline fields once the action is settled). */
  preview: Preview;
  /** ETag read at preview time, sent as If-Match at confirm. */
  readonly ifMatch?: string;
  readonly sessionId?: string;
  /** What it does in the audit trail's words (from redacted arguments); kept after settling. */
  readonly about?: string;
  /** The token's tier, when the caller passes it: picks the tier's cap on open actions (see quotas.ts). */
  readonly tier?: string;
  /** Who must approve it (src/approvals); absent means `agent` (confirm_action runs it). */
  readonly approval?: Approval;
  state: ActionState;
  outcome?: ActionOutcome;
  /** Epoch milliseconds of the last state change after creation. */
  settledAt?: number;
}

/** A new action: everything but its state. */
export type NewPendingAction = Omit<PendingAction, "state" | "outcome" | "settledAt">;

/** The answer to a claim or cancel. `not_found` also covers another token's action, so its existence never leaks. */
export type ClaimResult =
  | { readonly kind: "claimed" | "executing" | "done" | "unknown" | "cancelled" | "expired"; readonly action: PendingAction }
  | { readonly kind: "not_found" };

/** The pending-action store. */
export interface PendingActionStore {
  /** Stores a new pending action; throws GatewayError("quota_exceeded") over a quota (see quotas.ts), storing nothing. */
  create(action: NewPendingAction): Promise<void>;
  /** The action by id, whatever its token (callers check ownership). */
  get(actionId: string): Promise<PendingAction | undefined>;
  /** The token's pending, unexpired actions, oldest first. */
  list(tokenId: string): Promise<PendingAction[]>;
  /** Atomically moves a pending, unexpired action of this token to `executing`. */
  claim(actionId: string, tokenId: string): Promise<ClaimResult>;
  /** executing → done, storing the outcome. */
  complete(actionId: string, outcome: ActionOutcome): Promise<void>;
  /** executing → pending again: the chain refused before any upstream request (e.g. rate limited). */
  release(actionId: string): Promise<void>;
  /** pending → cancelled, for the owning token only. */
  cancel(actionId: string, tokenId: string): Promise<ClaimResult>;
  /** Resolves with the action once it leaves `executing` (or with its current state after `timeoutMs`). */
  waitForSettled(actionId: string, timeoutMs: number, signal?: AbortSignal): Promise<PendingAction | undefined>;
  /** Pending, unexpired actions across all tokens (for the metrics gauge). */
  countPending(): Promise<number>;
  /** Waits for pending writes and stops background work. */
  close(): Promise<void>;
}
