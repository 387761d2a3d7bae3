/**
 * OpenAPI Schema Object (3.0 §4.7.24 / 3.1 §4.8.24) → JSON Schema 2020-12, decided at generation
 * time so the runtime validator can stay strict (STYLE.md rule 10).
 *
 * Non-recursive `$ref`s are inlined (and memoised: each component is translated once per mode).
 * Components on a reference cycle (Tarjan SCCs over the ref graph) stay references and are
 * emitted under the tool schema's `$defs`, so recursion never expands.
 */
import { createHash } from "node:crypto";
import type { JsonSchema } from "./descriptor.js";
import type { Resolver, Resolved } from "./resolver.js";
import { SpecError, escapeToken } from "./spec-error.js";
import { FIRST_WINS, contradictoryTypes, makeNullable, mergeAllOf } from "./schema-merge.js";
import { invalidKeywordValues, normalizeNode, validRegex } from "./strict-schema.js";
import { RELAXED, addWarning, kindOf, type SpecWarning } from "./warnings.js";

type Obj = Record<string, unknown>;

/** Requests drop `readOnly` properties; responses drop `writeOnly` ones. */
export type Mode = "request" | "response";

/**
 * What translating one tool's schemas collects: the components that stay references (by resolver
 * key, for `$defs`) and the problems that were relaxed to an unconstrained schema.
 */
export interface DefsSink {
  readonly defs: Set<string>;
  readonly warnings: SpecWarning[];
}

/** An empty sink. */
export function newSink(): DefsSink {
  return { defs: new Set(), warnings: [] };
}

export interface SchemaTranslator {
  /** Translates the schema `value` found at `at` inside document `url`; adds needed `$defs` keys to `defs`. */
  translate(value: unknown, url: string, at: string, mode: Mode, defs: DefsSink): JsonSchema;
  /** Like translate, for a whole body or response: a top-level `$ref` is unwrapped rather than kept. */
  translateTop(value: unknown, url: string, at: string, mode: Mode, defs: DefsSink): JsonSchema;
  /** The `$defs` object for the collected keys (closed over their own references), sorted by name. */
  buildDefs(defs: DefsSink, mode: Mode): Record<string, JsonSchema> | undefined;
  /** True when the schema (through refs and allOf) is flagged readOnly/writeOnly. */
  hasFlag(value: unknown, url: string, flag: "readOnly" | "writeOnly"): boolean;
}

interface Memo {
  readonly schema: JsonSchema;
  readonly defs: readonly string[];
  readonly warnings: readonly SpecWarning[];
  /** Length of the schema's JSON text: large shared components become `$defs` instead of copies. */
  readonly size: number;
}

/** Components whose translation is longer than this stay references (under `$defs`); smaller ones are inlined. */
export const INLINE_LIMIT = 2500;
/**
 * `$defs` are expanded this many references deep from a tool's own schema; deeper ones become
 * open stubs (`{description}`), which keeps tools small on densely linked specs (Stripe, GitHub).
 */
export const MAX_DEF_DEPTH: Readonly<Record<Mode, number>> = { request: 3, response: 1 };
/** After this many characters of `$defs` in one schema, further definitions become stubs too. */
export const DEFS_BUDGET = 30_000;

const NAME_MAPS = new Set(["properties", "patternProperties", "dependentSchemas", "$defs", "definitions"]);
const DROPPED_ANNOTATIONS = new Set(["example", "examples", "xml", "externalDocs", "discriminator", "nullable", "readOnly", "writeOnly", "$schema", "$id", "$anchor", "$dynamicAnchor", "$dynamicRef", "$comment", "$defs", "definitions", "$vocabulary", "id"]);

