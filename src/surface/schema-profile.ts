/**
 * Client schema profiles. `default` hands out the generated JSON Schema as is; `strict` rewrites
 * it for clients that reject top-level `oneOf`/`anyOf`/`allOf`, `type` arrays, `$defs`/`$ref` and
 * `format`: references are inlined, `allOf` merged, top-level alternatives flattened, nullability
 * relaxed and formats moved into descriptions.
 *
 * Every rewrite only ever widens what a schema accepts, so an argument set that validates under
 * `default` also validates under `strict`; the gateway itself always validates against the
 * generated (default) schema, so the widening costs no safety.
 */

/** The profiles a session can ask for. */
export const SCHEMA_PROFILES = ["default", "strict"] as const;
export type SchemaProfile = (typeof SCHEMA_PROFILES)[number];

/**
 * How often a schema may contain itself before the strict profile stops expanding it: at 1, a
 * recursive reference inside its own expansion becomes a permissive schema of the same type.
 */
export const RECURSION_DEPTH = 1;
/** Hard cap on nested reference expansions, so a deep but acyclic `$defs` graph stays bounded. */
export const MAX_REF_NESTING = 12;

type Obj = Record<string, unknown>;

const DROPPED = new Set(["$defs", "definitions", "$schema", "$id", "$anchor", "$dynamicAnchor", "$comment"]);
const SCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "dependentSchemas"] as const;
const SCHEMA_KEYWORDS = ["items", "additionalProperties", "unevaluatedProperties", "contains", "not", "propertyNames", "if", "then", "else", "additionalItems", "unevaluatedItems", "contentSchema"] as const;
const SCHEMA_ARRAY_KEYWORDS = ["anyOf", "oneOf", "prefixItems"] as const;

function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when `value` is a valid profile name. */
export function isSchemaProfile(value: unknown): value is SchemaProfile {
  return typeof value === "string" && (SCHEMA_PROFILES as readonly string[]).includes(value);
}

const strictCache = new WeakMap<object, Obj>();

/** A tool schema as a client with this profile should see it (memoised per schema object). */
export function schemaForProfile(schema: { readonly [key: string]: unknown }, profile: SchemaProfile): { readonly [key: string]: unknown } {
  if (profile === "default") return schema;
  let found = strictCache.get(schema);
  if (!found) {
    found = toStrictSchema(schema);
    strictCache.set(schema, found);
  }
  return found;
}

/** Rewrites one schema for the `strict` profile (see the module comment). */
export function toStrictSchema(schema: { readonly [key: string]: unknown }): Obj {
  const inlined = inline(schema, schema as Obj, []);
  const flat = flattenAlternatives(inlined);
  return finalize(flat);
}

// ---------------------------------------------------------------------------------------------
// Phase 1: resolve `$ref` and merge `allOf`, recursively.

function resolvePointer(root: Obj, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  const parts = ref.slice(1).split("/").filter((p, i) => i > 0 || p !== "");
  let node: unknown = root;
  for (const raw of parts) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObj(node)) node = node[key];
    else return undefined;
  }
  return node;
}

function refName(ref: string): string {
  return ref.split("/").pop() ?? ref;
}

/** A permissive stand-in for a schema that is not expanded any further. */
function cutSchema(target: unknown, ref: string, why: string): Obj {
  const t = isObj(target) ? target : {};
  let type: unknown = t.type;
  if (type === undefined) type = isObj(t.properties) ? "object" : t.items !== undefined ? "array" : undefined;
  const description = `${typeof t.description === "string" ? `${t.description} ` : ""}(${refName(ref)}: ${why}; any ${typeof type === "string" ? type : "value"} is accepted here.)`;
  return type === undefined ? { description } : { type, description };
}

