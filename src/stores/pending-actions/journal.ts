/**
 * The embedded store's files in the data dir. Each change is appended to a journal (JSON Lines,
 * one full record per line, so a change costs one line however many actions are kept); the
 * journal is folded into a snapshot (temp file + rename) at start-up and when it grows. The
 * snapshot is JSON Lines too (a version line, then one action a line), and every pass over the
 * files reads and writes them a line at a time: what a fold or a re-read holds in memory is the
 * journals, not the snapshot, which holds every action of the retention period.
 *
 * Several gateway processes may share the data dir: a fold takes a lock and merges with what is
 * on disk, and an append another process opened just before the fold set the journal aside lands
 * in the set-aside file, which is folded again until it stops growing.
 *
 * The async forms run while serving; the `Sync` forms at start-up only.
 */
import { readdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import { appendFile, mkdir, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { writeLinesAtomic, writeLinesAtomicSync } from "../fs/atomic-write.js";
import { readLineBatches, readLinesSync } from "../fs/lines.js";
import type { PendingAction } from "./contract.js";
import { releaseLock, releaseLockSync, takeLock, takeLockSync, type Holder, type Markers } from "./markers.js";

const SNAPSHOT_FILE = "pending-actions.json";
const JOURNAL_FILE = "pending-actions.journal";
const MARKER_DIR = "pending-actions.d";
const LOCK_FILE = "pending-actions.lock";
/** Version 2: JSON Lines. Version 1 (one JSON document) is still read, and rewritten at start-up. */
const SNAPSHOT_VERSION = 2;
const SNAPSHOT_HEADER = `${JSON.stringify({ version: SNAPSHOT_VERSION })}\n`;

/** The paths of the store's files in one data dir. */
export interface Files {
  readonly dir: string;
  readonly snapshot: string;
  readonly journal: string;
  readonly markers: string;
  readonly lock: string;
}

/** The store's file paths in `dir`. */
export function filesIn(dir: string): Files {
  return {
    dir,
    snapshot: join(dir, SNAPSHOT_FILE),
    journal: join(dir, JOURNAL_FILE),
    markers: join(dir, MARKER_DIR),
    lock: join(dir, LOCK_FILE),
  };
}

/** The journal is folded into the snapshot after this many lines written by this process... */
const COMPACT_AFTER_LINES = 2000;
/** ...or this many bytes, whichever comes first (big actions must not grow the journal for long). */
const COMPACT_AFTER_BYTES = 32 * 1024 * 1024;

/** Appends the current version of changed actions to the journal, and folds it when it has grown. */
export interface JournalWriter {
  /** Resolves once the action's current version is on disk. */
  append(id: string): Promise<void>;
  /** Whether the action has a change not yet on disk. */
  isDirty(id: string): boolean;
  /** Resolves when every append so far has finished (or failed). */
  idle(): Promise<void>;
}

/**
 * Changes are coalesced: a change joins the next append that has not started yet, so it is on disk
 * when the returned promise resolves. Appends (and the folds they trigger) run one at a time.
 */
export function createJournalWriter(files: Files, view: FoldView): JournalWriter {
  const dirty = new Set<string>();
  let journalLines = 0;
  let journalBytes = 0;
  let queue: Promise<void> = Promise.resolve();
  let nextWrite: Promise<void> | undefined;
  return {
    append(id) {
      dirty.add(id);
      if (!nextWrite) {
        const write = queue.then(async () => {
          nextWrite = undefined;
          const ids = [...dirty];
          dirty.clear();
          const lines = ids.flatMap((i) => {
            const a = view.current(i);
            return a ? [JSON.stringify(a)] : [];
          });
          const text = `${lines.join("\n")}\n`;
          try {
            if (lines.length > 0) await appendFile(files.journal, text, { mode: 0o600 }).catch(async (err: NodeJS.ErrnoException) => {
              // The data dir is made on first use only: one call less on every append.
              if (err.code !== "ENOENT") throw err;
              await mkdir(files.dir, { recursive: true, mode: 0o700 });
              await appendFile(files.journal, text, { mode: 0o600 });
            });
          } catch (err) {
            for (const i of ids) dirty.add(i);
            throw err;
          }
          journalLines += lines.length;
          journalBytes += text.length;
          if ((journalLines >= COMPACT_AFTER_LINES || journalBytes >= COMPACT_AFTER_BYTES) && (await compact(files, view))) {
            journalLines = 0;
            journalBytes = 0;
          }
        });
        nextWrite = write;
        queue = write.catch(() => undefined);
      }
      return nextWrite;
    },
    isDirty: (id) => dirty.has(id),
    idle: () => queue,
  };
}

/** The id of a stored action's line (JSON.stringify puts it first), or undefined when the line doesn't start so. */
export function lineId(line: string): string | undefined {
  if (!line.startsWith('{"id":"')) return undefined;
  const end = line.indexOf('"', 7);
  return end === -1 ? undefined : line.slice(7, end);
}

/** A stored line whose top-level state is undecided (a false match elsewhere in the line only costs a parse). */
export const UNDECIDED_LINE = /"state":"(?:pending|executing)"/;

/** A stored action with the line it was read from. */
type Entry = readonly [line: string, action: PendingAction];

/**
 * Parses the snapshot a line at a time: version 2 (JSON Lines), and version 1 (one JSON
 * document, written by earlier releases) whole, saying so in `legacy`. A version 2 line that
 * `worth` turns down is skipped unparsed.
 */
function snapshotParser(file: string, worth?: (line: string) => boolean): { entries(line: string): Entry[]; readonly legacy: boolean } {
  let n = 0;
  let legacy = false;
  return {
    get legacy() {
      return legacy;
    },
    entries(line) {
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
          return (head.actions as PendingAction[]).map((a) => [JSON.stringify(a), a] as const);
        }
        if (head?.version !== SNAPSHOT_VERSION) throw new Error(`pending actions file ${file} has an unknown format (expected version ${SNAPSHOT_VERSION})`);
        return [];
      }
      if (line === "" || (worth && !worth(line))) return [];
      try {
        return [[line, JSON.parse(line) as PendingAction]];
      } catch (err) {
        throw new Error(`pending actions file ${file} line ${n} is not valid JSON: ${(err as Error).message}`);
      }
    },
  };
}

