/**
 * A lock file beside a store (`<file>.lock`, created with O_EXCL): the processes sharing a data
 * dir take it in turn for read-modify-write updates. A lock older than `staleMs` is taken over
 * (its holder died); waiting past `timeoutMs` fails with a message naming the file.
 */
import { mkdir, open, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";

export interface FileLockOptions {
  /** What the lock guards, for the time-out message ("token store"). */
  readonly what: string;
  readonly timeoutMs?: number;
  readonly staleMs?: number;
}

/** Runs `fn` holding the lock file `lockPath`. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions): Promise<T> {
  await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  const staleMs = options.staleMs ?? 10_000;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, "wx", 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > staleMs) {
        await unlink(lockPath).catch(() => {});
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the ${options.what} lock ${lockPath} (remove it if no countersign process is running)`);
      await new Promise((r) => setTimeout(r, Math.min(5 * 2 ** Math.min(attempt, 4), 50)));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => {});
  }
}
