/**
 * References to a future result inside a change set. A script that writes gets a placeholder
 * back; reading a field of it (`project.id`) gives the text `${w1.id}`, which may stand as a
 * whole argument value or inside a string. The preview shows the reference as written; when the
 * change set runs, each one is replaced by that field of the earlier write's result.
 */
import { GatewayError } from "../errors.js";

const REF = /\$\{w(\d+)((?:\.[A-Za-z0-9_$-]+)*)\}/g;
const WHOLE = /^\$\{w(\d+)((?:\.[A-Za-z0-9_$-]+)*)\}$/;

/** The step numbers (1-based) a value refers to, anywhere inside it. */
export function refsIn(value: unknown, into: Set<number> = new Set()): Set<number> {
  if (typeof value === "string") for (const m of value.matchAll(REF)) into.add(Number(m[1]));
  else if (Array.isArray(value)) for (const v of value) refsIn(v, into);
  else if (value !== null && typeof value === "object") for (const v of Object.values(value)) refsIn(v, into);
  return into;
}

function pick(result: unknown, path: string, ref: string): unknown {
  let at = result;
  for (const key of path.split(".").filter((k) => k.length > 0)) {
    if (at === null || typeof at !== "object" || !(key in at)) {
      throw new GatewayError("conflict", `${ref} has no value: the earlier write's result has no field '${path.slice(1)}'.`);
    }
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * Replaces every reference with the value from `results` (the results of the steps run so far,
 * by step number). A whole-value reference keeps the value's type; one inside a string is
 * turned into text.
 */
export function fillRefs<T>(value: T, results: ReadonlyMap<number, unknown>): T {
  const lookup = (n: string, path: string, text: string): unknown => {
    const step = Number(n);
    if (!results.has(step)) throw new GatewayError("conflict", `${text} refers to a write that has not run.`);
    return pick(results.get(step), path, text);
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      const whole = WHOLE.exec(v);
      if (whole) return lookup(whole[1]!, whole[2]!, v);
      return v.replace(REF, (text, n: string, path: string) => {
        const found = lookup(n, path, text);
        return typeof found === "string" ? found : JSON.stringify(found);
      });
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
