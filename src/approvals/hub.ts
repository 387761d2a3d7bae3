/**
 * Approvals as the gateway holds them: the records (store.ts), the rules that pick who approves
 * (policy.ts), and the in-process news of an action entering the inbox (for the webhook) or being
 * decided (for the agent's open session). News crosses processes only through the stores: a
 * session watching an action also re-reads it now and then (see watch.ts).
 */
import type { Approval, ToolDescriptor } from "../../codegen/descriptor.js";
import type { Principal } from "../context.js";
import type { ApprovalsConfig } from "../config/types.js";
import { approvalFor } from "./policy.js";
import type { ApprovalRecord, ApprovalStore } from "./store.js";

type Listener = (record: ApprovalRecord) => void;

/** The approvals part of the gateway's dependencies. */
export interface ApprovalHub {
  readonly store: ApprovalStore;
  readonly config: ApprovalsConfig;
  /** Who approves a write of `tool` by `principal`. */
  approvalOf(tool: ToolDescriptor, principal: Principal): Approval;
  /** An action entered the inbox (told once, by the process that put it there). */
  entered(record: ApprovalRecord): void;
  onEntered(listener: Listener): () => void;
  /** A person decided an action (and, when approved, it ran). */
  decided(record: ApprovalRecord): void;
  /** Listens for the decision on one action; returns the unsubscribe. */
  onDecided(actionId: string, listener: Listener): () => void;
}

/** Creates the hub over a store and the approvals config. */
export function createApprovalHub(store: ApprovalStore, config: ApprovalsConfig): ApprovalHub {
  const entering = new Set<Listener>();
  const deciding = new Map<string, Set<Listener>>();
  const tell = (listeners: Iterable<Listener>, record: ApprovalRecord): void => {
    for (const l of [...listeners]) {
      try {
        l(record);
      } catch {
        // a listener's failure is its own
      }
    }
  };
  return {
    store,
    config,
    approvalOf: (tool, principal) => approvalFor(tool, principal, config.rules),
    entered: (record) => tell(entering, record),
    onEntered(listener) {
      entering.add(listener);
      return () => entering.delete(listener);
    },
    decided(record) {
      const set = deciding.get(record.actionId);
      if (set) tell(set, record);
    },
    onDecided(actionId, listener) {
      let set = deciding.get(actionId);
      if (!set) deciding.set(actionId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && deciding.get(actionId) === set) deciding.delete(actionId);
      };
    },
  };
}
