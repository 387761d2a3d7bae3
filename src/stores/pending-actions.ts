/**
 * Pending actions: writes waiting for `confirm_action`.
 *
 * One interface, so the Redis implementation (distributed mode) can replace the in-process one.
 * The in-process store keeps every action in a Map and mirrors it to the data dir so pending
 * actions survive a restart: each change is appended to a journal (JSON Lines, one full record per
 * line, so a change costs one line however many actions are kept), and the journal is folded into
 * a snapshot (written to a temp file and renamed) when it grows and at start-up. Files are 0600.
 * The claim is synchronous on the Map, so of many concurrent confirms exactly one wins.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { appendFile, rename, truncate, unlink, writeFile } from "node:fs/promises";
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
const JOURNAL_FILE = "pending-actions.journal";
const SNAPSHOT_VERSION = 1;
const PURGE_INTERVAL_MS = 60_000;
/** The journal is folded into the snapshot after this many lines. */
const COMPACT_AFTER_LINES = 2000;
/** Stored outcomes larger than this (JSON bytes) are shortened; a repeated confirm needs the gist, not every byte. */
const OUTCOME_CAP_BYTES = 16_384;

/** Creates the in-process pending-action store, loading the snapshot from the data dir when there is one. */
export function createPendingActions(options: PendingActionsOptions = {}): PendingActionStore {
  const now = options.now ?? Date.now;
  const retainMs = (options.retainSeconds ?? 86_400) * 1000;
  const files = options.dataDir === undefined ? undefined : { snapshot: join(options.dataDir, SNAPSHOT_FILE), journal: join(options.dataDir, JOURNAL_FILE) };
  const actions = new Map<string, PendingAction>(files ? load(files) : []);
  const waiters = new Map<string, Set<() => void>>();
  let lastPurge = now();

  // Changes are coalesced: a change joins the next journal append that has not started yet, so
  // it is on disk when the returned promise resolves.
  const dirty = new Set<string>();
  let journalLines = 0;
  let queue: Promise<void> = Promise.resolve();
  let nextWrite: Promise<void> | undefined;
  function persist(id: string): Promise<void> {
    if (!files) return Promise.resolve();
    dirty.add(id);
    if (!nextWrite) {
      const write = queue.then(async () => {
        nextWrite = undefined;
        const ids = [...dirty];
        dirty.clear();
        const lines = ids.flatMap((i) => {
          const a = actions.get(i);
          return a ? [JSON.stringify(a)] : [];
        });
        try {
          mkdirSync(dirname(files.journal), { recursive: true, mode: 0o700 });
          if (lines.length > 0) await appendFile(files.journal, `${lines.join("\n")}\n`, { mode: 0o600 });
        } catch (err) {
          for (const i of ids) dirty.add(i);
          throw err;
        }
        journalLines += lines.length;
        if (journalLines >= COMPACT_AFTER_LINES) {
          await writeSnapshot(files.snapshot, [...actions.values()]);
          await truncate(files.journal, 0);
          journalLines = 0;
        }
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
    try {
      options.onExpired?.(a);
    } catch {
      // An observer's failure must not break the store.
    }
    slim(a);
    void persist(a.id).catch(() => undefined);
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
    if (outcome) a.outcome = capOutcome(outcome);
    a.settledAt = now();
    slim(a);
  }

  return {
    async create(action: NewPendingAction): Promise<void> {
      if (actions.has(action.id)) throw new Error(`pending action ${action.id} already exists`);
      sweep();
      purge();
      actions.set(action.id, { ...action, state: "pending" });
      try {
        await persist(action.id);
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
        await persist(actionId);
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
      await persist(actionId);
    },

    async release(actionId: string): Promise<void> {
      const a = actions.get(actionId);
      if (!a || a.state !== "executing") throw new Error(`pending action ${actionId} is not executing`);
      a.state = "pending";
      notify(actionId);
      await persist(actionId);
    },

    async cancel(actionId: string, tokenId: string): Promise<ClaimResult> {
      const a = actions.get(actionId);
      if (!a || a.tokenId !== tokenId) return { kind: "not_found" };
      checkExpiry(a);
      if (a.state !== "pending") return { kind: a.state, action: a };
      settle(a, "cancelled");
      await persist(actionId);
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
      await queue;
    },
  };
}

function unavailable(what: string, cause: unknown): GatewayError {
  return new GatewayError("unavailable", `Temporarily unavailable: ${what}; nothing was sent. Retry shortly.`, { retryAfterSeconds: 1, cause });
}

/** After settling, only what a repeated confirm needs is kept (and no arguments linger on disk). */
function slim(a: PendingAction): void {
  a.args = {};
  const p = a.preview;
  a.preview = { summary: p.summary, tool: p.tool, method: p.method, url: p.url, warnings: [] };
}

function capOutcome(outcome: ActionOutcome): ActionOutcome {
  if (JSON.stringify(outcome.result).length <= OUTCOME_CAP_BYTES) return outcome;
  const budget = Math.floor(OUTCOME_CAP_BYTES / 2);
  const content = outcome.result.content.map((b) =>
    b.type === "text" && b.text.length > budget ? { type: "text" as const, text: `${b.text.slice(0, budget)}… (stored outcome shortened)` } : b.type === "text" ? b : { type: "text" as const, text: `[${b.type} content not kept]` });
  return { status: outcome.status, result: { content, ...(outcome.result.isError ? { isError: true } : {}) } };
}

/**
 * Loads snapshot + journal, then folds the journal into a fresh snapshot (which also drops a line
 * torn by a crash). An action found `executing` was cut off by a stop: it becomes `unknown` and is
 * never re-run.
 */
function load(files: { snapshot: string; journal: string }): [string, PendingAction][] {
  const byId = new Map<string, PendingAction>();
  const text = readIfExists(files.snapshot);
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`pending actions file ${files.snapshot} is not valid JSON: ${(err as Error).message}`);
    }
    const snapshot = parsed as { version?: unknown; actions?: unknown };
    if (snapshot.version !== SNAPSHOT_VERSION || !Array.isArray(snapshot.actions)) {
      throw new Error(`pending actions file ${files.snapshot} has an unknown format (expected version ${SNAPSHOT_VERSION})`);
    }
    for (const a of snapshot.actions as PendingAction[]) byId.set(a.id, a);
  }
  const journal = readIfExists(files.journal);
  if (journal !== undefined) {
    const lines = journal.split("\n");
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        const a = JSON.parse(line) as PendingAction;
        byId.set(a.id, a);
      } catch (err) {
        // Only the last line can be torn (a crash mid-append); anything else is damage.
        if (i < lines.length - 1) throw new Error(`pending actions journal ${files.journal} line ${i + 1} is not valid JSON: ${(err as Error).message}`);
      }
    });
  }
  for (const a of byId.values()) if (a.state === "executing") a.state = "unknown";
  if (journal !== undefined || [...byId.values()].some((a) => a.state === "unknown")) {
    writeSnapshotSync(files.snapshot, [...byId.values()]);
    if (existsSync(files.journal)) truncateSync(files.journal, 0);
  }
  return [...byId.entries()];
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read pending actions from ${file}: ${(err as Error).message}`);
  }
}

function snapshotText(actions: PendingAction[]): string {
  return JSON.stringify({ version: SNAPSHOT_VERSION, actions });
}

function writeSnapshotSync(file: string, actions: PendingAction[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, snapshotText(actions), { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file was never created
    }
    throw err;
  }
}

async function writeSnapshot(file: string, actions: PendingAction[]): Promise<void> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, snapshotText(actions), { mode: 0o600 });
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
