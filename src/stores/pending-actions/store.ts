/**
 * The embedded pending-action store: the state machine, in a Map, with its memory bound, mirrored
 * to the data dir (journal.ts) so actions survive a restart, and decided across processes by
 * marker files (markers.ts).
 *
 * Settled actions are kept only so a repeated confirm gets the stored outcome: in memory each is
 * a small tombstone (settled.ts), and at most `maxSettled` of them; beyond that the oldest settled
 * are forgotten in memory first (the files keep them for the retention period, and a lookup of a
 * forgotten id still reads them from there).
 *
 * Every operation on one action runs under that action's in-process lock, so the disk I/O between
 * a state check and the marker that records the decision never lets another operation of this
 * process interleave; across processes the marker's link(2) decides. Start-up reads the files
 * synchronously; nothing reachable from a call does.
 *
 * `create()` enforces the quotas (quotas.ts) against the pending actions this process knows of,
 * counted as they enter and leave `pending`.
 */
import { GatewayError } from "../../errors.js";
import { createKeyedLock } from "./keyed-lock.js";
import type { ActionOutcome, ActionState, ClaimResult, NewPendingAction, PendingAction, PendingActionStore } from "./contract.js";
import { createSettledBound } from "./bound.js";
import { compactSync, createJournalWriter, filesIn, forEachOnDisk, forEachOnDiskSync, lineId, UNDECIDED_LINE, type FoldView } from "./journal.js";
import { createMarkers, holderAlive, newHolder, retireHolder, type Marker, type Markers } from "./markers.js";
import type { PendingActionsOptions } from "./options.js";
import { actionBytes, checkActionSize, createOpenLedger, openLimitOf, quotaExceeded, resolveQuotas } from "./quotas.js";
import { capOutcome, isSettled, slim, tombstone } from "./settled.js";

const PURGE_INTERVAL_MS = 60_000;
/** Re-reading the files for actions made by other processes happens at most this often. */
const RELOAD_INTERVAL_MS = 1000;
/** Default of `maxSettled`. */
const MAX_SETTLED = 1000;

