/**
 * Field-level diff between a resource's current state and the body a write will send.
 */

/** One changed field. `path` uses dots for object keys and `[i]` for array items. */
export interface DiffEntry {
  readonly path: string;
  readonly change: "added" | "removed" | "changed";
  readonly before?: unknown;
  readonly after?: unknown;
}

/** How the body applies to the resource: `merge` (PATCH: absent fields stay), `replace` (PUT: absent fields go). */
export type DiffMode = "merge" | "replace";

export interface DiffOptions {
  mode: DiffMode;
  /**
   * With `replace`: the top-level fields the body may carry. A current field outside this set
   * (an id, a server timestamp) is managed by the server and is not reported as removed.
   */
  writableFields?: ReadonlySet<string>;
}

/** Lists the fields the write would change. Arrays and scalars compare as whole values. */
export function diffFields(current: unknown, next: unknown, options: DiffOptions): DiffEntry[] {
  const out: DiffEntry[] = [];
  walk(current, next, "", options, true, out);
  return out;
}

function walk(before: unknown, after: unknown, path: string, options: DiffOptions, top: boolean, out: DiffEntry[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of Object.keys(after).sort()) {
      const p = join(path, key);
      if (!(key in before)) out.push({ path: p, change: "added", after: after[key] });
      else walk(before[key], after[key], p, options, false, out);
    }
    if (options.mode === "replace") {
      for (const key of Object.keys(before).sort()) {
        if (key in after) continue;
        if (top && options.writableFields && !options.writableFields.has(key)) continue;
        out.push({ path: join(path, key), change: "removed", before: before[key] });
      }
    }
    return;
  }
  if (!deepEqual(before, after)) out.push({ path: path || "(whole body)", change: "changed", before, after });
}

function join(path: string, key: string): string {
  const safe = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${safe}` : safe;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}
