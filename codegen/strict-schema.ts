/**
 * Makes a translated schema acceptable to ajv's 2020 strict mode without changing what it means
 * where that is possible (ajv docs, "Strict mode"): one non-null type per schema, a `type` next to
 * every type-specific keyword, `required` names declared in `properties`, valid `u`-flag regexes,
 * no unknown formats, no keywords that do not apply to the declared type.
 */
import type { JsonSchema } from "./descriptor.js";

type Obj = Record<string, unknown>;

/** Keywords ajv applies only to one JSON type (ajv/lib/vocabularies, the `type` of each definition). */
const GROUPS: Record<string, readonly string[]> = {
  object: ["properties", "patternProperties", "additionalProperties", "required", "minProperties", "maxProperties", "propertyNames", "dependentRequired", "dependentSchemas", "unevaluatedProperties"],
  array: ["items", "prefixItems", "contains", "minItems", "maxItems", "uniqueItems", "minContains", "maxContains", "unevaluatedItems"],
  string: ["minLength", "maxLength", "pattern"],
  number: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
};
const GROUP_OF = new Map<string, string>(Object.entries(GROUPS).flatMap(([g, ks]) => ks.map((k) => [k, g] as [string, string])));
const JSON_TYPES = new Set(["object", "array", "string", "number", "integer", "boolean", "null"]);
/** Formats ajv-formats implements (`fullFormats`); any other format makes strict ajv throw. */
export const KNOWN_FORMATS: ReadonlySet<string> = new Set(["date", "time", "date-time", "iso-time", "iso-date-time", "duration", "uri", "uri-reference", "uri-template", "url", "email", "hostname", "ipv4", "ipv6", "regex", "uuid", "json-pointer", "json-pointer-uri-fragment", "relative-json-pointer", "byte", "int32", "int64", "float", "double", "password", "binary"]);
const NUMBER_FORMATS: Record<string, string> = { int32: "integer", int64: "integer", float: "number", double: "number" };
const COUNTS = ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains", "maxContains"];
const LIMITS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];

function groupOfType(t: string): string | undefined {
  return t === "integer" ? "number" : t === "object" || t === "array" || t === "string" || t === "number" ? t : undefined;
}

/** Checks a regex the way ajv compiles it (`new RegExp(p, "u")`). */
export function validRegex(p: unknown): p is string {
  if (typeof p !== "string") return false;
  try {
    new RegExp(p, "u");
    return true;
  } catch {
    return false;
  }
}

/** Returns a strict-mode-safe copy of one schema node (children are assumed already normalized). */
export function normalizeNode(input: Obj): JsonSchema {
  const s: Obj = { ...input };

  // Value checks first, so the type logic below sees only meaningful keywords.
  for (const k of COUNTS) if (k in s && !(Number.isInteger(s[k]) && (s[k] as number) >= 0)) delete s[k];
  for (const k of LIMITS) if (k in s && typeof s[k] !== "number") delete s[k];
  if ("multipleOf" in s && !(typeof s.multipleOf === "number" && s.multipleOf > 0)) delete s.multipleOf;
  if ("uniqueItems" in s && typeof s.uniqueItems !== "boolean") delete s.uniqueItems;
  if ("pattern" in s && !validRegex(s.pattern)) delete s.pattern;
  if ("format" in s && !(typeof s.format === "string" && KNOWN_FORMATS.has(s.format))) delete s.format;
  if ("patternProperties" in s) {
    const pp = Object.entries(s.patternProperties as Obj).filter(([p]) => validRegex(p));
    if (pp.length === 0) delete s.patternProperties;
    else s.patternProperties = Object.fromEntries(pp);
  }
  if ("enum" in s) {
    if (!Array.isArray(s.enum)) delete s.enum;
    else {
      const seen = new Set<string>();
      const values = s.enum.filter((v) => {
        const key = JSON.stringify(v) ?? "undefined";
        if (seen.has(key)) return false;
        seen.add(key);
        return v !== undefined;
      });
      if (values.length === 0) delete s.enum;
      else s.enum = values;
    }
  }
  if ("prefixItems" in s) {
    const tuple = s.prefixItems as JsonSchema[];
    const full = s.minItems === tuple.length && (s.maxItems === tuple.length || s.items === false);
    if (!full) {
      // ajv's strictTuples wants a closed tuple; an open one becomes "items are one of these".
      delete s.prefixItems;
      if (!("items" in s)) s.items = tuple.length === 1 ? tuple[0] : { anyOf: tuple };
    }
  }

  let types: string[] | undefined;
  if (typeof s.type === "string") types = [s.type];
  else if (Array.isArray(s.type)) types = [...new Set(s.type.filter((t): t is string => typeof t === "string"))];
  if (types) {
    types = types.map((t) => (t === "file" ? "string" : t)).filter((t) => JSON_TYPES.has(t));
    if (types.includes("integer") && types.includes("number")) types = types.filter((t) => t !== "integer");
    if (types.length === 0) types = undefined;
  }

  const present = new Set<string>();
  for (const k of Object.keys(s)) {
    const g = GROUP_OF.get(k);
    if (g) present.add(g);
  }

  if (!types) {
    if (present.size === 0) {
      if ("format" in s) s.type = NUMBER_FORMATS[s.format as string] ?? "string";
      else delete s.type;
      return finishObject(s);
    }
    if (present.size === 1) {
      const g = [...present][0]!;
      s.type = g === "number" && s.format && NUMBER_FORMATS[s.format as string] === "integer" ? "integer" : g;
      return finishObject(dropInapplicable(s, [s.type as string]));
    }
    // Keywords for several types and no `type`: one branch per type keeps the meaning.
    return splitByType(s, [...present].sort());
  }

  const nonNull = types.filter((t) => t !== "null");
  if (nonNull.length > 1) return splitByType(s, types);
  s.type = types.length === 1 ? types[0] : types;
  if (s.format !== undefined && !nonNull.some((t) => t === "string" || t === "number" || t === "integer")) delete s.format;
  return finishObject(dropInapplicable(s, nonNull));
}

