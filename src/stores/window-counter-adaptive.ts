/**
 * The embedded rate limits' counter: in memory while this process is the only one on the data dir,
 * in the shared files (window-counter-files.ts) while others are there too. A lone busy `serve`
 * then pays no file per call, and the limits still hold across every process on the data dir.
 *
 * Each process keeps an entry in `<dir>/.peers/` (fs/peers.ts), named `.solo` while it counts in
 * memory and `.shared` otherwise. The hand-over is exact because nobody counts in the files while
 * a `.solo` entry is live:
 * - a process that arrives creates its entry as `.shared` and counts nothing until it sees no
 *   other live `.solo` entry;
 * - a process that sees nobody else renames its entry to `.solo`, then looks again: anyone who
 *   arrived in between is seen then (it goes back to `.shared`), anyone who arrives after sees `.solo`
 *   and waits;
 * - a solo process that sees another entry (the folder is watched; a heartbeat looks too) counts
 *   in the files from then on, writes what it counted in memory into each key's current window as
 *   one hand-over file, and only then renames its entry to `.shared`, which lets the newcomer start.
 * A solo process that dies leaves an entry that goes stale after `staleMs`; a newcomer waits for
 * that at most.
 */
import { join } from "node:path";
import { createPeerEntry, type PeerEntry } from "./fs/peers.js";
import { createFileWindowCounter, type FileWindowCounter, type FileWindowCounterOptions, type WindowCounter, type WindowTake } from "./window-counter-files.js";

/** Options of the adaptive counter (the file counter's, plus the peers' timing). */
export interface AdaptiveWindowCounterOptions extends FileWindowCounterOptions {
  /** How often the entry is refreshed and the others looked at (default 1 s). */
  readonly heartbeatMs?: number;
  /** An entry older than this is a dead process's (default 5 s). */
  readonly staleMs?: number;
}

/** A key's count in memory for one window: what the files held when this process went solo, plus its own. */
interface SoloCount {
  readonly window: number;
  readonly windowDir: string;
  readonly base: Promise<number>;
  /** `base` once it has settled: the takes after the first need not wait for it. */
  known?: number;
  own: number;
}

/** How often a process waiting for a solo peer's hand-over looks again (besides watching the folder). */
const WAIT_POLL_MS = 20;

