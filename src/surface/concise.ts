/**
 * Concise schemas for tools/list: every description cut to its first sentence (at most
 * MAX_DESCRIPTION characters) and nested titles dropped. The full text stays in the descriptor and
 * is what describe_tool returns; validation is unaffected (descriptions and titles are annotations).
 */
import type { ToolAnnotations } from "../../codegen/descriptor.js";
import { schemaForProfile, type SchemaProfile } from "./schema-profile.js";
import { words } from "./text.js";

/** Longest description tools/list carries for a parameter, in characters. */
export const MAX_DESCRIPTION = 120;

type Obj = Record<string, unknown>;

const SUBSCHEMA_MAPS = ["properties", "patternProperties", "dependentSchemas", "$defs", "definitions"];
const SUBSCHEMA_ARRAYS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const SUBSCHEMAS = ["items", "additionalProperties", "unevaluatedProperties", "contains", "not", "propertyNames", "if", "then", "else", "additionalItems", "unevaluatedItems", "contentSchema"];

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The first sentence of a text, whitespace collapsed, cut at a word boundary when longer than `max`. */
export function firstSentence(text: string, max = MAX_DESCRIPTION): string {
  const flat = text.replace(/\s+/g, " ").trim();
  // A sentence ends at . ! or ? before a space, unless the word is an abbreviation ("e.g.", "i.e.", "etc.", "vs.").
  const end = /(?<!\b(?:e\.g|i\.e|etc|vs|cf|approx|[A-Za-z]))[.!?](?=\s|$)/.exec(flat);
  const sentence = end ? flat.slice(0, end.index + 1) : flat;
  if (sentence.length <= max) return sentence;
  const cut = sentence.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:(]+$/, "")}…`;
}

/** True when two texts say the same thing (case and a final period aside). */
export function sameText(a: string, b: string): boolean {
  const norm = (t: string) => t.trim().replace(/\.$/, "").toLowerCase();
  return norm(a) === norm(b);
}

const FILLER = new Set(["the", "a", "an", "of", "id", "identifier", "unique", "this", "its", "which", "for"]);

/** True when a description only restates its property's name ("task_id": "ID of the task."). */
export function restatesName(name: string, description: string): boolean {
  const nameWords = new Set(words(name));
  return words(description).every((w) => nameWords.has(w) || FILLER.has(w));
}

function compact(node: unknown, root: boolean): unknown {
  if (!isObj(node)) return node;
  const out: Obj = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "title" && !root) continue;
    if (key === "description" && typeof value === "string") out.description = firstSentence(value);
    else if (key === "properties" && root && isObj(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([k, v]) => {
          const c = compact(v, false);
          if (isObj(c) && typeof c.description === "string" && restatesName(k, c.description)) {
            const { description: _dropped, ...rest } = c;
            return [k, Object.keys(rest).length > 0 ? rest : c];
          }
          return [k, c];
        }),
      );
    } else if (SUBSCHEMA_MAPS.includes(key) && isObj(value)) out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compact(v, false)]));
    else if (SUBSCHEMA_ARRAYS.includes(key) && Array.isArray(value)) out[key] = value.map((v) => compact(v, false));
    else if (key === "items" && Array.isArray(value)) out[key] = value.map((v) => compact(v, false));
    else if (SUBSCHEMAS.includes(key)) out[key] = compact(value, false);
    else out[key] = value;
  }
  return out;
}

const cache = new WeakMap<object, Obj>();

/** A schema as tools/list shows it: in the session's profile, then made concise (memoised). */
export function listedSchema(schema: { readonly [key: string]: unknown }, profile: SchemaProfile): { readonly [key: string]: unknown } {
  const profiled = schemaForProfile(schema, profile);
  let found = cache.get(profiled);
  if (!found) {
    found = compact(profiled, true) as Obj;
    cache.set(profiled, found);
  }
  return found;
}

/**
 * Annotations without the hints MCP already implies: defaults (destructive: true, idempotent:
 * false, openWorld: true), destructive/idempotent on a read-only tool (ignored there), and a title
 * that repeats the tool's. Clients read the same meaning from less.
 */
export function conciseAnnotations(a: ToolAnnotations, toolTitle: string, description: string): ToolAnnotations | undefined {
  const out: { -readonly [K in keyof ToolAnnotations]: ToolAnnotations[K] } = {};
  if (a.title && !sameText(a.title, toolTitle) && !sameText(a.title, description)) out.title = a.title;
  if (a.readOnlyHint === true) out.readOnlyHint = true;
  else {
    if (a.destructiveHint === false) out.destructiveHint = false;
    if (a.idempotentHint === true) out.idempotentHint = true;
  }
  if (a.openWorldHint === false) out.openWorldHint = false;
  return Object.keys(out).length > 0 ? out : undefined;
}

type Listed = { readonly inputSchema: { readonly [key: string]: unknown } };

/**
 * Describes each repeated parameter once: when the same property name with the same description
 * appears again in one list — on another tool or nested in another body ("cursor", "limit", "ID of
 * the project.") — only its first occurrence keeps the description. describe_tool still has every
 * description in full.
 */
export function describeRepeatsOnce<T extends Listed>(tools: readonly T[]): T[] {
  const seen = new Set<string>();
  // Rebuilds only what changes; untouched subtrees are shared with the input.
  function visit(schema: unknown): unknown {
    if (!isObj(schema)) return schema;
    let out: Obj | undefined;
    if (isObj(schema.properties)) {
      let changed = false;
      const props: Obj = {};
      for (const [name, sub] of Object.entries(schema.properties)) {
        let next = visit(sub);
        if (isObj(next) && typeof next.description === "string") {
          const key = `${name}\u0000${next.description}`;
          if (seen.has(key) && Object.keys(next).length > 1) {
            const { description: _repeated, ...rest } = next;
            next = rest;
          } else seen.add(key);
        }
        if (next !== sub) changed = true;
        props[name] = next;
      }
      if (changed) out = { ...schema, properties: props };
    }
    if (isObj(schema.items)) {
      const items = visit(schema.items);
      if (items !== schema.items) out = { ...(out ?? schema), items };
    }
    return out ?? schema;
  }
  return tools.map((tool) => {
    const inputSchema = visit(tool.inputSchema);
    return inputSchema === tool.inputSchema ? tool : { ...tool, inputSchema };
  });
}