/** Creates the embedded pending-action store, loading what the data dir holds. */
export function createPendingActions(options: PendingActionsOptions = {}): PendingActionStore {
  const now = options.now ?? Date.now;
  const retainMs = (options.retainSeconds ?? 3600) * 1000;
  const maxSettled = options.maxSettled ?? MAX_SETTLED;
  if (!Number.isInteger(maxSettled) || maxSettled < 1) throw new Error(`maxSettled must be a positive integer, got ${maxSettled}`);
  const quotas = resolveQuotas(options.quotas);
  const me = newHolder();
  const files = options.dataDir === undefined ? undefined : filesIn(options.dataDir);
  const markers: Markers | undefined = files && createMarkers(files.markers);
  const actions = new Map<string, PendingAction>();
  /** The pending actions of `actions`, counted per token and in bytes, for the quotas. */
  const open = createOpenLedger();
  /** Ids this instance changed: its version wins when the journal is folded. */
  const touched = new Set<string>();
  const waiters = new Map<string, Set<() => void>>();
  /** Each action's operations in this process, one at a time. */
  const withLock = createKeyedLock();
  let lastPurge = now();
  let lastReload = 0;
  const bound = createSettledBound(maxSettled);
  const view: FoldView | undefined = markers && {
    me,
    markers,
    touched,
    current: (id) => actions.get(id),
    pastRetention,
  };

  if (files && markers && view) {
    const { legacy } = forEachOnDiskSync(files, (a) => {
      if (!pastRetention(a)) actions.set(a.id, a);
    });
    for (const a of [...actions.values()]) applyMarkerTo(a, isSettled(a) && a.state !== "unknown" ? undefined : markers.readSync(a.id));
    for (const id of actions.keys()) track(id);
    // A snapshot in the old format is rewritten now, so no later pass reads it whole again.
    compactSync(files, view, legacy);
  }

  const journal = files && view ? createJournalWriter(files, view) : undefined;
  function persist(id: string): Promise<void> {
    touched.add(id);
    return journal ? journal.append(id) : Promise.resolve();
  }

  /** Applies the `maxSettled` bound; an action whose last change is not in the journal yet stays. */
  function boundSettled(): void {
    bound.check(actions, (id) => journal?.isDirty(id) ?? false, (id) => touched.delete(id));
  }
  // What the files held may be more settled actions than the bound keeps in memory.
  boundSettled();

  /** Counts the action in the open ledger while it is pending in memory, and only then. */
  function track(id: string): void {
    const a = actions.get(id);
    if (a?.state === "pending") open.add(id, a.tokenId, actionBytes(a));
    else open.remove(id);
  }

  /**
   * Picks up actions other processes created since the last look (at most once a second). Returns
   * the record of `wanted` when the files hold it, even one dropped from memory by the bound (it
   * is then not cached again).
   */
  async function reload(force = false, wanted?: string): Promise<PendingAction | undefined> {
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
    await forEachOnDisk(
      files,
      (a) => {
        if (pastRetention(a)) return;
        if (a.id === wanted) found = a;
        if (!actions.has(a.id) && !bound.forgotten(a)) {
          actions.set(a.id, a);
          track(a.id);
        }
      },
      worth,
    );
    return found;
  }

  /** Settled (or expired) longer ago than the retention period: forgotten everywhere. */
  function pastRetention(a: PendingAction): boolean {
    if (a.state === "executing") return false;
    const since = a.state === "pending" ? a.expiresAt : (a.settledAt ?? a.createdAt);
    return now() - since > retainMs;
  }

  /** The action, from memory or the files, brought up to date with its marker. Call under its lock. */
  async function lookup(actionId: string): Promise<PendingAction | undefined> {
    try {
      let a = actions.get(actionId);
      if (!a && files) {
        const onDisk = await reload(true, actionId);
        a = actions.get(actionId) ?? onDisk;
      }
      if (!a) return undefined;
      await applyMarker(a);
      // A record read back from the files that is somehow still undecided is an ordinary action again.
      if (!actions.has(a.id) && !isSettled(a)) actions.set(a.id, a);
      track(a.id);
      return actions.get(actionId) ?? a;
    } catch (err) {
      throw unavailable("the pending actions could not be read", err);
    }
  }

  /** Brings a cached action up to date with its marker (another process may have decided it). Call under its lock. */
  async function applyMarker(a: PendingAction): Promise<void> {
    if (!markers || (isSettled(a) && a.state !== "unknown")) return;
    applyMarkerTo(a, await markers.read(a.id));
  }

  function applyMarkerTo(a: PendingAction, m: Marker | undefined): void {
    if (!markers || (isSettled(a) && a.state !== "unknown")) return;
    if (!m) {
      // No marker: nobody holds it (a released claim, or a claim that never reached the disk).
      if (a.state === "executing" && !touched.has(a.id)) a.state = "pending";
      track(a.id);
      return;
    }
    if (m.state === "executing") {
      if (a.state === "executing" && m.holder.instance === me.instance) return;
      a.state = holderAlive(m.holder) ? "executing" : "unknown";
      track(a.id);
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
    track(a.id);
  }

  /** Decides pending → state for this action, here or in any process; false if someone else decided first. */
  async function decide(a: PendingAction, state: Marker["state"]): Promise<boolean> {
    if (!markers) return true;
    return markers.create(a.id, { state, holder: me, settledAt: now() });
  }

  /** Moves a pending action past its expiry to `expired` (once, across processes), telling onExpired. Call under its lock. */
  async function checkExpiry(a: PendingAction): Promise<boolean> {
    if (a.state === "expired") return true;
    if (a.state !== "pending" || now() < a.expiresAt) return false;
    let won: boolean;
    try {
      won = await decide(a, "expired");
    } catch {
      return false; // the disk refuses: try again on the next look
    }
    if (!won) {
      await applyMarker(a);
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

  /** Expires every pending action past its expiry; the others cost a comparison each. */
  async function sweep(): Promise<number> {
    const t = now();
    const due: PendingAction[] = [];
    for (const a of actions.values()) if (a.state === "pending" && t >= a.expiresAt) due.push(a);
    let n = 0;
    for (const a of due) if (await withLock(a.id, () => checkExpiry(actions.get(a.id) ?? a))) n++;
    return n;
  }
  const sweepMs = options.sweepIntervalMs ?? 30_000;
  const sweeper = sweepMs > 0 ? setInterval(() => void sweep().catch(() => undefined), sweepMs) : undefined;
  sweeper?.unref();

  async function purge(): Promise<void> {
    const t = now();
    if (t - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = t;
    const gone: string[] = [];
    for (const [id, a] of actions) {
      if (!pastRetention(a)) continue;
      actions.delete(id);
      touched.delete(id);
      open.remove(id);
      gone.push(id);
    }
    // Past retention the action is long expired, so a stale copy elsewhere can't be claimed.
    if (markers) for (const id of gone) await markers.remove(id).catch(() => undefined);
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

  /** The executing action of this instance, or a clear error. */
  function executing(actionId: string): PendingAction {
    const a = actions.get(actionId);
    if (!a || a.state !== "executing") throw new Error(`pending action ${actionId} is not executing`);
    return a;
  }

  return {
    async create(action: NewPendingAction): Promise<void> {
      if (actions.has(action.id)) throw new Error(`pending action ${action.id} already exists`);
      const size = checkActionSize(quotas, action);
      await sweep();
      await purge();
      boundSettled();
      if (actions.has(action.id)) throw new Error(`pending action ${action.id} already exists`);
      // From the checks to the ledger without an await: two creates of this process can't both pass at the cap.
      const limit = openLimitOf(quotas, action);
      if (open.openOf(action.tokenId) >= limit) throw quotaExceeded("open_actions", limit, open.openOf(action.tokenId));
      if (open.bytes + size > quotas.maxStoreBytes) throw quotaExceeded("store_bytes", quotas.maxStoreBytes, open.bytes);
      actions.set(action.id, { ...action, state: "pending" });
      open.add(action.id, action.tokenId, size);
      try {
        await persist(action.id);
      } catch (err) {
        // Not on disk means it would not survive a restart: refuse rather than half-promise.
        actions.delete(action.id);
        open.remove(action.id);
        throw unavailable("the pending action could not be saved", err);
      }
    },

    get(actionId: string): Promise<PendingAction | undefined> {
      return withLock(actionId, () => lookup(actionId));
    },

    async list(tokenId: string): Promise<PendingAction[]> {
      try {
        await reload();
      } catch (err) {
        throw unavailable("the pending actions could not be read", err);
      }
      const mine: PendingAction[] = [];
      for (const a of actions.values()) if (a.tokenId === tokenId && a.state === "pending") mine.push(a);
      const out: PendingAction[] = [];
      for (const a of mine) {
        const kept = await withLock(a.id, async () => {
          const current = actions.get(a.id) ?? a;
          if (current.state !== "pending") return undefined;
          await applyMarker(current);
          return current.state === "pending" && !(await checkExpiry(current)) ? current : undefined;
        });
        if (kept) out.push(kept);
      }
      return out.sort((x, y) => x.createdAt - y.createdAt);
    },

    claim(actionId: string, tokenId: string): Promise<ClaimResult> {
      return withLock(actionId, async () => {
        const a = await lookup(actionId);
        if (!a || a.tokenId !== tokenId) return { kind: "not_found" };
        await checkExpiry(a);
        if (a.state !== "pending") return { kind: a.state, action: a };
        let won: boolean;
        try {
          won = await decide(a, "executing");
        } catch (err) {
          throw unavailable("the confirmation could not be recorded", err);
        }
        if (!won) {
          await applyMarker(a);
          return a.state === "pending" ? { kind: "executing", action: a } : { kind: a.state, action: a };
        }
        a.state = "executing";
        a.settledAt = now();
        track(actionId);
        // The claim is on disk before anything runs: a crash from here on shows as `unknown`.
        try {
          await persist(actionId);
        } catch (err) {
          a.state = "pending";
          track(actionId);
          if (markers) await markers.remove(actionId).catch(() => undefined);
          notify(actionId);
          throw unavailable("the confirmation could not be recorded", err);
        }
        return { kind: "claimed", action: a };
      });
    },

    complete(actionId: string, outcome: ActionOutcome): Promise<void> {
      return withLock(actionId, async () => {
        const a = executing(actionId);
        settle(a, "done", outcome);
        notify(actionId);
        // The upstream has answered: record the outcome everywhere we can; the marker is what other
        // processes (and a restart) read.
        let markerError: unknown;
        if (markers) {
          try {
            await markers.replace(actionId, { state: "done", holder: me, settledAt: a.settledAt!, outcome: a.outcome! });
          } catch (err) {
            markerError = err;
          }
        }
        await persist(actionId);
        if (markerError) throw markerError;
      });
    },

    release(actionId: string): Promise<void> {
      return withLock(actionId, async () => {
        const a = executing(actionId);
        a.state = "pending";
        track(actionId);
        if (markers) await markers.remove(actionId);
        notify(actionId);
        await persist(actionId);
      });
    },

    cancel(actionId: string, tokenId: string): Promise<ClaimResult> {
      return withLock(actionId, async () => {
        const a = await lookup(actionId);
        if (!a || a.tokenId !== tokenId) return { kind: "not_found" };
        await checkExpiry(a);
        if (a.state !== "pending") return { kind: a.state, action: a };
        let won: boolean;
        try {
          won = await decide(a, "cancelled");
        } catch (err) {
          throw unavailable("the cancellation could not be recorded", err);
        }
        if (!won) {
          await applyMarker(a);
          return { kind: a.state === "pending" ? "executing" : a.state, action: a } as ClaimResult;
        }
        settle(a, "cancelled");
        await persist(actionId);
        return { kind: "cancelled", action: a };
      });
    },

    async waitForSettled(actionId: string, timeoutMs: number, signal?: AbortSignal): Promise<PendingAction | undefined> {
      const a = await withLock(actionId, () => lookup(actionId));
      if (!a || a.state !== "executing") return a;
      const held = markers ? await markers.read(actionId) : undefined;
      if (!markers || held?.holder.instance === me.instance) {
        if (actions.get(actionId)?.state !== "executing") return actions.get(actionId);
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
        await withLock(actionId, () => applyMarker(a));
        if (a.state !== "executing" || signal?.aborted || Date.now() >= deadline) return a;
        await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - Date.now()))));
      }
    },

    async countPending(): Promise<number> {
      await sweep();
      let n = 0;
      for (const a of actions.values()) if (a.state === "pending") n++;
      return n;
    },

    async close(): Promise<void> {
      if (sweeper) clearInterval(sweeper);
      await journal?.idle();
      retireHolder(me);
    },
  };
}

function unavailable(what: string, cause: unknown): GatewayError {
  return new GatewayError("unavailable", `Temporarily unavailable: ${what}; nothing was sent. Retry shortly.`, { retryAfterSeconds: 1, cause });
}