/** The adaptive counter over `options.dir`. */
export function createAdaptiveWindowCounter(options: AdaptiveWindowCounterOptions): WindowCounter {
  const files: FileWindowCounter = createFileWindowCounter(options);
  const heartbeatMs = options.heartbeatMs ?? 1_000;
  const staleMs = options.staleMs ?? 5_000;
  const entry: PeerEntry = createPeerEntry({ dir: join(options.dir, ".peers"), staleMs });
  let solo = false;
  /** Bumped at every change of mode: a take that awaited across one starts again. */
  let epoch = 0;
  const counts = new Map<string, SoloCount>();
  /** Settles when this process may count in the files (no live solo peer; its own counts handed over). */
  let filesReady: Promise<void> = Promise.resolve();
  /** Shared takes in flight: going solo reads the files only once they are on disk. */
  let inFlight = 0;
  let drain: { promise: Promise<void>; resolve: () => void } | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  let evaluating: Promise<void> | undefined;
  let again = false;
  let beatAgain = false;

  async function waitForNoSoloPeer(): Promise<void> {
    for (;;) {
      const others = await entry.others();
      if (closed || !others.some((p) => p.state === "solo")) return;
      // Not unref'd: a take waiting here must keep the process alive until it is answered.
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, WAIT_POLL_MS);
      });
    }
  }

  async function goShared(): Promise<void> {
    solo = false;
    epoch++;
    const handing = [...counts.values()];
    counts.clear();
    files.forget();
    filesReady = (async () => {
      for (const c of handing) {
        if (c.own > 0) await files.handOver(c.windowDir, c.own).catch(() => undefined);
      }
      await entry.setState("shared").catch(() => undefined);
    })();
    await filesReady;
  }

  async function trySolo(): Promise<void> {
    await entry.setState("solo");
    if ((await entry.others()).length > 0) {
      await entry.setState("shared");
      return;
    }
    solo = true;
    epoch++;
    files.forget();
  }

  /** Looks at the other entries and changes mode when needed (one look at a time); `beat` refreshes this entry first. */
  async function evaluate(beat: boolean): Promise<void> {
    if (closed) return;
    if (beat && !(await entry.beat())) {
      // A peer took this entry for a dead one: arrive again.
      if (solo) await goShared();
      await entry.register("shared");
      epoch++;
      filesReady = waitForNoSoloPeer();
      await filesReady;
    }
    const others = await entry.others();
    if (solo && others.length > 0) await goShared();
    else if (!solo && others.length === 0) await trySolo();
  }

  function schedule(beat = false): void {
    wake?.();
    if (evaluating) {
      again = true;
      beatAgain ||= beat;
      return;
    }
    evaluating = evaluate(beat)
      .catch(() => undefined)
      .finally(() => {
        evaluating = undefined;
        if (again && !closed) {
          const b = beatAgain;
          again = beatAgain = false;
          schedule(b);
        }
      });
  }

  const started = entry.register("shared").then(
    async () => {
      // Another entry appeared, changed or went (this entry's own renames and heartbeats aside).
      entry.watch((name) => {
        if (!name?.startsWith(`${entry.id}.`)) schedule();
      });
      filesReady = waitForNoSoloPeer();
      await filesReady;
      schedule();
    },
    () => undefined,
  );
  const heartbeat = setInterval(() => schedule(true), heartbeatMs);
  heartbeat.unref();

  async function soloTake(name: string, limit: number, at: number): Promise<WindowTake | undefined> {
    const place = await files.locate(name);
    if (at !== epoch) return undefined;
    let c = counts.get(place.key);
    if (!c || c.window !== place.window) {
      const base = (async () => {
        if (inFlight > 0) {
          if (!drain) {
            let resolve!: () => void;
            const promise = new Promise<void>((r) => (resolve = r));
            drain = { promise, resolve };
          }
          await drain.promise;
        }
        return files.countIn(place.windowDir, limit);
      })();
      const entry: SoloCount = { window: place.window, windowDir: place.windowDir, base, own: 0 };
      void base.then((n) => (entry.known = n), () => undefined);
      c = entry;
      counts.set(place.key, c);
    }
    const base = await c.base;
    if (at !== epoch) return undefined;
    return count(c, base, limit, place.resetInMs);
  }

  function count(c: SoloCount, base: number, limit: number, resetInMs: number): WindowTake {
    const n = base + c.own;
    if (n >= limit) return { allowed: false, count: limit, resetInMs };
    c.own++;
    return { allowed: true, count: n + 1, resetInMs };
  }

  /** A solo take of a key already counted in this window: answered at once, with no I/O and no wait. */
  function soloTakeKnown(name: string, limit: number): WindowTake | undefined {
    const place = files.locateKnown(name);
    const c = place && counts.get(place.key);
    if (!place || !c || c.window !== place.window || c.known === undefined) return undefined;
    return count(c, c.known, limit, place.resetInMs);
  }

  async function sharedTake(name: string, limit: number): Promise<WindowTake> {
    inFlight++;
    try {
      return await files.take(name, limit);
    } finally {
      if (--inFlight === 0 && drain) {
        drain.resolve();
        drain = undefined;
      }
    }
  }

  let startedDone = false;
  void started.then(() => (startedDone = true));

  return {
    async take(name, limit) {
      if (solo && startedDone) {
        const took = soloTakeKnown(name, limit);
        if (took) return took;
      }
      await started;
      for (;;) {
        if (solo) {
          const took = await soloTake(name, limit, epoch);
          if (took) return took;
          continue;
        }
        const at = epoch;
        await filesReady;
        if (at === epoch && !solo) return sharedTake(name, limit);
      }
    },
    async close() {
      closed = true;
      clearInterval(heartbeat);
      wake?.();
      await files.close();
      // Counted in memory: handed over so a process that stays or comes next still sees them.
      const handing = solo ? [...counts.values()].filter((c) => c.own > 0) : [];
      await Promise.all(handing.map((c) => files.handOver(c.windowDir, c.own).catch(() => undefined)));
      await entry.close();
    },
  };
}