function inline(node: unknown, root: Obj, stack: readonly string[]): Obj {
  if (node === true || node === undefined) return {};
  if (node === false) return { not: {} };
  if (!isObj(node)) return {};
  const own: Obj = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" || key === "allOf" || DROPPED.has(key)) continue;
    own[key] = inlineKeyword(key, value, root, stack);
  }
  const parts: Obj[] = [own];
  if (typeof node.$ref === "string") {
    const ref = node.$ref;
    const target = resolvePointer(root, ref);
    const seen = stack.filter((r) => r === ref).length;
    if (target === undefined) parts.push(cutSchema(undefined, ref, "reference not resolvable"));
    else if (seen >= RECURSION_DEPTH) parts.push(cutSchema(target, ref, `recursive, expanded ${RECURSION_DEPTH} level deep`));
    else if (stack.length >= MAX_REF_NESTING) parts.push(cutSchema(target, ref, `nested more than ${MAX_REF_NESTING} references deep`));
    else parts.push(inline(target, root, [...stack, ref]));
  }
  if (Array.isArray(node.allOf)) for (const sub of node.allOf) parts.push(inline(sub, root, stack));
  return parts.reduce(mergeAllOf);
}

function inlineKeyword(key: string, value: unknown, root: Obj, stack: readonly string[]): unknown {
  if ((SCHEMA_MAP_KEYWORDS as readonly string[]).includes(key) && isObj(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inline(v, root, stack)]));
  }
  if ((SCHEMA_ARRAY_KEYWORDS as readonly string[]).includes(key) && Array.isArray(value)) {
    return value.map((v) => inline(v, root, stack));
  }
  if (key === "items" && Array.isArray(value)) return value.map((v) => inline(v, root, stack));
  if ((SCHEMA_KEYWORDS as readonly string[]).includes(key)) {
    // `additionalProperties: false` and friends are meaningful booleans, not schemas to rewrite.
    if (typeof value === "boolean") return value;
    return inline(value, root, stack);
  }
  return value;
}

/**
 * Merges `b` into `a` as `allOf` would, erring on the permissive side: properties are united
 * (same-named ones merged), `required` united, and for any other keyword the first schema's
 * value wins — dropping a constraint can only widen what validates.
 */
