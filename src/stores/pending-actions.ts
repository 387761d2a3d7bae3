/**
 * Pending actions: writes waiting for `confirm_action`.
 *
 * One interface, so the Redis implementation (distributed mode) can replace the in-process one.
 * The embedded store keeps actions in a Map and mirrors them to the data dir so they survive a
 * restart: each change is appended to a journal (JSON Lines, one full record per line, so a
 * change costs one line however many actions are kept), folded into a snapshot (temp file +
 * rename) at start-up and when the journal grows. Files are 0600. The snapshot is JSON Lines too
 * (a version line, then one action a line), and every pass over the files reads and writes them a
 * line at a time: what a fold or a re-read holds in memory is the journals and this process's own
 * actions, not the snapshot, which holds every action of the retention period (an hour of writes).
 *
 * Leaving `pending` is decided by a marker file per action (`pending-actions.d/<id>`), created
 * with link(2), which fails if the file exists: of any number of confirms, in this process or in
 * another gateway process on the same data dir, exactly one creates it. The marker carries the
 * state (executing, done with its outcome, cancelled, expired) and who holds it; an `executing`
 * marker whose holder is gone means the gateway stopped mid-call, reported as `unknown`.
 *
 * Settled actions are kept only so a repeated confirm gets the stored outcome: in memory each is a
 * small tombstone (ids, token hash, state, times, the outcome shortened to a few KB), and at most
 * `maxSettled` of them; beyond that the oldest settled are forgotten in memory first (the files keep
 * them for the retention period, and a lookup of a forgotten id still reads them from there).
 */
import { closeSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import type { ToolResult } from "../context.js";
import { GatewayError } from "../errors.js";
import type { Preview } from "../confirm/preview.js";

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
  /** Waits for pending writes and stops background work. */
  close(): Promise<void>;
}

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
}

const SNAPSHOT_FILE = "pending-actions.json";
const JOURNAL_FILE = "pending-actions.journal";
const MARKER_DIR = "pending-actions.d";
const LOCK_FILE = "pending-actions.lock";
/** Version 2: JSON Lines. Version 1 (one JSON document) is still read, and rewritten at start-up. */
const SNAPSHOT_VERSION = 2;
const SNAPSHOT_HEADER = JSON.stringify({ version: SNAPSHOT_VERSION });
const PURGE_INTERVAL_MS = 60_000;
/** The journal is folded into the snapshot after this many lines written by this process. */
const COMPACT_AFTER_LINES = 2000;
/** Another process's compaction lock older than this is taken to be left by a crash. */
const STALE_LOCK_MS = 30_000;
/** Re-reading the files for actions made by other processes happens at most this often. */
const RELOAD_INTERVAL_MS = 1000;
/** Stored outcomes larger than this (JSON bytes) are shortened; a repeated confirm needs the gist, not every byte. */
const OUTCOME_CAP_BYTES = 4096;
/** Default of `maxSettled`. */
const MAX_SETTLED = 1000;
/** A settled action's warnings are not kept; one shared empty list. */
const NO_WARNINGS: readonly string[] = Object.freeze([]);

/** Store instances alive in this process (a marker's holder in this process is alive only while its store is open). */
const LIVE_INSTANCES = new Set<string>();

/** Who holds a marker. */
interface Holder {
  readonly pid: number;
  readonly instance: string;
}

/** The decided state of an action that left `pending`. */
interface Marker {
  readonly state: Exclude<ActionState, "pending" | "unknown">;
  readonly holder: Holder;
  readonly settledAt: number;
  readonly outcome?: ActionOutcome;
}

interface Files {
  readonly dir: string;
  readonly snapshot: string;
  readonly journal: string;
  readonly markers: string;
  readonly lock: string;
}