/** Creates a translator bound to one loaded spec. */
export function createSchemaTranslator(resolver: Resolver, dialect: "3.0" | "3.1", rootUrl: string): SchemaTranslator {
  const memo = new Map<string, Memo>();
  const inProgress = new Set<string>();
  const defNames = new Map<string, string>();

  // Tarjan's SCC algorithm, run incrementally: state persists across calls, so the result for
  // any node does not depend on which operation reached it first.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const recursive = new Set<string>();
  const edgesOf = new Map<string, string[]>();
  let counter = 0;

  function edges(node: Resolved): string[] {
    const hit = edgesOf.get(node.key);
    if (hit) return hit;
    const out: string[] = [];
    // `names` marks maps whose keys are property names, not keywords (a property may be called "example").
    const work: { v: unknown; names: boolean }[] = [{ v: node.value, names: false }];
    while (work.length > 0) {
      const { v, names } = work.pop()!;
      if (Array.isArray(v)) for (const x of v) work.push({ v: x, names: false });
      else if (v !== null && typeof v === "object") {
        const o = v as Obj;
        if (!names && typeof o.$ref === "string") {
          // A broken reference is no edge: translating it reports the problem where it is written.
          const target = tryResolve(o.$ref, node.url);
          if (target) out.push(target.key);
        }
        for (const k of Object.keys(o)) {
          if (!names && (k === "$ref" || k === "example" || k === "examples" || k === "enum" || k === "const" || k === "default" || k.startsWith("x-"))) continue;
          const c = o[k];
          if (c !== null && typeof c === "object") work.push({ v: c, names: !names && NAME_MAPS.has(k) });
        }
      }
    }
    edgesOf.set(node.key, out);
    return out;
  }

  function tryResolve(ref: string, url: string): Resolved | undefined {
    try {
      return resolver.resolveRef(ref, url, "");
    } catch (err) {
      if (err instanceof SpecError) return undefined;
      throw err;
    }
  }

  const nodes = new Map<string, Resolved>();
  function strongConnect(start: Resolved): void {
    // Iterative Tarjan: deep ref chains must not overflow the JS stack.
    type Frame = { node: Resolved; targets: string[]; i: number };
    const frames: Frame[] = [];
    const push = (n: Resolved): void => {
      nodes.set(n.key, n);
      index.set(n.key, counter);
      low.set(n.key, counter);
      counter++;
      stack.push(n.key);
      onStack.add(n.key);
      frames.push({ node: n, targets: edges(n), i: 0 });
    };
    push(start);
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      if (f.i < f.targets.length) {
        const t = f.targets[f.i++]!;
        if (t === f.node.key) recursive.add(t);
        if (!index.has(t)) {
          const hash = t.indexOf("#");
          push(resolver.resolveRef(`${t.slice(0, hash)}${t.slice(hash)}`, t.slice(0, hash), resolver.display(f.node.url, f.node.fragment)));
        } else if (onStack.has(t)) {
          low.set(f.node.key, Math.min(low.get(f.node.key)!, index.get(t)!));
        }
        continue;
      }
      frames.pop();
      const k = f.node.key;
      if (frames.length > 0) {
        const parent = frames[frames.length - 1]!.node.key;
        low.set(parent, Math.min(low.get(parent)!, low.get(k)!));
      }
      if (low.get(k) === index.get(k)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== k);
        if (scc.length > 1) for (const m of scc) recursive.add(m);
      }
    }
  }

  function isRecursive(r: Resolved): boolean {
    if (!index.has(r.key)) strongConnect(r);
    return recursive.has(r.key);
  }

  function defName(r: Resolved): string {
    const hit = defNames.get(r.key);
    if (hit) return hit;
    const tokens = r.fragment.replace(/^#/, "").split("/").filter(Boolean);
    const last = (tokens[tokens.length - 1] ?? "schema").replace(/~1/g, "_").replace(/~0/g, "_");
    const clean = last.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 60) || "schema";
    const isComponent = tokens.length === 3 && tokens[0] === "components" && tokens[1] === "schemas" && r.url === rootUrl;
    // Hash the location as shown to users (relative to the root spec), never the absolute URL: output must not depend on the checkout path.
    const name = isComponent ? clean : `${clean}_${createHash("sha256").update(resolver.display(r.url, r.fragment)).digest("hex").slice(0, 8)}`;
    defNames.set(r.key, name);
    return name;
  }

  function hasFlag(value: unknown, url: string, flag: "readOnly" | "writeOnly", depth = 0): boolean {
    if (depth > 20 || value === null || typeof value !== "object") return false;
    const o = value as Obj;
    if (o[flag] === true) return true;
    if (typeof o.$ref === "string") {
      let r: Resolved;
      try {
        r = resolver.resolveRef(o.$ref, url, "");
      } catch {
        return false;
      }
      if (hasFlag(r.value, r.url, flag, depth + 1)) return true;
    }
    if (Array.isArray(o.allOf)) return o.allOf.some((m) => hasFlag(m, url, flag, depth + 1));
    return false;
  }

  function absorb(sink: DefsSink, m: Memo): void {
    for (const d of m.defs) sink.defs.add(d);
    for (const w of m.warnings) addWarning(sink.warnings, w);
  }

  function translateRefTarget(r: Resolved, mode: Mode, sink: DefsSink | undefined): Memo {
    const key = `${mode}|${r.key}`;
    const hit = memo.get(key);
    if (hit) {
      if (sink) absorb(sink, hit);
      return hit;
    }
    if (inProgress.has(key)) {
      // Only reachable if SCC detection missed a cycle; fail loudly rather than loop.
      throw new SpecError(resolver.display(r.url, r.fragment), "internal: unexpected reference cycle");
    }
    inProgress.add(key);
    const own = newSink();
    const schema = tr(r.value, r.url, resolver.display(r.url, r.fragment), mode, own);
    inProgress.delete(key);
    const m: Memo = { schema, defs: [...own.defs], warnings: own.warnings, size: JSON.stringify(schema).length };
    memo.set(key, m);
    if (sink) absorb(sink, m);
    return m;
  }

  /** A reference that stays a reference: recursive, or too large to copy into every tool. */
  function refOrInline(r: Resolved, mode: Mode, sink: DefsSink): JsonSchema {
    if (isRecursive(r)) {
      nodes.set(r.key, r);
      sink.defs.add(r.key);
      return { $ref: `#/$defs/${escapeToken(defName(r))}` };
    }
    const m = translateRefTarget(r, mode, undefined);
    if (m.size > INLINE_LIMIT) {
      nodes.set(r.key, r);
      sink.defs.add(r.key);
      return { $ref: `#/$defs/${escapeToken(defName(r))}` };
    }
    absorb(sink, m);
    return m.schema;
  }

  /** Follows a `$ref`; a broken one becomes a warning and undefined. */
  function follow(ref: string, url: string, at: string, sink: DefsSink): Resolved | undefined {
    try {
      return resolver.resolveRef(ref, url, at);
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      addWarning(sink.warnings, { pointer: err.pointer || at, problem: `${err.problem}; ${RELAXED}` });
      return undefined;
    }
  }

  function tr(value: unknown, url: string, at: string, mode: Mode, defs: DefsSink): JsonSchema {
    if (typeof value === "boolean") return value;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      addWarning(defs.warnings, { pointer: at, problem: `schema must be an object or a boolean, not ${kindOf(value)}; ${RELAXED}` });
      return {};
    }
    const node = value as Obj;
    if (typeof node.$ref === "string") {
      const r = follow(node.$ref, url, at, defs);
      const base = r ? refOrInline(r, mode, defs) : {};
      const siblings = Object.keys(node).filter((k) => k !== "$ref" && !k.startsWith("x-") && !DROPPED_ANNOTATIONS.has(k));
      const nullable = dialect === "3.0" && node.nullable === true;
      if (siblings.length === 0 && !nullable) return base;
      const rest: Obj = {};
      for (const k of siblings) rest[k] = node[k];
      const sib = siblings.length > 0 ? tr(rest, url, at, mode, defs) : true;
      let merged: JsonSchema;
      if (typeof base === "object" && "$ref" in base && typeof sib === "object" && Object.keys(sib).every((k) => FIRST_WINS.has(k))) {
        merged = { ...sib, ...base };
      } else {
        // Sibling annotations (description, ...) override the target's, so they go first.
        merged = mergeAllOf([sib, base]) ?? { allOf: [sib, base] };
      }
      if (nullable) merged = makeNullable(merged);
      return merged;
    }
    return translateObject(node, url, at, mode, defs);
  }

  function translateObject(node: Obj, url: string, at: string, mode: Mode, defs: DefsSink): JsonSchema {
    const out: Obj = {};
    const sub = (v: unknown, key: string, index?: string | number): JsonSchema =>
      tr(v, url, index === undefined ? `${at}/${key}` : `${at}/${key}/${escapeToken(index)}`, mode, defs);

    if (typeof node.title === "string") out.title = node.title;
    if (typeof node.description === "string" && node.description !== "") out.description = node.description;
    if (node.type !== undefined) {
      out.type = node.type;
      const names = Array.isArray(node.type) ? node.type : [node.type];
      const unknown = names.filter((t) => typeof t !== "string" || !SCHEMA_TYPES.has(t));
      if (unknown.length > 0) addWarning(defs.warnings, { pointer: `${at}/type`, problem: `unknown type ${unknown.map((t) => JSON.stringify(t)).join(", ")}; ignored` });
    }
    if (node.format !== undefined) out.format = node.format;
    if (node.const !== undefined) out.const = node.const;
    if (node.enum !== undefined) out.enum = node.enum;
    if (node.default !== undefined) out.default = node.default;
    if (node.deprecated === true) out.deprecated = true;
    for (const k of ["contentMediaType", "contentEncoding"]) if (typeof node[k] === "string") out[k] = node[k];

    // Numbers. 3.0 uses boolean exclusive flags next to minimum/maximum (3.0 §4.7.24.1).
    for (const k of ["multipleOf", "minimum", "maximum"]) if (node[k] !== undefined) out[k] = node[k];
    for (const [ex, lim] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]] as const) {
      const v = node[ex];
      if (v === true) {
        if (typeof out[lim] === "number") {
          out[ex] = out[lim];
          delete out[lim];
        }
      } else if (typeof v === "number") out[ex] = v;
    }
    for (const k of ["minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "minContains", "maxContains"]) {
      if (node[k] !== undefined) out[k] = node[k];
    }

    // Arrays.
    if (Array.isArray(node.prefixItems)) out.prefixItems = node.prefixItems.map((s, i) => sub(s, "prefixItems", i));
    if (Array.isArray(node.items)) {
      // Draft-4 tuple form: 2020-12 spells it prefixItems.
      out.prefixItems = node.items.map((s, i) => sub(s, "items", i));
    } else if (node.items !== undefined) out.items = sub(node.items, "items");
    if (node.contains !== undefined) out.contains = sub(node.contains, "contains");
    if (node.unevaluatedItems !== undefined) out.unevaluatedItems = sub(node.unevaluatedItems, "unevaluatedItems");

    // Objects.
    let dropped: Set<string> | undefined;
    if (node.properties !== undefined) {
      const props: Obj = {};
      if (node.properties === null || typeof node.properties !== "object" || Array.isArray(node.properties)) {
        addWarning(defs.warnings, { pointer: `${at}/properties`, problem: `properties must be an object, not ${kindOf(node.properties)}; ignored` });
      } else
      for (const [name, s] of Object.entries(node.properties as Obj)) {
        if (mode === "request" && hasFlag(s, url, "readOnly")) {
          (dropped ??= new Set()).add(name);
          continue;
        }
        if (mode === "response" && hasFlag(s, url, "writeOnly")) {
          (dropped ??= new Set()).add(name);
          continue;
        }
        props[name] = sub(s, "properties", name);
      }
      out.properties = props;
    }
    if (Array.isArray(node.required)) {
      const req = node.required.filter((r): r is string => typeof r === "string" && !dropped?.has(r));
      if (req.length > 0) out.required = req;
    }
    if (node.additionalProperties !== undefined) out.additionalProperties = sub(node.additionalProperties, "additionalProperties");
    if (node.patternProperties !== null && typeof node.patternProperties === "object") {
      const pp: Obj = {};
      for (const [p, s] of Object.entries(node.patternProperties as Obj)) if (validRegex(p)) pp[p] = sub(s, "patternProperties", p);
      out.patternProperties = pp;
    }
    if (node.propertyNames !== undefined) out.propertyNames = sub(node.propertyNames, "propertyNames");
    if (node.unevaluatedProperties !== undefined) out.unevaluatedProperties = sub(node.unevaluatedProperties, "unevaluatedProperties");
    if (node.dependentRequired !== null && typeof node.dependentRequired === "object") out.dependentRequired = node.dependentRequired;
    if (node.dependentSchemas !== null && typeof node.dependentSchemas === "object") {
      out.dependentSchemas = Object.fromEntries(Object.entries(node.dependentSchemas as Obj).map(([k, s]) => [k, sub(s, "dependentSchemas", k)]));
    }

    // Composition: allOf is merged where that is safe; oneOf/anyOf/not/if stay as they are.
    for (const k of ["oneOf", "anyOf"] as const) {
      if (Array.isArray(node[k])) out[k] = (node[k] as unknown[]).map((s, i) => sub(s, k, i));
    }
    if (node.not !== undefined) out.not = sub(node.not, "not");
    for (const k of ["if", "then", "else"] as const) if (node[k] !== undefined) out[k] = sub(node[k], k);

    // 3.0's boolean exclusiveMinimum/Maximum are valid; anything else of the wrong type is dropped.
    for (const k of invalidKeywordValues(node)) addWarning(defs.warnings, { pointer: `${at}/${k}`, problem: `invalid value ${JSON.stringify(node[k])} for ${k}; ignored` });
    let result: JsonSchema = normalizeNode(out);
    if (Array.isArray(node.allOf) && node.allOf.length > 0) {
      const members = node.allOf.map((s, i) => sub(s, "allOf", i));
      const own = Object.keys(out).length > 0 ? [result] : [];
      const merged = mergeAllOf([...own, ...members]);
      const clash = merged === undefined ? contradictoryTypes([...own, ...members]) : undefined;
      if (clash) {
        addWarning(defs.warnings, { pointer: `${at}/allOf`, problem: `allOf requires types that no value has at once (${clash.join(", ")}); ${RELAXED}` });
        return typeof out.description === "string" ? { description: out.description } : {};
      }
      result = merged ?? (Object.keys(out).length > 0 ? { ...(result as Obj), allOf: members } : { allOf: members });
    }
    if (dialect === "3.0" && node.nullable === true) result = makeNullable(result);
    return result;
  }

  function buildDefs(sink: DefsSink, mode: Mode): Record<string, JsonSchema> | undefined {
    const keys = sink.defs;
    if (keys.size === 0) return undefined;
    const all = new Map<string, JsonSchema>();
    const maxDepth = MAX_DEF_DEPTH[mode];
    let spent = 0;
    // Breadth-first, so each definition gets its shortest distance from the tool's own schema.
    let level: string[] = [...keys].sort();
    for (let depth = 1; level.length > 0; depth++) {
      const next: string[] = [];
      for (const key of level) {
        const r = nodes.get(key)!;
        const name = defName(r);
        if (all.has(name)) continue;
        const m = depth > maxDepth || spent > DEFS_BUDGET ? undefined : translateRefTarget(r, mode, undefined);
        if (!m || (depth > 1 && spent + m.size > DEFS_BUDGET)) {
          all.set(name, { description: `${name}: not expanded here (nested too deep for a tool schema)` });
          continue;
        }
        spent += m.size;
        all.set(name, m.schema);
        for (const w of m.warnings) addWarning(sink.warnings, w);
        for (const d of [...m.defs].sort()) if (!all.has(defName(nodes.get(d)!))) next.push(d);
      }
      level = next;
    }
    return Object.fromEntries([...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Top level of a body or response: a reference is always unwrapped one level, never left as a bare `$ref`. */
  function translateTop(value: unknown, url: string, at: string, mode: Mode, defs: DefsSink): JsonSchema {
    if (value !== null && typeof value === "object" && typeof (value as Obj).$ref === "string" && Object.keys(value as Obj).length === 1) {
      const r = follow((value as Obj).$ref as string, url, at, defs);
      if (!r) return {};
      if (isRecursive(r)) {
        nodes.set(r.key, r);
        defs.defs.add(r.key);
      }
      return translateRefTarget(r, mode, defs).schema;
    }
    return tr(value, url, at, mode, defs);
  }

  return {
    translate: tr,
    translateTop,
    buildDefs,
    hasFlag: (v, url, flag) => hasFlag(v, url, flag),
  };
}

/** Schema types OpenAPI knows (3.0 also has `file` from converted Swagger 2.0). */
const SCHEMA_TYPES = new Set(["object", "array", "string", "number", "integer", "boolean", "null", "file"]);
