/**
 * Fixed-window counters shared by every process on one data dir, so the embedded rate limits hold
 * across `serve` and each local client's `stdio` (without this, each process allowed the full limit).
 *
 * No lock: the n-th call of a window creates the empty file `<dir>/<key>/<window>/<n>` with
 * O_CREAT|O_EXCL, which exactly one process can do, so of any number of racing processes exactly
 * `limit` calls get a slot. A process that finds slot n taken tries n+1; slots are filled in
 * order (nobody tries n+1 before seeing n exist), so a process new to a window finds the first
 * free slot by binary search. With no lock there is none to wait for, and none left behind by a
 * crash. A key's windows are anchored at its first call ever (`<dir>/<key>/anchor`, linked into
 * place so exactly one process sets it), as an in-memory fixed window starts at the first call;
 * ended windows are deleted in the background. Calls a process counted in its memory while it was
 * alone on the data dir are handed over as one file `+<count>.<id>` in the window's folder
 * (window-counter-adaptive.ts), written while no other process counts; they take slots off the top.
 */
import { createHash } from "node:crypto";
import { access, link, mkdir, open, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** What one take answers. */
export interface WindowTake {
  readonly allowed: boolean;
  /** Calls counted in this window so far, this one included when allowed (at most the limit). */
  readonly count: number;
  /** Milliseconds until the window ends. */
  readonly resetInMs: number;
}

/** Counters of calls per key and window. */
export interface WindowCounter {
  /** Counts one call of `key` unless the window already holds `limit`. */
  take(key: string, limit: number): Promise<WindowTake>;
  /** Stops the background work; resolves once what it held is on disk. */
  close(): Promise<void>;
}

/** A key's current window in the files. */
export interface WindowPlace {
  /** The key's folder name (a hash of its name). */
  readonly key: string;
  /** The folder of the window's slots. */
  readonly windowDir: string;
  readonly window: number;
  readonly resetInMs: number;
}

/** The file counters, with what the adaptive counter needs to hand counts over. */
export interface FileWindowCounter extends WindowCounter {
  /** Where `name`'s current window is (its anchor is set on the way, as a take would). */
  locate(name: string): Promise<WindowPlace>;
  /** The key and current window of `name` when its anchor is already known here: no I/O, no wait. */
  locateKnown(name: string): { readonly key: string; readonly window: number; readonly resetInMs: number } | undefined;
  /** Calls counted in a window so far (handed-over counts and slots). */
  countIn(windowDir: string, limit: number): Promise<number>;
  /** Adds `count` calls counted elsewhere to a window (while no other process counts). */
  handOver(windowDir: string, count: number): Promise<void>;
  /** Forgets where this process's takes would continue (the files changed without it). */
  forget(): void;
}

/** Options of the file counters. */
export interface FileWindowCounterOptions {
  /** Folder of the counters (created 0700 on first use). */
  readonly dir: string;
  readonly windowMs: number;
  /** Clock in epoch milliseconds. */
  readonly now?: () => number;
}

/** Consecutive taken slots after which a take looks for the first free one by binary search. */
const SEARCH_AFTER_MISSES = 8;

/** A handed-over count: `+<count>.<unique>`. */
const HANDED = /^\+(\d+)\./;

/** Calls handed over to a window (0 when it has no folder yet). */
async function handedIn(windowDir: string): Promise<number> {
  const names = await readdir(windowDir).catch(() => [] as string[]);
  let sum = 0;
  for (const name of names) {
    const m = HANDED.exec(name);
    if (m) sum += Number(m[1]);
  }
  return sum;
}

/** Counters in `dir`, shared with every process that opens the same folder. */
export function createFileWindowCounter(options: FileWindowCounterOptions): FileWindowCounter {
  const { dir, windowMs } = options;
  const now = options.now ?? Date.now;
  /** Per key: the window this process last counted in, the slot it will try next, the calls handed over. */
  const hints = new Map<string, { window: number; next: number; handed: number }>();
  /** Per key: when its first window started (epoch ms), shared through the anchor file. */
  const anchors = new Map<string, number>();

  /** The anchor of `keyDir`: read, or set to `t` by whichever process links its file first. */
  async function anchorOf(key: string, keyDir: string, t: number): Promise<number> {
    const known = anchors.get(key);
    if (known !== undefined) return known;
    const file = join(keyDir, "anchor");
    let anchor: number | undefined;
    const read = async () => {
      const n = Number(await readFile(file, "utf8").catch(() => ""));
      return Number.isFinite(n) && n > 0 ? n : undefined;
    };
    anchor = await read();
    if (anchor === undefined) {
      await mkdir(keyDir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      await writeFile(tmp, String(t), { mode: 0o600 });
      // link() fails when the anchor exists: exactly one process's time becomes the anchor.
      await link(tmp, file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      });
      await unlink(tmp).catch(() => undefined);
      anchor = (await read()) ?? t;
    }
    anchors.set(key, anchor);
    return anchor;
  }

  async function exists(path: string): Promise<boolean> {
    return access(path).then(
      () => true,
      () => false,
    );
  }

  /** The first free slot at or after `from` (slots before it are known taken). */
  async function firstFree(windowDir: string, from: number, limit: number): Promise<number> {
    let lo = from;
    let hi = limit + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (await exists(join(windowDir, String(mid)))) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Deletes the ended windows of one key (any process may do it; losing the race is fine). */
  async function dropEnded(keyDir: string, current: number): Promise<void> {
    const names = await readdir(keyDir).catch(() => [] as string[]);
    for (const name of names) if (/^\d+$/.test(name) && Number(name) < current) await rm(join(keyDir, name), { recursive: true, force: true });
  }

  const sweeper = setInterval(() => {
    const t = now();
    void readdir(dir)
      .then(async (keys) => {
        for (const key of keys) {
          const anchor = anchors.get(key) ?? Number(await readFile(join(dir, key, "anchor"), "utf8").catch(() => ""));
          if (Number.isFinite(anchor) && anchor > 0) await dropEnded(join(dir, key), Math.floor((t - anchor) / windowMs));
        }
      })
      .catch(() => undefined);
    for (const [key, hint] of hints) {
      const anchor = anchors.get(key);
      if (anchor !== undefined && hint.window < Math.floor((t - anchor) / windowMs)) hints.delete(key);
    }
  }, Math.max(windowMs, 60_000));
  sweeper.unref();

  /** Folder names by key name (a handful: tier, bucket and token). */
  const keys = new Map<string, string>();

  async function locate(name: string): Promise<WindowPlace & { keyDir: string }> {
    const t = now();
    let key = keys.get(name);
    if (key === undefined) keys.set(name, (key = createHash("sha256").update(name).digest("hex").slice(0, 32)));
    const keyDir = join(dir, key);
    const anchor = await anchorOf(key, keyDir, t);
    // A call sampled its clock just before another process set the anchor: it is in window 0 too.
    const window = Math.max(0, Math.floor((t - anchor) / windowMs));
    return { key, keyDir, window, windowDir: join(keyDir, String(window)), resetInMs: anchor + (window + 1) * windowMs - t };
  }

  return {
    locate,
    locateKnown(name) {
      const key = keys.get(name);
      const anchor = key === undefined ? undefined : anchors.get(key);
      if (key === undefined || anchor === undefined) return undefined;
      const t = now();
      const window = Math.max(0, Math.floor((t - anchor) / windowMs));
      return { key, window, resetInMs: anchor + (window + 1) * windowMs - t };
    },
    async countIn(windowDir, limit) {
      const handed = await handedIn(windowDir);
      return Math.min(limit, handed + (await firstFree(windowDir, 1, limit)) - 1);
    },
    async handOver(windowDir, count) {
      if (count <= 0) return;
      await mkdir(windowDir, { recursive: true, mode: 0o700 });
      await writeFile(join(windowDir, `+${count}.${process.pid}-${Math.random().toString(36).slice(2)}`), "", { mode: 0o600 });
    },
    forget() {
      hints.clear();
    },
    async take(name, limit) {
      const { key, keyDir, window, windowDir, resetInMs } = await locate(name);
      let hint = hints.get(key);
      if (!hint || hint.window !== window) {
        if (hint) void dropEnded(keyDir, window).catch(() => undefined);
        hint = { window, next: 0, handed: 0 };
        hints.set(key, hint);
      }
      if (hint.next === 0) {
        hint.handed = await handedIn(windowDir);
        hint.next = Math.max(hint.next, await firstFree(windowDir, 1, limit));
      }
      // Handed-over calls take the top slots.
      const slots = limit - hint.handed;
      for (let misses = 0; ; ) {
        if (hint.next > slots) return { allowed: false, count: limit, resetInMs };
        const slot = hint.next;
        try {
          await (await open(join(windowDir, String(slot)), "wx", 0o600)).close();
          hint.next = Math.max(hint.next, slot + 1);
          return { allowed: true, count: slot + hint.handed, resetInMs };
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === "ENOENT") {
            await mkdir(windowDir, { recursive: true, mode: 0o700 });
          } else if (code === "EEXIST") {
            hint.next = Math.max(hint.next, slot + 1);
            if (++misses >= SEARCH_AFTER_MISSES) {
              hint.next = Math.max(hint.next, await firstFree(windowDir, hint.next, slots));
              misses = 0;
            }
          } else {
            throw err;
          }
        }
      }
    },
    async close() {
      clearInterval(sweeper);
    },
  };
}
