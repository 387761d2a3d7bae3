/**
 * Combining translated schemas: `allOf` members merged into one schema where no keyword conflicts
 * (JSON Schema 2020-12 §10.2.1.1), and OpenAPI 3.0 `nullable` (3.0 §4.7.24.1) turned into a null type.
 */
import type { JsonSchema } from "./descriptor.js";
import { normalizeNode } from "./strict-schema.js";

type Obj = Record<string, unknown>;

/** Adds `null` to what a schema accepts (OpenAPI 3.0 `nullable: true`). */
export function makeNullable(s: JsonSchema): JsonSchema {
  if (s === true) return true;
  if (s === false) return { type: "null" };
  const o = s as Obj;
  const composite = "allOf" in o || "anyOf" in o || "oneOf" in o || "$ref" in o || "not" in o || "const" in o || "if" in o;
  if (!composite && typeof o.type === "string") {
    const out: Obj = { ...o, type: o.type === "null" ? "null" : [o.type, "null"] };
    if (Array.isArray(o.enum) && !o.enum.includes(null)) out.enum = [...o.enum, null];
    return out;
  }
  if (!composite && Array.isArray(o.type)) {
    if (o.type.includes("null")) return o;
    const out: Obj = { ...o, type: [...o.type, "null"] };
    if (Array.isArray(o.enum) && !o.enum.includes(null)) out.enum = [...o.enum, null];
    return normalizeNode(out);
  }
  if (Object.keys(o).length === 0) return o;
  const { description, title, ...rest } = o;
  const out: Obj = {};
  if (title !== undefined) out.title = title;
  if (description !== undefined) out.description = description;
  out.anyOf = [rest, { type: "null" }];
  return out;
}

/** Annotations where the first schema that sets them wins over later ones. */
export const FIRST_WINS: ReadonlySet<string> = new Set(["title", "description", "default", "deprecated"]);

/**
 * Merges translated allOf members into one schema, or returns undefined when that could change
 * the meaning (conflicting keywords, references that must stay references).
 */
export function mergeAllOf(parts: JsonSchema[]): JsonSchema | undefined {
  const out: Obj = {};
  for (const p of parts) {
    if (p === true) continue;
    if (p === false) return undefined;
    const o = p as Obj;
    if ("$ref" in o) return undefined;
    for (const [k, v] of Object.entries(o)) {
      if (!(k in out)) {
        out[k] = k === "properties" ? { ...(v as Obj) } : k === "required" ? [...(v as string[])] : v;
        continue;
      }
      if (FIRST_WINS.has(k)) continue;
      if (k === "properties") {
        const props = out.properties as Obj;
        for (const [name, ps] of Object.entries(v as Obj)) {
          const prev = props[name] as JsonSchema | undefined;
          if (prev === undefined || isEmptySchema(prev)) props[name] = ps;
          else if (isEmptySchema(ps as JsonSchema) || sameJson(prev, ps)) continue;
          else props[name] = mergeAllOf([prev, ps as JsonSchema]) ?? { allOf: [prev, ps] };
        }
      } else if (k === "required") {
        out.required = [...new Set([...(out.required as string[]), ...(v as string[])])];
      } else if (k === "type") {
        const merged = intersectTypes(out.type, v);
        if (merged === undefined) return undefined;
        out.type = merged;
      } else if (!sameJson(out[k], v)) {
        return undefined;
      }
    }
  }
  return normalizeNode(out);
}

function intersectTypes(a: unknown, b: unknown): unknown {
  const as = Array.isArray(a) ? (a as string[]) : [a as string];
  const bs = Array.isArray(b) ? (b as string[]) : [b as string];
  const out: string[] = [];
  for (const t of as) {
    if (bs.includes(t)) out.push(t);
    else if (t === "integer" && bs.includes("number")) out.push("integer");
    else if (t === "number" && bs.includes("integer")) out.push("integer");
  }
  if (out.length === 0) return undefined;
  return out.length === 1 ? out[0] : out;
}

function isEmptySchema(s: JsonSchema): boolean {
  return s === true || (typeof s === "object" && Object.keys(s).length === 0);
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The types of `allOf` members when no value can have all of them (`string` and `integer`), else
 * undefined. Such a schema accepts nothing: the caller relaxes it instead.
 */
export function contradictoryTypes(parts: readonly JsonSchema[]): string[] | undefined {
  let common: unknown;
  const seen: string[] = [];
  for (const p of parts) {
    if (typeof p !== "object" || p.type === undefined || "$ref" in p) continue;
    seen.push(...(Array.isArray(p.type) ? (p.type as string[]) : [p.type as string]));
    common = common === undefined ? p.type : intersectTypes(common, p.type);
    if (common === undefined) return [...new Set(seen)];
  }
  return undefined;
}