function mergeAllOf(a: Obj, b: Obj): Obj {
  const out: Obj = { ...b, ...a };
  if (isObj(a.properties) || isObj(b.properties)) {
    const props: Obj = { ...(isObj(b.properties) ? b.properties : {}) };
    for (const [k, v] of Object.entries(isObj(a.properties) ? a.properties : {})) {
      props[k] = k in props ? mergeAllOf(v as Obj, props[k] as Obj) : v;
    }
    out.properties = props;
  }
  if (Array.isArray(a.required) || Array.isArray(b.required)) {
    out.required = [...new Set([...((a.required as string[]) ?? []), ...((b.required as string[]) ?? [])])];
  }
  if ("additionalProperties" in a && "additionalProperties" in b) {
    if (a.additionalProperties === false || b.additionalProperties === false) out.additionalProperties = false;
    else if (isObj(a.additionalProperties) && isObj(b.additionalProperties)) out.additionalProperties = mergeAllOf(a.additionalProperties, b.additionalProperties);
  }
  if (typeof a.description === "string" && typeof b.description === "string" && a.description !== b.description && !a.description) {
    out.description = b.description;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Phase 2: flatten the top level's alternatives into one object.

function alternativesOf(node: Obj): Obj[] | undefined {
  const list = (Array.isArray(node.oneOf) ? node.oneOf : Array.isArray(node.anyOf) ? node.anyOf : undefined) as Obj[] | undefined;
  return list && list.length > 0 ? list : undefined;
}

function flattenAlternatives(root: Obj): Obj {
  const branches = alternativesOf(root);
  if (!branches) return root;
  const out: Obj = { ...root };
  delete out.oneOf;
  delete out.anyOf;
  const props: Obj = { ...(isObj(root.properties) ? root.properties : {}) };
  const seen = new Map<string, Obj[]>();
  for (const branch of branches) {
    const b = alternativesOf(branch) ? flattenAlternatives(branch) : branch;
    for (const [k, v] of Object.entries(isObj(b.properties) ? b.properties : {})) {
      const list = seen.get(k) ?? [];
      if (!list.some((x) => JSON.stringify(x) === JSON.stringify(v))) list.push(v as Obj);
      seen.set(k, list);
    }
  }
  for (const [k, list] of seen) {
    if (k in props) continue;
    props[k] = list.length === 1 ? list[0] : { anyOf: list };
  }
  out.properties = props;
  const requiredSets = branches.map((b) => new Set(Array.isArray(b.required) ? (b.required as string[]) : []));
  const common = [...requiredSets[0]].filter((k) => requiredSets.every((s) => s.has(k)));
  const required = [...new Set([...(Array.isArray(root.required) ? (root.required as string[]) : []), ...common])];
  if (required.length > 0) out.required = required;
  else delete out.required;
  if (!("additionalProperties" in root)) {
    if (branches.every((b) => b.additionalProperties === false)) out.additionalProperties = false;
  }
  out.type = "object";
  const note = `Accepts ${branches.length} alternative argument shapes, merged here; provide the fields of one of them.`;
  out.description = typeof root.description === "string" && root.description ? `${root.description} ${note}` : note;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Phase 3: per-node rewrites (type arrays, formats, oneOf), recursively.

/** Keywords that constrain an instance; a schema with none of them accepts anything. */
const CONSTRAINING = new Set([
  "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
  "pattern", "format", "contentMediaType", "contentEncoding", "contentSchema", "maxItems", "minItems", "uniqueItems", "maxContains",
  "minContains", "maxProperties", "minProperties", "required", "dependentRequired", "allOf", "anyOf", "oneOf", "not", "items",
  "prefixItems", "contains", "additionalItems", "unevaluatedItems", "properties", "patternProperties", "additionalProperties",
  "unevaluatedProperties", "propertyNames", "dependentSchemas", "dependencies", "$ref", "$dynamicRef", "$recursiveRef",
]);

/** Every JSON type, as single-type branches: what `{}` accepts, spelled so single-type clients can map it. */
const ANY_VALUE = ["string", "number", "boolean", "object", "array", "null"].map((type) => ({ type }));

function finalize(node: Obj, keyword?: string): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key)) continue;
    if ((SCHEMA_MAP_KEYWORDS as readonly string[]).includes(key) && isObj(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isObj(v) ? finalize(v) : v]));
    } else if ((SCHEMA_ARRAY_KEYWORDS as readonly string[]).includes(key) && Array.isArray(value)) {
      out[key] = value.map((v) => (isObj(v) ? finalize(v) : v));
    } else if (key === "items" && Array.isArray(value)) {
      out.prefixItems = value.map((v) => (isObj(v) ? finalize(v) : v));
    } else if ((SCHEMA_KEYWORDS as readonly string[]).includes(key) && isObj(value)) {
      out[key] = finalize(value, key);
    } else {
      out[key] = value;
    }
  }
  // `oneOf` is exclusive; `anyOf` accepts a superset and is the form more clients take.
  if (Array.isArray(out.oneOf)) {
    out.anyOf = Array.isArray(out.anyOf) ? out.anyOf : out.oneOf;
    delete out.oneOf;
  }
  if (Array.isArray(out.type)) relaxTypeArray(out);
  if (typeof out.format === "string") {
    const hint = `(format: ${out.format})`;
    out.description = typeof out.description === "string" && out.description ? `${out.description} ${hint}` : hint;
    delete out.format;
  }
  // An unconstrained schema (`{}`, or a bare description) is where single-type clients guess;
  // the explicit union accepts exactly the same values. Under `not`, `{}` means "nothing" and stays.
  if (keyword !== "not" && !Object.keys(out).some((k) => CONSTRAINING.has(k)) && !("if" in out)) out.anyOf = ANY_VALUE;
  return out;
}

function relaxTypeArray(node: Obj): void {
  const types = [...new Set(node.type as string[])];
  const nullable = types.includes("null");
  let rest = types.filter((t) => t !== "null");
  if (rest.includes("number")) rest = rest.filter((t) => t !== "integer");
  if (rest.length === 0) {
    node.type = "null";
  } else if (rest.length === 1) {
    node.type = rest[0];
    if (nullable) {
      // Ajv and OpenAPI-style clients read `nullable`; others ignore it and simply never send null.
      node.nullable = true;
      if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum = [...node.enum, null];
    }
  } else if (!Array.isArray(node.anyOf)) {
    delete node.type;
    node.anyOf = [...rest, ...(nullable ? ["null"] : [])].map((t) => ({ type: t }));
  } else {
    delete node.type;
  }
}
