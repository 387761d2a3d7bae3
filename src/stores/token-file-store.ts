/**
 * The embedded token store: one JSON file in the data dir (mode 0600), shared by the gateway
 * and the `countersign tokens` CLI. Writes take a lock file and replace the file atomically
 * (temp + rename); reads re-parse whenever the file's identity (inode, mtime, size) changed, so a
 * `tokens revoke` from the CLI is seen by a running gateway on its next call. The file is watched
 * (inotify and the like): while no change is reported, a call trusts what it read, for at most
 * `maxStaleMs`, and pays no stat; a report, or no watch to be had, means a stat per call again.
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { safeEqual } from "../tokens/safe-equal.js";
import { writeFileAtomic } from "./fs/atomic-write.js";
import type { TokenRecord, TokenStore } from "./token-store.js";
import { withFileLock } from "./fs/file-lock.js";

/** Options of the file store. */
export interface TokenFileStoreOptions {
  /** The data dir (COUNTERSIGN_DATA_DIR). */
  readonly dir: string;
  /** How long to wait for another process's lock before giving up (default 5 s). */
  readonly lockTimeoutMs?: number;
  /** A lock older than this is taken to be left by a crashed process (default 10 s). */
  readonly staleLockMs?: number;
  /** Contents are re-read at least this often even when the file looks unchanged (default 1 s). */
  readonly maxStaleMs?: number;
  /** Milliseconds since the epoch; a fake clock in tests. */
  readonly now?: () => number;
}

/** The file's name inside the data dir. */
export const TOKEN_FILE = "tokens.json";

interface Snapshot {
  readonly stamp: string;
  readonly readAt: number;
  readonly byId: Map<string, TokenRecord>;
  readonly idByHash: Map<string, string>;
}

/** Opens (or lazily creates) the token file in `dir`. */
export function createTokenFileStore(options: TokenFileStoreOptions): TokenStore {
  const dir = options.dir;
  const path = join(dir, TOKEN_FILE);
  const lockPath = `${path}.lock`;
  const lockTimeoutMs = options.lockTimeoutMs ?? 5000;
  const staleLockMs = options.staleLockMs ?? 10_000;
  const maxStaleMs = options.maxStaleMs ?? 1000;
  const now = options.now ?? Date.now;
  let snapshot: Snapshot | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const pendingTouches = new Map<string, string>();
  let touchFlush: Promise<void> | undefined;
  /** Watches the file's current inode (a replacement is reported as a rename, then watched anew). */
  let watcher: FSWatcher | undefined;
  /** A change was reported (or nothing is watched) since the last look. */
  let changed = true;
  /** The look at the file in flight, shared by the calls that arrive meanwhile. */
  let looking: Promise<Snapshot> | undefined;

  function unwatch(): void {
    watcher?.close();
    watcher = undefined;
  }

  function arm(): void {
    try {
      watcher = watch(path, { persistent: false }, (event) => {
        changed = true;
        // Replaced by a rename: this watch follows the old inode; the next look watches the new one.
        if (event === "rename") unwatch();
      });
      watcher.on("error", () => {
        changed = true;
        unwatch();
      });
    } catch {
      // Absent, or no watching here: a stat per call.
      watcher = undefined;
    }
  }

  async function stampOf(): Promise<string> {
    try {
      const s = await stat(path, { bigint: true });
      return `${s.ino}:${s.mtimeNs}:${s.size}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return "absent";
      throw err;
    }
  }

  /**
   * The current contents: while the watch reports no change, what was read; else a stat, and a
   * re-parse when the file changed. The stamp can miss a change (timestamps are tick-grained and
   * inode numbers get reused), and a watch can miss one (network file systems), so a snapshot is
   * also never trusted for longer than `maxStaleMs`: a revocation is seen within that bound
   * whatever the file system reports.
   */
  async function current(): Promise<Snapshot> {
    if (snapshot && watcher && !changed && now() - snapshot.readAt < maxStaleMs) return snapshot;
    // Concurrent calls share one look, unless a change was reported after it started.
    if (looking && !changed) return looking;
    const look = lookAgain();
    looking = look;
    const clear = () => {
      if (looking === look) looking = undefined;
    };
    look.then(clear, clear);
    return look;
  }

  async function lookAgain(): Promise<Snapshot> {
    // Watched before the look: a change after it is reported.
    if (!watcher) arm();
    changed = watcher === undefined;
    const stamp = await stampOf();
    if (snapshot && snapshot.stamp === stamp && now() - snapshot.readAt < maxStaleMs) return snapshot;
    const records = stamp === "absent" ? [] : parse(await readFile(path, "utf8"), path);
    snapshot = index(records, stamp, now());
    return snapshot;
  }

  function withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(lockPath, fn, { what: "token store", timeoutMs: lockTimeoutMs, staleMs: staleLockMs });
  }

  /** Read-modify-write under the lock, serialized within this process too. */
  function mutate<T>(change: (records: Map<string, TokenRecord>) => T): Promise<T> {
    const run = queue.then(() =>
      withLock(async () => {
        // A look of its own, made under the lock: a shared one may have started before the last writer's.
        const fresh = await lookAgain();
        const records = new Map(fresh.byId);
        const out = change(records);
        const list = [...records.values()];
        await writeFileAtomic(path, JSON.stringify({ version: 1, tokens: list }, null, 2) + "\n", { durable: true });
        snapshot = index(list, await stampOf(), now());
        return out;
      }),
    );
    queue = run.catch(() => {});
    return run;
  }

  function flushTouches(): Promise<void> {
    touchFlush ??= mutate((records) => {
      for (const [id, at] of pendingTouches) {
        const r = records.get(id);
        if (r && (!r.lastUsedAt || r.lastUsedAt < at)) records.set(id, { ...r, lastUsedAt: at });
      }
      pendingTouches.clear();
    }).finally(() => {
      touchFlush = undefined;
    });
    return touchFlush;
  }

  return {
    async create(record) {
      await mutate((records) => {
        for (const r of records.values()) {
          if (r.id === record.id || safeEqual(r.hash, record.hash)) throw new Error(`token ${record.id} already exists`);
        }
        records.set(record.id, record);
      });
    },
    async list() {
      return [...(await current()).byId.values()];
    },
    async getByHash(hash) {
      const s = await current();
      const id = s.idByHash.get(hash);
      return id === undefined ? undefined : s.byId.get(id);
    },
    async get(id) {
      return (await current()).byId.get(id);
    },
    revoke(id, at) {
      return mutate((records) => {
        const r = records.get(id);
        if (!r) return undefined;
        if (r.revokedAt) return r;
        const revoked = { ...r, revokedAt: at.toISOString() };
        records.set(id, revoked);
        return revoked;
      });
    },
    async touch(id, at) {
      pendingTouches.set(id, at.toISOString());
      // Touches that arrive while a flush is running wait for the next one.
      if (touchFlush) await touchFlush;
      if (pendingTouches.size > 0) await flushTouches();
    },
    async close() {
      await queue;
      unwatch();
    },
  };
}

function index(records: readonly TokenRecord[], stamp: string, readAt: number): Snapshot {
  const byId = new Map<string, TokenRecord>();
  const idByHash = new Map<string, string>();
  for (const r of records) {
    byId.set(r.id, r);
    idByHash.set(r.hash, r.id);
  }
  return { stamp, readAt, byId, idByHash };
}

function parse(text: string, path: string): TokenRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`token store ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const tokens = (data as { tokens?: unknown })?.tokens;
  if (!Array.isArray(tokens)) throw new Error(`token store ${path} has no "tokens" array`);
  return tokens as TokenRecord[];
}