/** Reads one journal into `into` (later lines win). Only the last line may be torn (a crash mid-append). */
function journalParser(journal: string, into: Map<string, PendingAction>): (line: string) => void {
  let torn: { line: number; message: string } | undefined;
  let n = 0;
  return (line) => {
    n++;
    if (line.trim() === "") return;
    // A bad line with more after it is damage, not a torn append.
    if (torn) throw new Error(`pending actions journal ${journal} line ${torn.line} is not valid JSON: ${torn.message}`);
    try {
      const a = JSON.parse(line) as PendingAction;
      into.set(a.id, a);
    } catch (err) {
      torn = { line: n, message: (err as Error).message };
    }
  };
}

const isLeftover = (name: string): boolean => name.startsWith(`${JOURNAL_FILE}.`) && name.endsWith(".compacting");

/** Journal files a fold set aside (its own, or one cut off by a crash). */
async function leftovers(files: Files): Promise<string[]> {
  const names = await readdir(files.dir).catch(() => [] as string[]);
  return names.filter(isLeftover).map((n) => join(files.dir, n));
}

function leftoversSync(files: Files): string[] {
  let names: string[];
  try {
    names = readdirSync(files.dir);
  } catch {
    return [];
  }
  return names.filter(isLeftover).map((n) => join(files.dir, n));
}

/** The set-aside journals and the journal: the latest line of each id. */
async function readJournals(files: Files): Promise<Map<string, PendingAction>> {
  const journals = new Map<string, PendingAction>();
  for (const journal of [...(await leftovers(files)), files.journal]) {
    const parse = journalParser(journal, journals);
    for await (const lines of readLineBatches(journal)) for (const line of lines) parse(line);
  }
  return journals;
}

function readJournalsSync(files: Files): Map<string, PendingAction> {
  const journals = new Map<string, PendingAction>();
  for (const journal of [...leftoversSync(files), files.journal]) {
    const parse = journalParser(journal, journals);
    for (const line of readLinesSync(journal)) parse(line);
  }
  return journals;
}

/**
 * Every action on disk, each id once in its latest version (the snapshot, then set-aside
 * journals, then the journal: later lines win). The journals are read whole (each is folded after
 * a couple of thousand lines); the snapshot a line at a time, skipping the ids the journals have.
 */
export async function forEachOnDisk(files: Files, each: (a: PendingAction) => void, worth?: (line: string) => boolean): Promise<void> {
  const journals = await readJournals(files);
  const parser = snapshotParser(files.snapshot, worth);
  for await (const lines of readLineBatches(files.snapshot)) {
    for (const line of lines) for (const [, a] of parser.entries(line)) if (!journals.has(a.id)) each(a);
  }
  for (const a of journals.values()) each(a);
}

