/**
 * A small document store for the sample upstream: one JSON file per collection under the data
 * dir, kept in memory and written back atomically (temp file + fsync + rename) after each request
 * that changed it, so a crash never leaves a half-written collection behind.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

export type StoredRecord = Record<string, unknown>;

/** Collections of records keyed by id, persisted per collection. */
export interface Store {
  readonly dir: string;
  all(collection: string): StoredRecord[];
  get(collection: string, id: string): StoredRecord | undefined;
  put(collection: string, id: string, record: StoredRecord): void;
  delete(collection: string, id: string): boolean;
  /** Writes every collection changed since the last commit. */
  commit(): void;
  collections(): string[];
}

const SAFE_NAME = /^[A-Za-z0-9_.-]+$/;

/** Writes a file atomically: temp file in the same directory, fsync, rename, then (unless the caller batches it) fsync the directory. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, options: { durable?: boolean; syncDir?: boolean } = {}): void {
  const durable = options.durable ?? true;
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, "w", mode);
  try {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  if (durable && (options.syncDir ?? true)) syncDir(join(file, ".."));
}

function syncDir(dir: string): void {
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    closeSync(dirFd);
  }
}

/**
 * Opens (or creates) the store under `dir/collections`. With `durable: false` the files are still
 * replaced atomically but not fsynced (a process crash cannot tear them; a power cut may lose the
 * last writes) — for tests that make hundreds of writes on a busy machine.
 */
export function createStore(dir: string, options: { durable?: boolean } = {}): Store {
  const durable = options.durable ?? true;
  const root = join(dir, "collections");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const data = new Map<string, Map<string, StoredRecord>>();
  const dirty = new Set<string>();

  function fileOf(collection: string): string {
    if (!SAFE_NAME.test(collection)) throw new Error(`store: bad collection name '${collection}'`);
    return join(root, `${collection}.json`);
  }

  function load(collection: string): Map<string, StoredRecord> {
    let map = data.get(collection);
    if (map) return map;
    map = new Map();
    let text: string | undefined;
    try {
      text = readFileSync(fileOf(collection), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (text !== undefined) {
      const rows = JSON.parse(text) as Array<[string, StoredRecord]>;
      for (const [id, rec] of rows) map.set(id, rec);
    }
    data.set(collection, map);
    return map;
  }

  return {
    dir,
    all: (collection) => [...load(collection).values()],
    get: (collection, id) => load(collection).get(id),
    put(collection, id, record) {
      load(collection).set(id, record);
      dirty.add(collection);
    },
    delete(collection, id) {
      const removed = load(collection).delete(id);
      if (removed) dirty.add(collection);
      return removed;
    },
    commit() {
      if (dirty.size === 0) return;
      for (const collection of dirty) {
        const rows = [...load(collection).entries()];
        writeFileAtomic(fileOf(collection), JSON.stringify(rows), 0o600, { durable, syncDir: false });
      }
      // One directory sync makes all of this request's renames durable.
      if (durable) syncDir(root);
      dirty.clear();
    },
    collections() {
      const onDisk = readdirSync(root)
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.slice(0, -5));
      return [...new Set([...onDisk, ...data.keys()])].sort();
    },
  };
}
