/**
 * Pending actions: writes waiting for `confirm_action`. The contract (contract.ts) and the
 * embedded store (store.ts); the Redis store lives with the other Redis stores.
 */
export type { ActionOutcome, ActionState, ClaimResult, NewPendingAction, PendingAction, PendingActionStore } from "./contract.js";
export { createPendingActions, type PendingActionsOptions } from "./store.js";