/** Creates the embedded pending-action store, loading what the data dir holds. */
export function createPendingActions(options: PendingActionsOptions = {}): PendingActionStore {
  const now = options.now ?? Date.now;
  const retainMs = (options.retainSeconds ?? 3600) * 1000;
  const maxSettled = options.maxSettled ?? MAX_SETTLED;
  if (!Number.isInteger(maxSettled) || maxSettled < 1) throw new Error(`maxSettled must be a positive integer, got ${maxSettled}`);
  const me: Holder = { pid: process.pid, instance: randomBytes(8).toString("hex") };
  LIVE_INSTANCES.add(me.instance);
  const files: Files | undefined = options.dataDir === undefined ? undefined : {
    dir: options.dataDir,
    snapshot: join(options.dataDir, SNAPSHOT_FILE),
    journal: join(options.dataDir, JOURNAL_FILE),
    markers: join(options.dataDir, MARKER_DIR),
    lock: join(options.dataDir, LOCK_FILE),
  };
  const actions = new Map<string, PendingAction>();
  /** Ids this instance changed: its version wins when the journal is folded. */
  const touched = new Set<string>();
  const waiters = new Map<string, Set<() => void>>();
  let lastPurge = now();
  let lastReload = 0;
  /** Settled actions settled at or before this (epoch ms) were dropped from memory by the `maxSettled` bound. */
  let forgottenUpTo = -Infinity;
  /** The map size at which the settled count is looked at again (keeps the bound's scans rare). */
  let nextBoundCheck = maxSettled;

  if (files) {
    const { legacy } = forEachOnDisk(files, (a) => {
      if (!pastRetention(a)) actions.set(a.id, a);
    });
    for (const a of actions.values()) applyMarker(a);
    // A snapshot in the old format is rewritten now, so no later pass reads it whole again.
    compactSync(legacy);
  }

  // Changes are coalesced: a change joins the next journal append that has not started yet, so
  // it is on disk when the returned promise resolves.
  const dirty = new Set<string>();
  let journalLines = 0;
  let queue: Promise<void> = Promise.resolve();
  let nextWrite: Promise<void> | undefined;
  function persist(id: string): Promise<void> {
    touched.add(id);
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
          mkdirSync(files.dir, { recursive: true, mode: 0o700 });
          if (lines.length > 0) await appendFile(files.journal, `${lines.join("\n")}\n`, { mode: 0o600 });
        } catch (err) {
          for (const i of ids) dirty.add(i);
          throw err;
        }
        journalLines += lines.length;
        if (journalLines >= COMPACT_AFTER_LINES && compactSync()) journalLines = 0;
      });
      nextWrite = write;
      queue = write.catch(() => undefined);
    }
    return nextWrite;
  }

  // What the files held may be more settled actions than the bound keeps in memory.
  boundSettled();

  /**
   * Folds the journal into the snapshot under a lock, merging with what is on disk so actions of
   * other processes sharing the data dir are kept. Returns false when another process holds the lock.
   * With nothing to fold it writes nothing, unless `rewrite`.
   */
  function compactSync(rewrite = false): boolean {
    if (!files || !takeLock(files.lock, me)) return false;
    try {
      const aside = `${files.journal}.${me.instance}.compacting`;
      try {
        renameSync(files.journal, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
      // An append another process opened just before the rename lands in the set-aside file: fold
      // again until the set-aside files stop growing, then drop them.
      for (let sizes = rewrite ? undefined : ""; ;) {
        const before = leftovers(files).map((f) => `${f}:${statSync(f).size}`).join();
        if (before === sizes) break;
        const journals = readJournals(files);
        writeSnapshotSync(files.snapshot, (write) => {
          // Past retention: dropped, with its marker; otherwise written (its stored line, if unchanged).
          const keep = (a: PendingAction, line?: string): void => {
            if (pastRetention(a)) removeMarker(files, a.id);
            else write(line ?? JSON.stringify(a));
          };
          // The snapshot a line at a time: kept as it is unless a journal or this process has a newer version.
          forEachSnapshotLine(files.snapshot, (line, a) => {
            if (!journals.has(a.id) && !touched.has(a.id)) keep(a, line);
          });
          for (const [id, onDisk] of journals) keep(touched.has(id) ? (actions.get(id) ?? onDisk) : onDisk);
          for (const [id, a] of actions) if (touched.has(id) && !journals.has(id)) keep(a);
        });
        sizes = before;
      }
      for (const f of leftovers(files)) unlinkSync(f);
      return true;
    } finally {
      releaseLock(files.lock, me);
    }
  }

  /**
   * Picks up actions other processes created since the last look (at most once a second). Returns
   * the record of `wanted` when the files hold it, even one dropped from memory by the bound (it
   * is then not cached again).
   */
  function reload(force = false, wanted?: string): PendingAction | undefined {
    if (!files) return undefined;
    const t = Date.now();
    if (!force && t - lastReload < RELOAD_INTERVAL_MS) return undefined;
    lastReload = t;
    let found: PendingAction | undefined;
    // Of the snapshot's lines (an hour of actions) only `wanted` and undecided actions not cached yet
    // are parsed: a confirm with an unknown or long-settled id costs a read of the file, not a parse of it.
    const worth = (line: string): boolean => {
      const id = lineId(line);
      return id === undefined || id === wanted || (!actions.has(id) && UNDECIDED_LINE.test(line));
    };
    forEachOnDisk(
      files,
      (a) => {
        if (pastRetention(a)) return;
        if (a.id === wanted) found = a;
        if (!actions.has(a.id) && !forgotten(a)) actions.set(a.id, a);
      },
      worth,
    );
    return found;
  }

  /** Dropped from memory by the `maxSettled` bound (the files still hold it until the retention ends). */
  function forgotten(a: PendingAction): boolean {
    return a.state !== "pending" && a.state !== "executing" && (a.settledAt ?? a.createdAt) <= forgottenUpTo;
  }

  /**
   * Keeps at most `maxSettled` settled actions in memory: past it, the oldest settled are dropped
   * down to 90% of the bound. Looked at only when the map has grown by a tenth of the bound since
   * the last look, so a create stays O(1) on average.
   */
  function boundSettled(): void {
    if (actions.size <= nextBoundCheck) return;
    const settled: PendingAction[] = [];
    for (const a of actions.values()) if (a.state !== "pending" && a.state !== "executing") settled.push(a);
    if (settled.length > maxSettled) {
      settled.sort((x, y) => (x.settledAt ?? x.createdAt) - (y.settledAt ?? y.createdAt));
      let drop = settled.length - Math.floor(maxSettled * 0.9);
      for (const a of settled) {
        if (drop === 0) break;
        // Its last change is not in the journal yet: kept until the next look.
        if (dirty.has(a.id)) continue;
        actions.delete(a.id);
        touched.delete(a.id);
        forgottenUpTo = Math.max(forgottenUpTo, a.settledAt ?? a.createdAt);
        drop--;
      }
    }
    nextBoundCheck = Math.max(maxSettled, actions.size + Math.ceil(maxSettled / 10));
  }

  /** Settled (or expired) longer ago than the retention period: forgotten everywhere. */
  function pastRetention(a: PendingAction): boolean {
    if (a.state === "executing") return false;
    const since = a.state === "pending" ? a.expiresAt : (a.settledAt ?? a.createdAt);
    return now() - since > retainMs;
  }

  function lookup(actionId: string): PendingAction | undefined {
    try {
      let a = actions.get(actionId);
      if (!a && files) {
        const onDisk = reload(true, actionId);
        a = actions.get(actionId) ?? onDisk;
      }
      if (!a) return undefined;
      applyMarker(a);
      // A record read back from the files that is somehow still undecided is an ordinary action again.
      if (!actions.has(a.id) && (a.state === "pending" || a.state === "executing")) actions.set(a.id, a);
      return actions.get(actionId) ?? a;
    } catch (err) {
      throw unavailable("the pending actions could not be read", err);
    }
  }

  /** Brings a cached action up to date with its marker (another process may have decided it). */
  function applyMarker(a: PendingAction): void {
    if (!files || (a.state !== "pending" && a.state !== "executing" && a.state !== "unknown")) return;
    const m = readMarker(files, a.id);
    if (!m) {
      // No marker: nobody holds it (a released claim, or a claim that never reached the disk).
      if (a.state === "executing" && !touched.has(a.id)) a.state = "pending";
      return;
    }
    if (m.state === "executing") {
      if (a.state === "executing" && m.holder.instance === me.instance) return;
      a.state = holderAlive(m.holder) ? "executing" : "unknown";
      return;
    }
    a.state = m.state;
    a.settledAt = m.settledAt;
    if (m.outcome) a.outcome = m.outcome;
    retire(a);
  }

  /** Empties a settled action of what a repeated confirm doesn't need, and keeps a compact copy in the map. */
  function retire(a: PendingAction): void {
    slim(a);
    if (actions.get(a.id) === a) actions.set(a.id, tombstone(a));
  }

  /** Decides pending → state for this action, here or in any process; false if someone else decided first. */
  function decide(a: PendingAction, state: Marker["state"]): boolean {
    if (!files) return true;
    mkdirSync(files.markers, { recursive: true, mode: 0o700 });
    return createMarker(files, a.id, { state, holder: me, settledAt: now() });
  }

  /** Moves a pending action past its expiry to `expired` (once, across processes), telling onExpired. */
  function checkExpiry(a: PendingAction): boolean {
    if (a.state === "expired") return true;
    if (a.state !== "pending" || now() < a.expiresAt) return false;
    let won: boolean;
    try {
      won = decide(a, "expired");
    } catch {
      return false; // the disk refuses: try again on the next look
    }
    if (!won) {
      applyMarker(a);
      return (a.state as ActionState) === "expired";
    }
    a.state = "expired";
    a.settledAt = a.expiresAt;
    try {
      options.onExpired?.(a);
    } catch {
      // An observer's failure must not break the store.
    }
    retire(a);
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
      if (!pastRetention(a)) continue;
      actions.delete(id);
      touched.delete(id);
      // Past retention the action is long expired, so a stale copy elsewhere can't be claimed.
      if (files) removeMarker(files, id);
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
    retire(a);
  }

  return {
    async create(action: NewPendingAction): Promise<void> {
      if (actions.has(action.id)) throw new Error(`pending action ${action.id} already exists`);
      sweep();
      purge();
      boundSettled();
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
      return lookup(actionId);
    },

    async list(tokenId: string): Promise<PendingAction[]> {
      reload();
      const out: PendingAction[] = [];
      for (const a of actions.values()) {
        if (a.tokenId !== tokenId || a.state !== "pending") continue;
        applyMarker(a);
        if (a.state === "pending" && !checkExpiry(a)) out.push(a);
      }
      return out.sort((x, y) => x.createdAt - y.createdAt);
    },

    async claim(actionId: string, tokenId: string): Promise<ClaimResult> {
      const a = lookup(actionId);
      if (!a || a.tokenId !== tokenId) return { kind: "not_found" };
      checkExpiry(a);
      if (a.state !== "pending") return { kind: a.state, action: a };
      // Synchronous from the state check to the marker: no other confirm in this process can interleave.
      let won: boolean;
      try {
        won = decide(a, "executing");
      } catch (err) {
        throw unavailable("the confirmation could not be recorded", err);
      }
      if (!won) {
        applyMarker(a);
        return a.state === "pending" ? { kind: "executing", action: a } : { kind: a.state, action: a };
      }
      a.state = "executing";
      a.settledAt = now();
      // The claim is on disk before anything runs: a crash from here on shows as `unknown`.
      try {
        await persist(actionId);
      } catch (err) {
        a.state = "pending";
        if (files) removeMarker(files, actionId);
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
      // The upstream has answered: record the outcome everywhere we can; the marker is what other
      // processes (and a restart) read.
      let markerError: unknown;
      if (files) {
        try {
          replaceMarker(files, actionId, { state: "done", holder: me, settledAt: a.settledAt!, outcome: a.outcome! });
        } catch (err) {
          markerError = err;
        }
      }
      await persist(actionId);
      if (markerError) throw markerError;
    },

    async release(actionId: string): Promise<void> {
      const a = actions.get(actionId);
      if (!a || a.state !== "executing") throw new Error(`pending action ${actionId} is not executing`);
      a.state = "pending";
      if (files) removeMarker(files, actionId);
      notify(actionId);
      await persist(actionId);
    },

    async cancel(actionId: string, tokenId: string): Promise<ClaimResult> {
      const a = lookup(actionId);
      if (!a || a.tokenId !== tokenId) return { kind: "not_found" };
      checkExpiry(a);
      if (a.state !== "pending") return { kind: a.state, action: a };
      let won: boolean;
      try {
        won = decide(a, "cancelled");
      } catch (err) {
        throw unavailable("the cancellation could not be recorded", err);
      }
      if (!won) {
        applyMarker(a);
        return { kind: a.state === "pending" ? "executing" : a.state, action: a } as ClaimResult;
      }
      settle(a, "cancelled");
      await persist(actionId);
      return { kind: "cancelled", action: a };
    },

    async waitForSettled(actionId: string, timeoutMs: number, signal?: AbortSignal): Promise<PendingAction | undefined> {
      const a = lookup(actionId);
      if (!a || a.state !== "executing") return a;
      const held = files ? readMarker(files, actionId) : undefined;
      if (!files || held?.holder.instance === me.instance) {
        // Executing here: woken as soon as it settles.
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
      }
      // Executing in another process: watch its marker.
      const deadline = Date.now() + timeoutMs;
      for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
        applyMarker(a);
        if (a.state !== "executing" || signal?.aborted || Date.now() >= deadline) return a;
        await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - Date.now()))));
      }
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
      LIVE_INSTANCES.delete(me.instance);
    },
  };
}

