/**
 * What is kept of a settled action: only what a repeated confirm or cancel answers from (ids,
 * token hash, state, times, the outcome shortened to a few KB). No arguments, no full preview.
 */
import type { ActionOutcome, PendingAction } from "./contract.js";

/** Stored outcomes larger than this (JSON bytes) are shortened; a repeated confirm needs the gist, not every byte. */
const OUTCOME_CAP_BYTES = 4096;
/** A settled action's warnings are not kept; one shared empty list. */
const NO_WARNINGS: readonly string[] = Object.freeze([]);

/** Whether the action has left `pending` and `executing` for good (or is `unknown`). */
export function isSettled(a: PendingAction): boolean {
  return a.state !== "pending" && a.state !== "executing";
}

/** A settled action as kept: what a repeated confirm or cancel answers from, in a fresh compact object. */
export function tombstone(a: PendingAction): PendingAction {
  const p = a.preview;
  return {
    id: a.id,
    tokenId: a.tokenId,
    tool: a.tool,
    args: {},
    tokenHash: a.tokenHash,
    createdAt: a.createdAt,
    expiresAt: a.expiresAt,
    preview: { summary: p.summary, tool: p.tool, method: p.method, url: p.url, warnings: NO_WARNINGS },
    ...(a.about !== undefined ? { about: a.about } : {}),
    ...(a.approval !== undefined ? { approval: a.approval } : {}),
    state: a.state,
    ...(a.outcome !== undefined ? { outcome: a.outcome } : {}),
    ...(a.settledAt !== undefined ? { settledAt: a.settledAt } : {}),
  };
}

/** After settling, only what a repeated confirm needs is kept (and no arguments linger on disk). */
export function slim(a: PendingAction): void {
  if (Object.keys(a.args).length === 0 && a.preview.body === undefined && a.preview.current === undefined && a.preview.diff === undefined) return;
  a.args = {};
  const p = a.preview;
  a.preview = { summary: p.summary, tool: p.tool, method: p.method, url: p.url, warnings: [] };
}

/** The outcome, its text shortened when its JSON is over the cap (other content replaced by a note). */
export function capOutcome(outcome: ActionOutcome): ActionOutcome {
  if (JSON.stringify(outcome.result).length <= OUTCOME_CAP_BYTES) return outcome;
  const budget = Math.floor(OUTCOME_CAP_BYTES / 2);
  const content = outcome.result.content.map((b) =>
    b.type === "text" && b.text.length > budget ? { type: "text" as const, text: `${b.text.slice(0, budget)}… (stored outcome shortened)` } : b.type === "text" ? b : { type: "text" as const, text: `[${b.type} content not kept]` });
  return { status: outcome.status, result: { content, ...(outcome.result.isError ? { isError: true } : {}) } };
}
