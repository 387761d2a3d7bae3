/**
 * Problems the generator worked around instead of failing the whole spec: each names where it is
 * (a JSON pointer) and what was done (a relaxed schema, a dropped part, an excluded operation).
 */

/** One worked-around problem. */
export interface SpecWarning {
  /** `#/...`, or `file.yaml#/...` for another document. */
  readonly pointer: string;
  /** What is wrong and what the generator did instead, in one sentence. */
  readonly problem: string;
}

/** Appended to a problem whose schema became unconstrained. */
export const RELAXED = "accepted any value instead";

/** `pointer: problem`, as printed. */
export function warningText(w: SpecWarning): string {
  return w.pointer ? `${w.pointer}: ${w.problem}` : w.problem;
}

/** Adds a warning to a list unless the same one is already there. */
export function addWarning(list: SpecWarning[], w: SpecWarning): void {
  if (!list.some((x) => x.pointer === w.pointer && x.problem === w.problem)) list.push(w);
}

/** Pointer order, then problem: the order warnings are printed and recorded in. */
export function compareWarnings(a: SpecWarning, b: SpecWarning): number {
  return a.pointer < b.pointer ? -1 : a.pointer > b.pointer ? 1 : a.problem < b.problem ? -1 : a.problem > b.problem ? 1 : 0;
}

/** `null`, `an array`, `a number`, ...: what a misplaced value is, for messages. */
export function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "missing";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
