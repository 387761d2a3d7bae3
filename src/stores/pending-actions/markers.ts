/**
 * Cross-process claim markers. Leaving `pending` is decided by a marker file per action
 * (`pending-actions.d/<id>`), created with link(2), which fails if the file exists: of any number
 * of confirms, in this process or in another gateway process on the same data dir, exactly one
 * creates it. The marker carries the state (executing, done with its outcome, cancelled, expired)
 * and who holds it; an `executing` marker whose holder is gone means the gateway stopped mid-call.
 *
 * The compaction lock is the same kind of file. The `Sync` forms are for start-up only.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { mkdir, readFile, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createExclusive, createExclusiveSync, writeFileAtomic } from "../fs/atomic-write.js";
import type { ActionOutcome, ActionState } from "./contract.js";

/** Another process's compaction lock older than this is taken to be left by a crash. */
const STALE_LOCK_MS = 30_000;

/** Who holds a marker or the lock: a process, and a store instance within it. */
export interface Holder {
  readonly pid: number;
  readonly instance: string;
}

/** The decided state of an action that left `pending`. */
export interface Marker {
  readonly state: Exclude<ActionState, "pending" | "unknown">;
  readonly holder: Holder;
  readonly settledAt: number;
  readonly outcome?: ActionOutcome;
}

/** Store instances alive in this process (a marker's holder in this process is alive only while its store is open). */
const LIVE_INSTANCES = new Set<string>();

/** A new holder identity for a store instance, alive until `retireHolder`. */
export function newHolder(): Holder {
  const me = { pid: process.pid, instance: randomBytes(8).toString("hex") };
  LIVE_INSTANCES.add(me.instance);
  return me;
}

/** The instance is closed: its markers now read as held by nobody. */
export function retireHolder(me: Holder): void {
  LIVE_INSTANCES.delete(me.instance);
}

/** Whether the holder's process (and, in this process, its store instance) still runs. */
export function holderAlive(h: Holder): boolean {
  if (h.pid === process.pid) return LIVE_INSTANCES.has(h.instance);
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The markers of one data dir. */
export interface Markers {
  /** Creates the marker unless one exists: true for the one caller that decided. */
  create(id: string, marker: Marker): Promise<boolean>;
  /** Overwrites the marker (the holder recording the outcome). */
  replace(id: string, marker: Marker): Promise<void>;
  remove(id: string): Promise<void>;
  read(id: string): Promise<Marker | undefined>;
  readSync(id: string): Marker | undefined;
  removeSync(id: string): void;
}

/** The markers kept in `dir`. */
export function createMarkers(dir: string): Markers {
  const path = (id: string) => join(dir, id);
  return {
    async create(id, marker) {
      try {
        return await createExclusive(path(id), JSON.stringify(marker));
      } catch (err) {
        // The folder is made on first use only: one call less on every claim.
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        await mkdir(dir, { recursive: true, mode: 0o700 });
        return createExclusive(path(id), JSON.stringify(marker));
      }
    },
    replace: (id, marker) => writeFileAtomic(path(id), JSON.stringify(marker)),
    async remove(id) {
      await unlink(path(id)).catch(ignoreMissing);
    },
    async read(id) {
      const text = await readFile(path(id), "utf8").catch(ignoreMissing);
      return text === undefined ? undefined : (JSON.parse(text) as Marker);
    },
    readSync(id) {
      let text: string;
      try {
        text = readFileSync(path(id), "utf8");
      } catch (err) {
        return ignoreMissing(err);
      }
      return JSON.parse(text) as Marker;
    },
    removeSync(id) {
      try {
        unlinkSync(path(id));
      } catch (err) {
        ignoreMissing(err);
      }
    },
  };
}

function ignoreMissing(err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  throw err;
}

/** Takes the compaction lock; false when another live holder has it. A lock left by a crash is broken. */
export async function takeLock(lock: string, me: Holder): Promise<boolean> {
  await mkdir(dirname(lock), { recursive: true, mode: 0o700 });
  if (await createExclusive(lock, JSON.stringify(me))) return true;
  try {
    const holder = JSON.parse(await readFile(lock, "utf8")) as Holder;
    if (holderAlive(holder) && Date.now() - (await stat(lock)).mtimeMs < STALE_LOCK_MS) return false;
    await unlink(lock); // left by a crash
  } catch {
    return false;
  }
  return createExclusive(lock, JSON.stringify(me));
}

/** `takeLock` for start-up. */
export function takeLockSync(lock: string, me: Holder): boolean {
  mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
  if (createExclusiveSync(lock, JSON.stringify(me))) return true;
  try {
    const holder = JSON.parse(readFileSync(lock, "utf8")) as Holder;
    if (holderAlive(holder) && Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return false;
    unlinkSync(lock); // left by a crash
  } catch {
    return false;
  }
  return createExclusiveSync(lock, JSON.stringify(me));
}

/** Releases the lock if this holder still has it. */
export async function releaseLock(lock: string, me: Holder): Promise<void> {
  try {
    if ((JSON.parse(await readFile(lock, "utf8")) as Holder).instance === me.instance) await unlink(lock);
  } catch {
    // already gone
  }
}

/** `releaseLock` for start-up. */
export function releaseLockSync(lock: string, me: Holder): void {
  try {
    if ((JSON.parse(readFileSync(lock, "utf8")) as Holder).instance === me.instance) unlinkSync(lock);
  } catch {
    // already gone
  }
}
