/**
 * Pending actions: writes waiting for `confirm_action`. The contract (contract.ts) and the
 * embedded store (store.ts); the Redis store lives with the other Redis stores.
 */
export type { ActionOutcome, ActionState, ClaimResult, NewPendingAction, PendingAction, PendingActionStore } from "./contract.js";
export type { PendingActionsOptions } from "./options.js";
export { DEFAULT_QUOTAS, type PendingQuotas } from "./quotas.js";
export { createPendingActions } from "./store.js";
