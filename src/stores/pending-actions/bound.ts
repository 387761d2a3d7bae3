/**
 * The memory bound of the embedded store: at most `maxSettled` settled actions stay in memory.
 * Past it the oldest settled are dropped down to 90% of the bound; pending and executing actions
 * are never dropped. The files keep dropped actions for the retention period.
 */
import type { PendingAction } from "./contract.js";
import { isSettled } from "./settled.js";

/** The bound over one store's map. */
export interface SettledBound {
  /** Drops the oldest settled actions when over the bound (`keep` vetoes one; `dropped` is told of each). */
  check(actions: Map<string, PendingAction>, keep: (id: string) => boolean, dropped: (id: string) => void): void;
  /** Whether this settled action was dropped from memory by the bound (so it is not cached again). */
  forgotten(a: PendingAction): boolean;
}

/** A bound of `maxSettled` settled actions. */
export function createSettledBound(maxSettled: number): SettledBound {
  /** Settled actions settled at or before this (epoch ms) were dropped. */
  let forgottenUpTo = -Infinity;
  /** The map size at which the settled count is looked at again: a create stays O(1) on average. */
  let nextCheck = maxSettled;
  return {
    check(actions, keep, dropped) {
      if (actions.size <= nextCheck) return;
      const settled: PendingAction[] = [];
      for (const a of actions.values()) if (isSettled(a)) settled.push(a);
      if (settled.length > maxSettled) {
        settled.sort((x, y) => (x.settledAt ?? x.createdAt) - (y.settledAt ?? y.createdAt));
        let drop = settled.length - Math.floor(maxSettled * 0.9);
        for (const a of settled) {
          if (drop === 0) break;
          if (keep(a.id)) continue;
          actions.delete(a.id);
          dropped(a.id);
          forgottenUpTo = Math.max(forgottenUpTo, a.settledAt ?? a.createdAt);
          drop--;
        }
      }
      nextCheck = Math.max(maxSettled, actions.size + Math.ceil(maxSettled / 10));
    },
    forgotten: (a) => isSettled(a) && (a.settledAt ?? a.createdAt) <= forgottenUpTo,
  };
}
