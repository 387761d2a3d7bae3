/**
 * Pending actions: writes waiting for `confirm_action`.
 *
 * One interface, so the Redis implementation (distributed mode) can replace the in-process one.
 * The in-process store keeps every action in a Map and mirrors it to a JSON snapshot in the data
 * dir (mode 0600, written to a temp file and renamed) so pending actions survive a restart.
 * The claim is synchronous on the Map, so of many concurrent confirms exactly one wins.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { rename, writeFile, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import type { ToolResult } from "../context.js";
import { GatewayError } from "../errors.js";
import type { Preview } from "../confirm/preview.js";

/** Life of an action: pending → executing → done; or pending → cancelled | expired; `unknown` when the gateway stopped mid-execution. */
export type ActionState = "pending" | "executing" | "done" | "cancelled" | "expired" | "unknown";

/** What executing an action produced (stored, so a repeated confirm can return it). */
export interface ActionOutcome {
  /** `executed`: the upstream accepted it; `failed`: it ran (or was refused at execution) and will not run again. */
  readonly status: "executed" | "failed";
  readonly result: ToolResult;
}

/** One pending action, as stored. Never holds the confirm token itself, only its SHA-256. */
export interface PendingAction {
  readonly id: string;
  /** The token that previewed it; only this token can confirm, cancel or list it. */
  readonly tokenId: string;
  readonly tool: string;
  /** The validated arguments, exactly as they will be sent. */
  readonly args: Record<string, unknown>;
  readonly tokenHash: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly preview: Preview;
  /** ETag read at preview time, sent as If-Match at confirm. */
  readonly ifMatch?: string;
  readonly sessionId?: string;
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
  /** Flushes the snapshot. */
  close(): Promise<void>;
}

/** Options of the in-process store. */
export interface PendingActionsOptions {
  /** Data dir for the snapshot file; omit for a memory-only store. */
  dataDir?: string;
  /** Clock in epoch milliseconds (tests pass a fake one). */
  now?: () => number;
  /** How long settled and expired actions are kept so repeated confirms get a clear answer (default 24 h). */
  retainSeconds?: number;
  /** Told once for each action that expires unconfirmed (for the audit trail). */
  onExpired?: (action: PendingAction) => void;
  /** How often expired actions are looked for, in ms (default 30 s; 0 turns the sweep off). */
  sweepIntervalMs?: number;
}

const SNAPSHOT_FILE = "pending-actions.json";
const SNAPSHOT_VERSION = 1;
const PURGE_INTERVAL_MS = 60_000;