function unavailable(what: string, cause: unknown): GatewayError {
  return new GatewayError("unavailable", `Temporarily unavailable: ${what}; nothing was sent. Retry shortly.`, { retryAfterSeconds: 1, cause });
}

/** A settled action as kept: what a repeated confirm or cancel answers from, in a fresh compact object. */
function tombstone(a: PendingAction): PendingAction {
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
    state: a.state,
    ...(a.outcome !== undefined ? { outcome: a.outcome } : {}),
    ...(a.settledAt !== undefined ? { settledAt: a.settledAt } : {}),
  };
}

/** After settling, only what a repeated confirm needs is kept (and no arguments linger on disk). */
function slim(a: PendingAction): void {
  if (Object.keys(a.args).length === 0 && a.preview.body === undefined && a.preview.current === undefined && a.preview.diff === undefined) return;
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

function holderAlive(h: Holder): boolean {
  if (h.pid === process.pid) return LIVE_INSTANCES.has(h.instance);
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Creates a file with its full content, failing (false) if it exists: written aside, then hard-linked into place. */
function createExclusive(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

function createMarker(files: Files, id: string, marker: Marker): boolean {
  return createExclusive(join(files.markers, id), JSON.stringify(marker));
}

function replaceMarker(files: Files, id: string, marker: Marker): void {
  const path = join(files.markers, id);
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(tmp, JSON.stringify(marker), { mode: 0o600 });
  renameSync(tmp, path);
}

function removeMarker(files: Files, id: string): void {
  try {
    unlinkSync(join(files.markers, id));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

function readMarker(files: Files, id: string): Marker | undefined {
  const text = readIfExists(join(files.markers, id));
  return text === undefined ? undefined : (JSON.parse(text) as Marker);
}

function takeLock(lock: string, me: Holder): boolean {
  mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
  if (createExclusive(lock, JSON.stringify(me))) return true;
  try {
    const holder = JSON.parse(readFileSync(lock, "utf8")) as Holder;
    if (holderAlive(holder) && Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return false;
    unlinkSync(lock); // left by a crash
  } catch {
    return false;
  }
  return createExclusive(lock, JSON.stringify(me));
}

function releaseLock(lock: string, me: Holder): void {
  try {
    if ((JSON.parse(readFileSync(lock, "utf8")) as Holder).instance === me.instance) unlinkSync(lock);
  } catch {
    // already gone
  }
}

/** Journal files a compaction set aside (its own, or one cut off by a crash). */
function leftovers(files: Files): string[] {
  let names: string[];
  try {
    names = readdirSync(files.dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(`${JOURNAL_FILE}.`) && n.endsWith(".compacting")).map((n) => join(files.dir, n));
}

/**
 * Every action on disk, each id once in its latest version (the snapshot, then set-aside journals,
 * then the journal: later lines win). The journals are read whole (each is folded after a couple
 * of thousand lines); the snapshot a line at a time, skipping the ids the journals have.
 */
function forEachOnDisk(files: Files, each: (a: PendingAction) => void, worth?: (line: string) => boolean): { legacy: boolean } {
  const journals = readJournals(files);
  const read = forEachSnapshotLine(
    files.snapshot,
    (_line, a) => {
      if (!journals.has(a.id)) each(a);
    },
    worth,
  );
  for (const a of journals.values()) each(a);
  return read;
}

/** The set-aside journals and the journal: the latest line of each id. */
function readJournals(files: Files): Map<string, PendingAction> {
  const journals = new Map<string, PendingAction>();
  for (const journal of [...leftovers(files), files.journal]) {
    let torn: { line: number; message: string } | undefined;
    let n = 0;
    forEachLine(journal, (line) => {
      n++;
      if (line.trim() === "") return;
      // Only the last line can be torn (a crash mid-append); a bad line with more after it is damage.
      if (torn) throw new Error(`pending actions journal ${journal} line ${torn.line} is not valid JSON: ${torn.message}`);
      try {
        const a = JSON.parse(line) as PendingAction;
        journals.set(a.id, a);
      } catch (err) {
        torn = { line: n, message: (err as Error).message };
      }
    });
  }
  return journals;
}

/**
 * Each action of the snapshot with its line as stored. Reads version 2 (JSON Lines) a line at a
 * time, and version 1 (one JSON document, written by earlier releases) whole, saying so in
 * `legacy`. A version 2 line that `worth` turns down is skipped unparsed.
 */
function forEachSnapshotLine(file: string, each: (line: string, a: PendingAction) => void, worth?: (line: string) => boolean): { legacy: boolean } {
  let n = 0;
  let legacy = false;
  forEachLine(file, (line) => {
    n++;
    if (n === 1) {
      let head: { version?: unknown; actions?: unknown };
      try {
        head = JSON.parse(line) as typeof head;
      } catch (err) {
        throw new Error(`pending actions file ${file} is not valid JSON: ${(err as Error).message}`);
      }
      if (head?.version === 1 && Array.isArray(head.actions)) {
        legacy = true;
        for (const a of head.actions as PendingAction[]) each(JSON.stringify(a), a);
        return;
      }
      if (head?.version !== SNAPSHOT_VERSION) throw new Error(`pending actions file ${file} has an unknown format (expected version ${SNAPSHOT_VERSION})`);
      return;
    }
    if (line === "" || (worth && !worth(line))) return;
    let a: PendingAction;
    try {
      a = JSON.parse(line) as PendingAction;
    } catch (err) {
      throw new Error(`pending actions file ${file} line ${n} is not valid JSON: ${(err as Error).message}`);
    }
    each(line, a);
  });
  return { legacy };
}

/** The id of a stored action's line (JSON.stringify puts it first), or undefined when the line doesn't start so. */
function lineId(line: string): string | undefined {
  if (!line.startsWith('{"id":"')) return undefined;
  const end = line.indexOf('"', 7);
  return end === -1 ? undefined : line.slice(7, end);
}

/** A stored line whose top-level state is undecided (a false match elsewhere in the line only costs a parse). */
const UNDECIDED_LINE = /"state":"(?:pending|executing)"/;

const READ_CHUNK = 64 * 1024;

/** Each line of a file (without its newline), read in 64 KB chunks; nothing if the file doesn't exist. */
function forEachLine(file: string, each: (line: string) => void): void {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new Error(`cannot read pending actions from ${file}: ${(err as Error).message}`);
  }
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    const decoder = new StringDecoder("utf8");
    // The start of a line longer than a chunk, in pieces: only new text is searched for a newline,
    // so a long line (a version 1 snapshot is one) costs its length, not its length squared.
    let head: string[] = [];
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, 0, READ_CHUNK, null);
      } catch (err) {
        throw new Error(`cannot read pending actions from ${file}: ${(err as Error).message}`);
      }
      if (got === 0) break;
      const text = decoder.write(buf.subarray(0, got));
      let from = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", from)) {
        const piece = text.slice(from, nl);
        each(head.length > 0 ? head.join("") + piece : piece);
        head = [];
        from = nl + 1;
      }
      if (from < text.length) head.push(text.slice(from));
    }
    const last = head.join("") + decoder.end();
    if (last !== "") each(last);
  } finally {
    closeSync(fd);
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read pending actions from ${file}: ${(err as Error).message}`);
  }
}

const WRITE_CHUNK = 64 * 1024;

/** Writes the snapshot to a temp file a chunk at a time, then renames it into place; `fill` gives the action lines. */
function writeSnapshotSync(file: string, fill: (write: (line: string) => void) => void): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w", 0o600);
    const out = fd;
    let pending: string[] = [SNAPSHOT_HEADER];
    let size = SNAPSHOT_HEADER.length;
    const flush = (): void => {
      const bytes = Buffer.from(`${pending.join("\n")}\n`);
      for (let at = 0; at < bytes.length; ) at += writeSync(out, bytes, at, bytes.length - at);
      pending = [];
      size = 0;
    };
    fill((line) => {
      pending.push(line);
      size += line.length;
      if (size >= WRITE_CHUNK) flush();
    });
    if (pending.length > 0) flush();
    closeSync(out);
    fd = undefined;
    renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file was never created
    }
    throw err;
  }
}
