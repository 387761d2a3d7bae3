/** Options of the embedded pending-action store. */
import type { PendingAction } from "./contract.js";
import type { PendingQuotas } from "./quotas.js";

/** Options of the in-process store. */
export interface PendingActionsOptions {
  /** Data dir for the snapshot file; omit for a memory-only store. */
  dataDir?: string;
  /** Clock in epoch milliseconds (tests pass a fake one). */
  now?: () => number;
  /**
   * How long settled and expired actions are kept so a repeated confirm gets the stored outcome
   * (default 1 h: every kept action is in the snapshot, which is re-read at start-up).
   */
  retainSeconds?: number;
  /** Told once for each action that expires unconfirmed (for the audit trail). */
  onExpired?: (action: PendingAction) => void;
  /** How often expired actions are looked for, in ms (default 30 s; 0 turns the sweep off). */
  sweepIntervalMs?: number;
  /**
   * Most settled actions kept in memory (default 1,000); past it the oldest settled are dropped
   * first, so memory is bounded whatever the write rate. With a data dir a repeated confirm of a
   * dropped action still reads its outcome from the files; without one it answers "unknown token".
   */
  maxSettled?: number;
  /** Caps on open actions per token, one action's size and the whole store's bytes (see quotas.ts). */
  quotas?: PendingQuotas;
}
