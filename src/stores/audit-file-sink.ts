/**
 * The embedded audit sink: JSON Lines files in the data dir, mode 0600, rotated by size.
 *
 * `write` only queues the record in a bounded in-memory buffer; a background writer serializes and
 * appends batches (so even JSON.stringify happens off the call path, while the call waits on I/O),
 * so a slow disk never holds up a call until the buffer is full (then calls wait, nothing is
 * dropped). `close` flushes everything. Reads go across the rotated files, oldest first.
 */
import { chmod, mkdir, open, readdir, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { AuditRecord } from "../context.js";
import { createTokenIndex, matches, type AuditFilter, type AuditSink } from "./audit-sink.js";
import { readLineBatches } from "./fs/lines.js";

/** The file being written; rotated files are `audit-<seq>.jsonl`, a higher seq is newer. */
export const CURRENT_FILE = "audit.jsonl";
const ROTATED = /^audit-(\d+)\.jsonl$/;

export interface AuditFileSinkOptions {
  dir: string;
  /** Rotate once the current file reaches this size (default 10 MiB). */
  maxFileBytes?: number;
  /** Rotated files kept (default 10); older ones are deleted. */
  maxFiles?: number;
  /** Records buffered before `write` makes callers wait (default 10,000). */
  bufferRecords?: number;
  /** How long records gather before an append (default 25 ms); flush() and close() don't wait. */
  flushIntervalMs?: number;
  /** Told about I/O failures (the writer retries; records stay buffered). */
  onError?: (err: unknown) => void;
}

/** Counters the metrics module exports. */
export interface AuditFileSinkStats {
  buffered: number;
  written: number;
  writeErrors: number;
  rotations: number;
  /** Records given up on because the disk kept failing while the buffer was full. */
  dropped: number;
}

/** The audit files in `dir`, oldest first (rotated by sequence, then the current file). */
export async function listAuditFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const rotated = names
    .map((n) => ({ n, m: ROTATED.exec(n) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((x) => join(dir, x.n));
  return names.includes(CURRENT_FILE) ? [...rotated, join(dir, CURRENT_FILE)] : rotated;
}

/** Calls `onRecord` for each parseable line of `file`; a torn last line (crash mid-write) is skipped. */
export async function readAuditFile(file: string, onRecord: (r: AuditRecord) => void, start = 0): Promise<void> {
  try {
    // Only regular files: reading a pipe or device left in the folder would hang.
    if (!(await stat(file)).isFile()) return;
    for await (const lines of readLineBatches(file, { start })) {
      for (const line of lines) {
        if (!line) continue;
        try {
          onRecord(JSON.parse(line) as AuditRecord);
        } catch {
          // A partial line from an unclean shutdown: the rest of the file is still good.
        }
      }
    }
  } catch (err) {
    // Rotation may rename/delete a file between listing and reading it.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** Reads every record in `dir` matching `filter`, oldest first (only the newest `limit` when given). */
export async function readAuditDir(dir: string, filter: AuditFilter = {}): Promise<AuditRecord[]> {
  const sinceMs = filter.since?.getTime();
  const out: AuditRecord[] = [];
  const limit = filter.limit;
  for (const file of await listAuditFiles(dir)) {
    await readAuditFile(file, (r) => {
      if (!matches(r, filter, sinceMs)) return;
      out.push(r);
      // Keep memory bounded on big trails: trim in chunks rather than on every record.
      if (limit !== undefined && out.length > limit * 2 + 1000) out.splice(0, out.length - limit);
    });
  }
  return limit !== undefined ? out.slice(Math.max(0, out.length - limit)) : out;
}

const RESOLVED = Promise.resolve();
/** Queue length that triggers an append without waiting for the interval. */
const BATCH_RECORDS = 256;

/** One JSON line; a record that can't be serialized still leaves a line saying so. */
function serialize(record: AuditRecord): string {
  try {
    return `${JSON.stringify(record)}\n`;
  } catch (err) {
    return `${JSON.stringify({ ts: record.ts, requestId: record.requestId, tokenId: record.tokenId, tool: record.tool, outcome: record.outcome, error: `unserializable audit record: ${(err as Error).message}` })}\n`;
  }
}

/** Creates the JSON Lines sink; the folder is created (mode 0700) on first use. */
export function createAuditFileSink(options: AuditFileSinkOptions): AuditSink & { stats(): AuditFileSinkStats } {
  const dir = options.dir;
  const maxFileBytes = options.maxFileBytes ?? 10 * 1_048_576;
  const maxFiles = options.maxFiles ?? 10;
  const capacity = options.bufferRecords ?? 10_000;
  const flushMs = options.flushIntervalMs ?? 25;
  const onError = options.onError ?? ((err: unknown) => process.stderr.write(`audit: ${(err as Error).message ?? err}\n`));
  const currentPath = join(dir, CURRENT_FILE);

  const queue: AuditRecord[] = [];
  const waiting: { record: AuditRecord; accept: () => void }[] = [];
  const flushed: (() => void)[] = [];
  const live = createTokenIndex();
  let history: ReturnType<typeof createTokenIndex> | undefined;
  let handle: FileHandle | undefined;
  let size = 0;
  let nextSeq = 1;
  let draining = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let lastError: unknown;
  const stats: AuditFileSinkStats = { buffered: 0, written: 0, writeErrors: 0, rotations: 0, dropped: 0 };

  // Before the first append: learn the rotation sequence and index the existing trail, so
  // get_activity after a restart still sees earlier events. Later records go to `live`.
  const ready = (async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const files = await listAuditFiles(dir);
    for (const f of files) {
      const m = ROTATED.exec(f.slice(dir.length + 1));
      if (m) nextSeq = Math.max(nextSeq, Number(m[1]) + 1);
    }
    const index = createTokenIndex();
    for (const f of files) await readAuditFile(f, (r) => index.add(r));
    history = index;
  })();
  ready.catch(onError);

  async function openCurrent(): Promise<void> {
    handle = await open(currentPath, "a+", 0o600);
    await chmod(currentPath, 0o600);
    size = (await handle.stat()).size;
    if (size > 0) {
      // A crash may have left a torn last line: start on a fresh line so only that fragment is lost.
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) {
        await handle.write("\n");
        size += 1;
      }
    }
  }

  async function rotate(): Promise<void> {
    await handle?.close();
    handle = undefined;
    await rename(currentPath, join(dir, `audit-${String(nextSeq++).padStart(8, "0")}.jsonl`));
    stats.rotations++;
    const files = await listAuditFiles(dir);
    const rotated = files.filter((f) => f !== currentPath);
    for (const old of rotated.slice(0, Math.max(0, rotated.length - maxFiles))) await rm(old, { force: true });
    await openCurrent();
  }

  /**
   * Appends one batch, splitting it where the size threshold falls. `progress.done` counts the
   * records known to be on disk, so a failure part-way requeues only the rest (no duplicates).
   */
  async function append(batch: readonly AuditRecord[], progress: { done: number }): Promise<void> {
    if (!handle) await openCurrent();
    let chunk = "";
    let chunkBytes = 0;
    let inChunk = 0;
    for (const record of batch) {
      const line = serialize(record);
      const bytes = Buffer.byteLength(line);
      if (size + chunkBytes > 0 && size + chunkBytes + bytes > maxFileBytes) {
        if (chunk) await handle!.write(chunk);
        size += chunkBytes;
        progress.done += inChunk;
        chunk = "";
        chunkBytes = 0;
        inChunk = 0;
        if (size > 0) await rotate();
      }
      chunk += line;
      chunkBytes += bytes;
      inChunk++;
    }
    if (chunk) await handle!.write(chunk);
    size += chunkBytes;
    progress.done += inChunk;
  }

  function admitWaiting(): void {
    while (waiting.length && queue.length < capacity) {
      const w = waiting.shift()!;
      queue.push(w.record);
      w.accept();
    }
    stats.buffered = queue.length + waiting.length;
  }

  async function drain(): Promise<void> {
    try {
      await ready.catch(() => undefined);
      let failures = 0;
      while (queue.length) {
        const batch = queue.splice(0, queue.length);
        admitWaiting();
        const progress = { done: 0 };
        try {
          await append(batch, progress);
          stats.written += batch.length;
          failures = 0;
          lastError = undefined;
        } catch (err) {
          stats.writeErrors++;
          stats.written += progress.done;
          lastError = err;
          onError(err);
          queue.unshift(...batch.slice(progress.done));
          // A failing disk (not merely a slow one) must not hold calls forever: writers waiting
          // for room are let go and their records counted as dropped.
          for (const w of waiting.splice(0)) {
            stats.dropped++;
            w.accept();
          }
          await handle?.close().catch(() => undefined);
          handle = undefined;
          failures++;
          // While closing, give up after a few tries so shutdown can report the loss instead of hanging.
          if (closed && failures >= 3) break;
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** failures)));
        }
        admitWaiting();
      }
    } finally {
      draining = false;
      stats.buffered = queue.length + waiting.length;
      if (!queue.length || closed) for (const f of flushed.splice(0)) f();
    }
  }

  let timer: NodeJS.Timeout | undefined;
  function kick(now = false): void {
    if (draining) return;
    if (now || closed || queue.length >= BATCH_RECORDS || waiting.length) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      draining = true;
      setImmediate(() => void drain());
      return;
    }
    // Gather the records of a few milliseconds into one append: one syscall for many calls.
    timer ??= setTimeout(() => {
      timer = undefined;
      kick(true);
    }, flushMs);
  }

  function flush(): Promise<void> {
    if (!queue.length && !waiting.length && !draining) return RESOLVED;
    return new Promise((resolve) => {
      flushed.push(resolve);
      kick(true);
    });
  }

  return {
    write(record) {
      if (closed) return Promise.reject(new Error("audit sink is closed"));
      live.add(record);
      if (lastError !== undefined && queue.length >= capacity) {
        stats.dropped++;
        return RESOLVED;
      }
      if (waiting.length || queue.length >= capacity) {
        return new Promise<void>((accept) => {
          waiting.push({ record, accept });
          stats.buffered = queue.length + waiting.length;
          kick();
        });
      }
      queue.push(record);
      stats.buffered = queue.length;
      kick();
      return RESOLVED;
    },

    async query(filter = {}) {
      await flush();
      return readAuditDir(dir, filter);
    },

    async recent(tokenId, limit) {
      await ready.catch(() => undefined);
      const fresh = live.recent(tokenId, limit);
      if (fresh.records.length >= limit) return fresh.records;
      const old = history?.recent(tokenId, limit - fresh.records.length);
      if (old && old.complete && fresh.complete) return [...fresh.records, ...old.records];
      // The bounded indexes may have dropped this token: read the files instead.
      return (await this.query({ tokenId, limit })).reverse();
    },

    flush,

    close() {
      closing ??= (async () => {
        closed = true;
        await flush();
        const failed = queue.length + waiting.length;
        for (const w of waiting.splice(0)) w.accept();
        if (handle) {
          await handle.sync().catch(() => undefined);
          await handle.close();
          handle = undefined;
        }
        if (failed) throw new Error(`audit sink: ${failed} record(s) could not be written: ${(lastError as Error)?.message ?? lastError}`);
      })();
      return closing;
    },

    stats: () => ({ ...stats }),
  };
}
