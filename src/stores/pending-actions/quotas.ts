/**
 * Quotas on what pending actions may pile up, enforced by every pending-action store at
 * `create()`: open (pending) actions per token, the size of one action's arguments, and the bytes
 * of all open actions in the store. Over a cap, `create()` throws GatewayError("quota_exceeded")
 * and stores nothing. Confirming or cancelling an action frees its room.
 */
import { GatewayError } from "../../errors.js";
import type { NewPendingAction } from "./contract.js";

/** The caps, as the composition root passes them (each one optional: the defaults hold). */
export interface PendingQuotas {
  /** Open (pending) actions one token may hold (default 100). */
  readonly maxOpenPerToken?: number;
  /** `maxOpenPerToken` by tier name, for tiers that may hold more (or fewer); an action's `tier` picks one. */
  readonly maxOpenPerTier?: Readonly<Record<string, number>>;
  /** Bytes of one action's serialized arguments (default 256 KiB). */
  readonly maxArgsBytes?: number;
  /** Bytes of all open actions of the store, serialized (default 64 MiB). */
  readonly maxStoreBytes?: number;
}

/** The caps with every default filled in. */
export interface ResolvedQuotas {
  readonly maxOpenPerToken: number;
  readonly maxOpenPerTier: Readonly<Record<string, number>>;
  readonly maxArgsBytes: number;
  readonly maxStoreBytes: number;
}

export const DEFAULT_QUOTAS: ResolvedQuotas = Object.freeze({
  maxOpenPerToken: 100,
  maxOpenPerTier: Object.freeze({}),
  maxArgsBytes: 256 * 1024,
  maxStoreBytes: 64 * 1024 * 1024,
});

/** Fills in the defaults, refusing a cap that is not a positive integer (naming the key). */
export function resolveQuotas(quotas: PendingQuotas = {}): ResolvedQuotas {
  const positive = (key: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < 1) throw new Error(`pending-action quota ${key} must be a positive integer, got ${value}`);
    return value;
  };
  const perTier: Record<string, number> = {};
  for (const [tier, n] of Object.entries(quotas.maxOpenPerTier ?? {})) perTier[tier] = positive(`maxOpenPerTier.${tier}`, n, 0);
  return Object.freeze({
    maxOpenPerToken: positive("maxOpenPerToken", quotas.maxOpenPerToken, DEFAULT_QUOTAS.maxOpenPerToken),
    maxOpenPerTier: Object.freeze(perTier),
    maxArgsBytes: positive("maxArgsBytes", quotas.maxArgsBytes, DEFAULT_QUOTAS.maxArgsBytes),
    maxStoreBytes: positive("maxStoreBytes", quotas.maxStoreBytes, DEFAULT_QUOTAS.maxStoreBytes),
  });
}

/** The open-action cap of the action's token (its tier's, when the tier has one). */
export function openLimitOf(quotas: ResolvedQuotas, action: Pick<NewPendingAction, "tier">): number {
  const tier = action.tier;
  return tier !== undefined && Object.hasOwn(quotas.maxOpenPerTier, tier) ? quotas.maxOpenPerTier[tier]! : quotas.maxOpenPerToken;
}

/** Which cap was hit. */
export type QuotaKind = "open_actions" | "action_bytes" | "store_bytes";

const FREE_ROOM = "Confirm or cancel pending actions with confirm_action / cancel_action to free room.";

/** The error a store throws over a cap: what the limit is, how much is used, and how to get under it. */
export function quotaExceeded(kind: QuotaKind, limit: number, used: number): GatewayError {
  const message =
    kind === "open_actions"
      ? `Too many pending actions: this token may hold ${limit} open actions and holds ${used}. ${FREE_ROOM}`
      : kind === "action_bytes"
        ? `This write's arguments are too large to hold for confirmation: ${used} bytes, over the limit of ${limit} bytes for one pending action. Send smaller arguments (split the change into several writes); confirming or cancelling other actions does not raise this limit.`
        : `The gateway holds too much pending data: the limit is ${limit} bytes of open actions and ${used} are in use. ${FREE_ROOM}`;
  return new GatewayError("quota_exceeded", message, { details: { limit, used, kind } });
}

/** Bytes of the serialized arguments (what `maxArgsBytes` caps). */
export function argsBytes(action: NewPendingAction): number {
  return Buffer.byteLength(JSON.stringify(action.args));
}

/** Bytes of the serialized action (what counts against `maxStoreBytes`). */
export function actionBytes(action: NewPendingAction): number {
  return Buffer.byteLength(JSON.stringify(action));
}

/** Throws when one action's arguments are over the cap; answers the action's serialized size otherwise. */
export function checkActionSize(quotas: ResolvedQuotas, action: NewPendingAction): number {
  const args = argsBytes(action);
  if (args > quotas.maxArgsBytes) throw quotaExceeded("action_bytes", quotas.maxArgsBytes, args);
  // The rest of the action measured without its arguments: big arguments are serialized once, not twice.
  return actionBytes({ ...action, args: {} }) - 2 + args;
}

/**
 * What the open actions of an in-process store hold: a count per token and their bytes, kept
 * up to date as actions enter and leave `pending`, so a create checks its caps in O(1).
 */
export interface OpenLedger {
  /** Counts the action as open (once; its size measured now). */
  add(id: string, tokenId: string, bytes: number): void;
  /** Stops counting the action (no-op when it is not counted). */
  remove(id: string): void;
  has(id: string): boolean;
  openOf(tokenId: string): number;
  readonly bytes: number;
}

/** An empty ledger. */
export function createOpenLedger(): OpenLedger {
  const byId = new Map<string, { tokenId: string; bytes: number }>();
  const perToken = new Map<string, number>();
  let bytes = 0;
  return {
    add(id, tokenId, size) {
      if (byId.has(id)) return;
      byId.set(id, { tokenId, bytes: size });
      perToken.set(tokenId, (perToken.get(tokenId) ?? 0) + 1);
      bytes += size;
    },
    remove(id) {
      const entry = byId.get(id);
      if (!entry) return;
      byId.delete(id);
      const n = (perToken.get(entry.tokenId) ?? 1) - 1;
      if (n > 0) perToken.set(entry.tokenId, n);
      else perToken.delete(entry.tokenId);
      bytes -= entry.bytes;
    },
    has: (id) => byId.has(id),
    openOf: (tokenId) => perToken.get(tokenId) ?? 0,
    get bytes() {
      return bytes;
    },
  };
}
