/**
 * Writing files so a reader never sees half of one: the content goes to a temp file beside the
 * target (same directory, so the same file system), which is then renamed over the target
 * (replace) or hard-linked to it (create, failing if it exists). Every file store uses these.
 *
 * The async forms are for anything a request can reach; the `Sync` forms are for start-up and
 * shutdown only.
 */
import { randomBytes } from "node:crypto";
import { closeSync, linkSync, mkdirSync, openSync, renameSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { link, mkdir, open, rename, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** How the written file is made. */
export interface AtomicWriteOptions {
  /** File mode (default 0600: every store file holds data only its owner may read). */
  readonly mode?: number;
  /** fsync the temp file before the rename, so the new content survives a power cut (default false). */
  readonly durable?: boolean;
}

/** Lines are written in batches of about this many characters. */
const WRITE_CHUNK = 64 * 1024;

/** A fresh temp name beside `path` (pid and random suffix: concurrent writers never share one). */
export function tempPath(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
}

/** Replaces `path` with `text` atomically; creates the parent directory (0700) if needed. */
export async function writeFileAtomic(path: string, text: string, options: AtomicWriteOptions = {}): Promise<void> {
  await writeLinesAtomic(path, [], options, text);
}

/**
 * Replaces `path` with the given lines (each followed by a newline), written a batch at a time,
 * so a large file is never held in memory whole. `head`, if given, is written first as is.
 */
export async function writeLinesAtomic(
  path: string,
  lines: Iterable<string> | AsyncIterable<string>,
  options: AtomicWriteOptions = {},
  head = "",
): Promise<void> {
  const tmp = tempPath(path);
  const handle = await openCreatingDir(tmp, options.mode ?? 0o600);
  try {
    try {
      let batch = head;
      for await (const line of lines) {
        batch += `${line}\n`;
        if (batch.length >= WRITE_CHUNK) {
          await handle.writeFile(batch);
          batch = "";
        }
      }
      if (batch !== "") await handle.writeFile(batch);
      if (options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Opens a new file for writing; creates its directory (0700) only when it is missing, saving a call in the usual case. */
async function openCreatingDir(path: string, mode: number) {
  try {
    return await open(path, "w", mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    return open(path, "w", mode);
  }
}

/** `writeLinesAtomic` for start-up and shutdown. */
export function writeLinesAtomicSync(path: string, lines: Iterable<string>, options: AtomicWriteOptions = {}, head = ""): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = tempPath(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w", options.mode ?? 0o600);
    const out = fd;
    const flush = (text: string): void => {
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; ) at += writeSync(out, bytes, at, bytes.length - at);
    };
    let batch = head;
    for (const line of lines) {
      batch += `${line}\n`;
      if (batch.length >= WRITE_CHUNK) {
        flush(batch);
        batch = "";
      }
    }
    if (batch !== "") flush(batch);
    closeSync(out);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw err;
  }
}

/**
 * Creates `path` with its full content, or answers false if it exists: written aside, then
 * hard-linked into place (link(2) fails on an existing name), so of any number of processes
 * racing to create it exactly one wins, and nobody ever reads it half-written.
 */
export async function createExclusive(path: string, text: string, options: AtomicWriteOptions = {}): Promise<boolean> {
  const tmp = tempPath(path);
  await writeFile(tmp, text, { mode: options.mode ?? 0o600 });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** `createExclusive` for start-up and shutdown. */
export function createExclusiveSync(path: string, text: string, options: AtomicWriteOptions = {}): boolean {
  const tmp = tempPath(path);
  writeFileSync(tmp, text, { mode: options.mode ?? 0o600 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}