/** Creates the in-process pending-action store, loading the snapshot from the data dir when there is one. */
export function createPendingActions(options: PendingActionsOptions = {}): PendingActionStore {
  const now = options.now ?? Date.now;
  const retainMs = (options.retainSeconds ?? 86_400) * 1000;
  const file = options.dataDir === undefined ? undefined : join(options.dataDir, SNAPSHOT_FILE);
  const actions = new Map<string, PendingAction>(file ? loadSnapshot(file) : []);
  const waiters = new Map<string, Set<() => void>>();
  let lastPurge = now();

  // Snapshot writes are coalesced: a mutation joins the next write that has not started yet, so
  // its change is on disk when the returned promise resolves.
  let queue: Promise<void> = Promise.resolve();
  let nextWrite: Promise<void> | undefined;
  function persist(): Promise<void> {
    if (!file) return Promise.resolve();
    if (!nextWrite) {
      const write = queue.then(() => {
        nextWrite = undefined;
        return writeSnapshot(file, [...actions.values()]);
      });
      nextWrite = write;
      queue = write.catch(() => undefined);
    }
    return nextWrite;
  }

  /** Moves a pending action past its expiry to `expired` (once), telling onExpired. */
  function checkExpiry(a: PendingAction): boolean {
    if (a.state === "expired") return true;
    if (a.state !== "pending" || now() < a.expiresAt) return false;
    a.state = "expired";
    a.settledAt = a.expiresAt;
    void persist().catch(() => undefined);
    try {
      options.onExpired?.(a);
    } catch {
      // An observer's failure must not break the store.
    }
    return true;
  }

  function sweep(): number {
    let n = 0;
    for (const a of actions.values()) if (a.state === "pending" && checkExpiry(a)) n++;
    return n;
  }
  const sweepMs = options.sweepIntervalMs ?? 30_000;
  const sweeper = sweepMs > 0 ? setInterval(sweep, sweepMs) : undefined;
  sweeper?.unref();

  function purge(): void {
    const t = now();
    if (t - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = t;
    for (const [id, a] of actions) {
      if (a.state === "pending" || a.state === "executing") continue;
      if (t - (a.settledAt ?? a.createdAt) > retainMs) actions.delete(id);
    }
  }

  function notify(actionId: string): void {
    const set = waiters.get(actionId);
    if (!set) return;
    waiters.delete(actionId);
    for (const wake of set) wake();
  }

  function settle(a: PendingAction, state: ActionState, outcome?: ActionOutcome): void {
    a.state = state;
    if (outcome) a.outcome = outcome;
    a.settledAt = now();
  }

  return {
    async create(action: NewPendingAction): Promise<void> {
      if (actions.has(action.id)) throw new Error(`pending action ${action.id} already exists`);
      sweep();
      purge();
      actions.set(action.id, { ...action, state: "pending" });
      try {
        await persist();
      } catch (err) {
        // Not on disk means it would not survive a restart: refuse rather than half-promise.
        actions.delete(action.id);
        throw unavailable("the pending action could not be saved", err);
      }
    },

    async get(actionId: string): Promise<PendingAction | undefined> {
      return actions.get(actionId);
    },

    async list(tokenId: string): Promise<PendingAction[]> {
      return [...actions.values()]
        .filter((a) => a.tokenId === tokenId && a.state === "pending" && !checkExpiry(a))
        .sort((x, y) => x.createdAt - y.createdAt);
    },

    async claim(actionId: string, tokenId: string): Promise<ClaimResult> {
      const a = actions.get(actionId);
      if (!a || a.tokenId !== tokenId) return { kind: "not_found" };
      checkExpiry(a);
      if (a.state !== "pending") return { kind: a.state, action: a };
      a.state = "executing";
      a.settledAt = now();
      // The claim is on disk before anything runs: a crash from here on shows as `unknown`.
      try {
        await persist();
      } catch (err) {
        a.state = "pending";
        notify(actionId);
        throw unavailable("the confirmation could not be recorded", err);
      }
      return { kind: "claimed", action: a };
    },

    async complete(actionId: string, outcome: ActionOutcome): Promise<void> {
      const a = actions.get(actionId);
      if (!a || a.state !== "executing") throw new Error(`pending action ${actionId} is not executing`);
      settle(a, "done", outcome);
      notify(actionId);
      await persist();
    },

    async release(actionId: string): Promise<void> {
      const a = actions.get(actionId);
      if (!a || a.state !== "executing") throw new Error(`pending action ${actionId} is not executing`);
      a.state = "pending";
      notify(actionId);
      await persist();
    },

    async cancel(actionId: string, tokenId: string): Promise<ClaimResult> {
      const a = actions.get(actionId);
      if (!a || a.tokenId !== tokenId) return { kind: "not_found" };
      checkExpiry(a);
      if (a.state !== "pending") return { kind: a.state, action: a };
      settle(a, "cancelled");
      await persist();
      return { kind: "cancelled", action: a };
    },

    waitForSettled(actionId: string, timeoutMs: number, signal?: AbortSignal): Promise<PendingAction | undefined> {
      const a = actions.get(actionId);
      if (!a || a.state !== "executing") return Promise.resolve(a);
      return new Promise((resolve) => {
        let set = waiters.get(actionId);
        if (!set) waiters.set(actionId, (set = new Set()));
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          set.delete(done);
          resolve(actions.get(actionId));
        };
        const timer = setTimeout(done, timeoutMs);
        signal?.addEventListener("abort", done, { once: true });
        set.add(done);
      });
    },

    async countPending(): Promise<number> {
      sweep();
      let n = 0;
      for (const a of actions.values()) if (a.state === "pending") n++;
      return n;
    },

    async close(): Promise<void> {
      if (sweeper) clearInterval(sweeper);
      await persist();
    },
  };
}

function unavailable(what: string, cause: unknown): GatewayError {
  return new GatewayError("unavailable", `Temporarily unavailable: ${what}; nothing was sent. Retry shortly.`, { retryAfterSeconds: 1, cause });
}

/** Reads the snapshot; an action found `executing` was cut off by a stop, so it becomes `unknown` and is never re-run. */
function loadSnapshot(file: string): [string, PendingAction][] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new Error(`cannot read pending actions from ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`pending actions file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const snapshot = parsed as { version?: unknown; actions?: unknown };
  if (snapshot.version !== SNAPSHOT_VERSION || !Array.isArray(snapshot.actions)) {
    throw new Error(`pending actions file ${file} has an unknown format (expected version ${SNAPSHOT_VERSION})`);
  }
  return (snapshot.actions as PendingAction[]).map((a) => {
    if (a.state === "executing") a.state = "unknown";
    return [a.id, a];
  });
}

async function writeSnapshot(file: string, actions: PendingAction[]): Promise<void> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify({ version: SNAPSHOT_VERSION, actions }), { mode: 0o600 });
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
