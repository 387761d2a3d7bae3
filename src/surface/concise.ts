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
  // A large API repeats the same parameter text hundreds of times ("The account owner of the
  // repository."); the regexes below are most of a first tools/list, so each text is cut once.
  if (max !== MAX_DESCRIPTION) return cutSentence(text, max);
  let found = sentences.get(text);
  if (found === undefined) {
    if (sentences.size >= MEMO_LIMIT) sentences.clear();
    sentences.set(text, (found = cutSentence(text, max)));
  }
  return found;
}

/** Memoised texts kept at most; a hot-reloading gateway starts over rather than growing. */
const MEMO_LIMIT = 50_000;
const sentences = new Map<string, string>();

function cutSentence(text: string, max: number): string {
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
  // Keyed by name, then text: no joined key to build and hash for each of thousands of properties.
  let byText = restated.get(name);
  if (!byText) {
    if (restated.size >= MEMO_LIMIT) restated.clear();
    restated.set(name, (byText = new Map()));
  }
  let found = byText.get(description);
  if (found === undefined) {
    const nameWords = new Set(words(name));
    found = words(description).every((w) => nameWords.has(w) || FILLER.has(w));
    if (byText.size < MEMO_LIMIT) byText.set(description, found);
  }
  return found;
}

const restated = new Map<string, Map<string, boolean>>();

const MAP_KEYS = new Set(SUBSCHEMA_MAPS);
const ARRAY_KEYS = new Set(SUBSCHEMA_ARRAYS);
const SINGLE_KEYS = new Set(SUBSCHEMAS);
/**
 * Keywords that only reject, and guide a model little: length bounds, uniqueness and closed
 * objects. The listing leaves them out; the validate stage still enforces the full generated
 * schema (and names the path and reason when a call breaks one), and describe_tool shows it whole.
 */
const VALIDATION_ONLY = new Set(["maxLength", "minLength", "uniqueItems", "additionalProperties"]);

/**
 * One schema node made concise. `property` names the root property this node is the schema of:
 * its description is dropped when it only restates that name (unless nothing else would remain).
 */
function compact(node: unknown, root: boolean, property?: string): unknown {
  if (!isObj(node)) return node;
  const out: Obj = {};
  let restating = false;
  let kept = 0;
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (key === "title" && !root) continue;
    if (VALIDATION_ONLY.has(key) && (key !== "additionalProperties" || value === false)) continue;
    if (key === "description" && typeof value === "string") {
      const text = firstSentence(value);
      if (property !== undefined && restatesName(property, text)) {
        restating = true;
        continue;
      }
      out.description = text;
    } else if (key === "properties" && root && isObj(value)) {
      const props: Obj = {};
      for (const k of Object.keys(value)) props[k] = compact(value[k], false, k);
      out.properties = props;
    } else if (MAP_KEYS.has(key) && isObj(value)) {
      const map: Obj = {};
      for (const k of Object.keys(value)) map[k] = compact(value[k], false);
      out[key] = map;
    } else if ((ARRAY_KEYS.has(key) || key === "items") && Array.isArray(value)) out[key] = value.map((v) => compact(v, false));
    else if (SINGLE_KEYS.has(key)) out[key] = compact(value, false);
    else out[key] = value;
    kept++;
  }
  // A description that restates the name is still better than an empty schema.
  if (restating && kept === 0) out.description = firstSentence(node.description as string);
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
  // Every tools/list page and every session with the same view asks for the same list again; the
  // answer depends only on which listed objects come in, in which order.
  const head = tools[0];
  if (head === undefined) return [];
  let entries = repeatsMemo.get(head);
  if (!entries) repeatsMemo.set(head, (entries = []));
  const hit = entries.find((e) => e.input.length === tools.length && e.input.every((t, i) => t === tools[i]));
  if (hit) return hit.output.slice() as T[];
  const output = describeOnce(tools);
  if (entries.length >= MEMO_VIEWS) entries.shift();
  entries.push({ input: tools.slice(), output });
  return output.slice();
}

/** Different views (token modules, read-only, exposure mode) remembered per first listed tool. */
const MEMO_VIEWS = 8;
const repeatsMemo = new WeakMap<object, { input: readonly Listed[]; output: readonly Listed[] }[]>();

function describeOnce<T extends Listed>(tools: readonly T[]): T[] {
  // Property name → descriptions already shown under that name.
  const seen = new Map<string, Set<string>>();
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
          let texts = seen.get(name);
          if (!texts) seen.set(name, (texts = new Set()));
          if (texts.has(next.description) && Object.keys(next).length > 1) {
            const { description: _repeated, ...rest } = next;
            next = rest;
          } else texts.add(next.description);
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
