/**
 * The live processes sharing a folder: each keeps an entry `<dir>/<id>.<state>` whose mtime it
 * refreshes every heartbeat and which it deletes on close. An entry not refreshed for `staleMs`
 * was left by a process that died (or has been stopped that long) and is deleted by whoever sees
 * it. The state is in the entry's name and changes by rename, so one readdir tells every live
 * process's state and no reader ever sees a half-written one.
 */
import { unlinkSync, watch, type FSWatcher } from "node:fs";
import { mkdir, readdir, rename, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Another live process's entry. */
export interface Peer {
  readonly id: string;
  readonly state: string;
}

/** This process's entry among the folder's live processes. */
export interface PeerEntry {
  readonly id: string;
  /** Creates the entry in `state` (again, if a peer deleted it as stale). */
  register(state: string): Promise<void>;
  /** Renames the entry to `state`. */
  setState(state: string): Promise<void>;
  /** The other live entries; stale ones are deleted on the way. */
  others(): Promise<Peer[]>;
  /** Refreshes the entry's mtime; false when the entry is gone (deleted as stale by a peer). */
  beat(): Promise<boolean>;
  /** Calls `onChange` with the entry's file name when one appears, changes or goes (false when the folder can't be watched). */
  watch(onChange: (name: string | undefined) => void): boolean;
  /** Deletes the entry and stops watching. */
  close(): Promise<void>;
}

/** Options of a folder's peer entries. */
export interface PeersOptions {
  readonly dir: string;
  /** An entry older than this is a dead process's (default 5 s). */
  readonly staleMs?: number;
}

const NAME = /^([A-Za-z0-9_-]+)\.([a-z]+)$/;

/** This process's entries, deleted when it exits without closing them (one listener for all). */
const live = new Set<string>();
let exitHook = false;

function keep(path: string | undefined, previous: string | undefined): void {
  if (previous !== undefined) live.delete(previous);
  if (path !== undefined) live.add(path);
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const p of live) {
      try {
        // At exit nothing else runs: the only way left to leave the folder tidy.
        unlinkSync(p);
      } catch {
        // already gone
      }
    }
  });
}

/** An entry for this process in `dir` (not created until `register`). */
export function createPeerEntry(options: PeersOptions): PeerEntry {
  const { dir } = options;
  const staleMs = options.staleMs ?? 5_000;
  const id = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  let state: string | undefined;
  let watcher: FSWatcher | undefined;
  const path = (s: string) => join(dir, `${id}.${s}`);

  return {
    id,
    async register(next) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(path(next), "", { mode: 0o600 });
      if (state !== undefined && state !== next) await unlink(path(state)).catch(() => undefined);
      keep(path(next), state === undefined ? undefined : path(state));
      state = next;
    },
    async setState(next) {
      if (state === undefined || state === next) return;
      await rename(path(state), path(next));
      keep(path(next), path(state));
      state = next;
    },
    async others() {
      const names = await readdir(dir).catch(() => [] as string[]);
      const found: Peer[] = [];
      const now = Date.now();
      await Promise.all(
        names.map(async (name) => {
          const m = NAME.exec(name);
          if (!m || m[1] === id) return;
          const s = await stat(join(dir, name)).catch(() => undefined);
          if (!s) return;
          if (now - s.mtimeMs > staleMs) await unlink(join(dir, name)).catch(() => undefined);
          else found.push({ id: m[1], state: m[2] });
        }),
      );
      return found;
    },
    async beat() {
      if (state === undefined) return false;
      const t = new Date();
      return utimes(path(state), t, t).then(
        () => true,
        () => false,
      );
    },
    watch(onChange) {
      try {
        watcher = watch(dir, { persistent: false }, (_event, name) => onChange(name ?? undefined));
        watcher.on("error", () => undefined);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      watcher?.close();
      watcher = undefined;
      if (state !== undefined) {
        keep(undefined, path(state));
        await unlink(path(state)).catch(() => undefined);
      }
      state = undefined;
    },
  };
}