/** Removes keywords whose type is not among `types` (ajv strictTypes rejects them). */
function dropInapplicable(s: Obj, types: string[]): Obj {
  const allowed = new Set(types.map(groupOfType).filter((g): g is string => g !== undefined));
  for (const k of Object.keys(s)) {
    const g = GROUP_OF.get(k);
    if (g && !allowed.has(g)) delete s[k];
  }
  return s;
}

/** Fixes `required` against `properties` and drops empty containers. */
function finishObject(s: Obj): Obj {
  if ("required" in s) {
    const req = Array.isArray(s.required) ? [...new Set(s.required.filter((r): r is string => typeof r === "string"))] : [];
    if (req.length === 0) delete s.required;
    else {
      s.required = req;
      const props = { ...((s.properties as Obj | undefined) ?? {}) };
      let added = false;
      for (const r of req) {
        if (!Object.hasOwn(props, r)) {
          // An empty schema constrains nothing: declaring it only satisfies strictRequired.
          props[r] = {};
          added = true;
        }
      }
      if (added) s.properties = props;
    }
  }
  return s;
}

const SHARED = new Set(["title", "description", "default", "deprecated", "enum", "const", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref"]);

/** `{type: [a, b], ...}` → `{anyOf: [{type: a, ...a-keywords}, {type: b, ...}]}` with shared keywords outside. */
function splitByType(s: Obj, types: string[]): Obj {
  const outer: Obj = {};
  const typed: Obj = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "type") continue;
    if (SHARED.has(k)) outer[k] = v;
    else typed[k] = v;
  }
  const branches: JsonSchema[] = types.map((t) => {
    const b: Obj = { type: t };
    const g = groupOfType(t);
    for (const [k, v] of Object.entries(typed)) {
      const kg = GROUP_OF.get(k);
      if (k === "format") {
        if (g === "string" || g === "number") b[k] = v;
      } else if (kg === undefined || kg === g) b[k] = v;
    }
    return finishObject(b);
  });
  if (Array.isArray(outer.anyOf)) {
    outer.allOf = [...((outer.allOf as JsonSchema[] | undefined) ?? []), { anyOf: outer.anyOf }];
  }
  outer.anyOf = branches;
  return outer;
}

/** Keywords whose value has the wrong type or range, which normalizeNode drops: `minimum: "1"`, `enum: 3`. */
export function invalidKeywordValues(s: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const k of COUNTS) if (k in s && !(Number.isInteger(s[k]) && (s[k] as number) >= 0)) out.push(k);
  for (const k of LIMITS) if (k in s && typeof s[k] !== "number" && typeof s[k] !== "boolean") out.push(k);
  if ("multipleOf" in s && !(typeof s.multipleOf === "number" && s.multipleOf > 0)) out.push("multipleOf");
  if ("uniqueItems" in s && typeof s.uniqueItems !== "boolean") out.push("uniqueItems");
  if ("enum" in s && !Array.isArray(s.enum)) out.push("enum");
  if ("required" in s && !Array.isArray(s.required)) out.push("required");
  return out;
}