/** `forEachOnDisk` for start-up; `legacy` tells whether the snapshot is in the version 1 format. */
export function forEachOnDiskSync(files: Files, each: (a: PendingAction) => void): { legacy: boolean } {
  const journals = readJournalsSync(files);
  const parser = snapshotParser(files.snapshot);
  for (const line of readLinesSync(files.snapshot)) {
    for (const [, a] of parser.entries(line)) if (!journals.has(a.id)) each(a);
  }
  for (const a of journals.values()) each(a);
  return { legacy: parser.legacy };
}

/** What a fold needs of the store's memory. */
export interface FoldView {
  readonly me: Holder;
  readonly markers: Markers;
  /** Ids this instance changed: its version wins over the files'. */
  readonly touched: ReadonlySet<string>;
  current(id: string): PendingAction | undefined;
  /** Settled longer ago than the retention period: dropped from the files, with its marker. */
  pastRetention(a: PendingAction): boolean;
}

/** Decides each line of the new snapshot; past-retention ids are collected in `dropped`. */
function createFold(files: Files, journals: Map<string, PendingAction>, view: FoldView, dropped: string[]) {
  const parser = snapshotParser(files.snapshot);
  const keep = (a: PendingAction, line?: string): string[] => {
    if (!view.pastRetention(a)) return [line ?? JSON.stringify(a)];
    dropped.push(a.id);
    return [];
  };
  return {
    /** A snapshot line is kept as it is unless a journal or this process has a newer version. */
    snapshotLine(line: string): string[] {
      return parser.entries(line).flatMap(([l, a]) => (journals.has(a.id) || view.touched.has(a.id) ? [] : keep(a, l)));
    },
    *tail(): Generator<string> {
      for (const [id, onDisk] of journals) yield* keep(view.touched.has(id) ? (view.current(id) ?? onDisk) : onDisk);
      for (const id of [...view.touched]) {
        const a = journals.has(id) ? undefined : view.current(id);
        if (a) yield* keep(a);
      }
    },
  };
}

/**
 * Folds the journal into the snapshot under the lock, merging with what is on disk so actions of
 * other processes sharing the data dir are kept. Returns false when another process holds the
 * lock. With nothing to fold it writes nothing, unless `rewrite`.
 */
export async function compact(files: Files, view: FoldView, rewrite = false): Promise<boolean> {
  if (!(await takeLock(files.lock, view.me))) return false;
  try {
    await rename(files.journal, `${files.journal}.${view.me.instance}.compacting`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    for (let sizes = rewrite ? undefined : ""; ;) {
      const before = (await Promise.all((await leftovers(files)).map(async (f) => `${f}:${(await stat(f)).size}`))).join();
      if (before === sizes) break;
      const journals = await readJournals(files);
      const dropped: string[] = [];
      const fold = createFold(files, journals, view, dropped);
      async function* lines(): AsyncGenerator<string> {
        for await (const batch of readLineBatches(files.snapshot)) yield* batch.flatMap((line) => fold.snapshotLine(line));
        yield* fold.tail();
      }
      await writeLinesAtomic(files.snapshot, lines(), {}, SNAPSHOT_HEADER);
      for (const id of dropped) await view.markers.remove(id);
      sizes = before;
    }
    for (const f of await leftovers(files)) await unlink(f);
    return true;
  } finally {
    await releaseLock(files.lock, view.me);
  }
}

/** `compact` for start-up. */
export function compactSync(files: Files, view: FoldView, rewrite = false): boolean {
  if (!takeLockSync(files.lock, view.me)) return false;
  try {
    try {
      renameSync(files.journal, `${files.journal}.${view.me.instance}.compacting`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    for (let sizes = rewrite ? undefined : ""; ;) {
      const before = leftoversSync(files).map((f) => `${f}:${statSync(f).size}`).join();
      if (before === sizes) break;
      const journals = readJournalsSync(files);
      const dropped: string[] = [];
      const fold = createFold(files, journals, view, dropped);
      function* lines(): Generator<string> {
        for (const line of readLinesSync(files.snapshot)) yield* fold.snapshotLine(line);
        yield* fold.tail();
      }
      writeLinesAtomicSync(files.snapshot, lines(), {}, SNAPSHOT_HEADER);
      for (const id of dropped) view.markers.removeSync(id);
      sizes = before;
    }
    for (const f of leftoversSync(files)) unlinkSync(f);
    return true;
  } finally {
    releaseLockSync(files.lock, view.me);
  }
}
