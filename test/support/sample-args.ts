/**
 * Builds a schema-valid sample value for a tool's inputSchema (required properties only), so
 * tests can call every tool of a real spec without hand-written arguments. Deterministic:
 * the same schema always yields the same sample.
 */
import RandExp from "randexp";

type Schema = { [key: string]: unknown };

const FORMAT_SAMPLES: Record<string, string> = {
  "date-time": "2024-01-02T03:04:05Z",
  date: "2024-01-02",
  time: "03:04:05Z",
  email: "person@example.com",
  uri: "https://example.com/x",
  "uri-reference": "https://example.com/x",
  url: "https://example.com/x",
  uuid: "123e4567-e89b-12d3-a456-426614174000",
  ipv4: "192.0.2.1",
  ipv6: "2001:db8::1",
  hostname: "example.com",
  byte: "aGVsbG8=",
  binary: "hello",
  password: "hunter2hunter2",
};

function deref(schema: Schema, root: Schema): Schema {
  let s = schema;
  for (let i = 0; i < 32 && typeof s.$ref === "string"; i++) {
    const ref = s.$ref as string;
    if (!ref.startsWith("#/")) throw new Error(`sample-args: external $ref ${ref}`);
    let target: unknown = root;
    for (const part of ref.slice(2).split("/")) target = (target as Schema)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    const { $ref: _ignored, ...rest } = s;
    s = { ...(target as Schema), ...rest };
  }
  return s;
}

function sampleString(s: Schema, seed: number): string {
  if (typeof s.format === "string" && FORMAT_SAMPLES[s.format]) return FORMAT_SAMPLES[s.format]!;
  if (typeof s.pattern === "string") {
    const gen = new RandExp(s.pattern);
    gen.max = 3;
    let seedState = seed + 1;
    gen.randInt = (a: number, b: number) => {
      seedState = (seedState * 1103515245 + 12345) % 2147483648;
      return a + (seedState % (b - a + 1));
    };
    let out = gen.gen();
    if (typeof s.maxLength === "number") out = out.slice(0, s.maxLength);
    return out;
  }
  const min = typeof s.minLength === "number" ? s.minLength : 1;
  const max = typeof s.maxLength === "number" ? s.maxLength : Math.max(min, 8);
  const base = "sample";
  let out = base.repeat(Math.ceil(Math.max(min, 1) / base.length)).slice(0, Math.max(min, Math.min(max, base.length)));
  if (out.length < min) out = out.padEnd(min, "x");
  return out;
}

function sampleNumber(s: Schema, integer: boolean): number {
  const lo = typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + 1 : 1;
  const hi = typeof s.maximum === "number" ? s.maximum : typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum - 1 : Math.max(lo, 1);
  let v = Math.min(Math.max(lo, 1), hi);
  if (integer) v = Math.ceil(v);
  if (typeof s.multipleOf === "number" && s.multipleOf > 0) v = Math.ceil(v / s.multipleOf) * s.multipleOf;
  return v;
}

/** A value valid against `schema` (resolved against `root` for `$ref`s). */
export function sampleValue(schema: unknown, root: Schema, depth = 0, seed = 0): unknown {
  if (schema === true || schema === undefined) return "sample";
  if (schema === false) throw new Error("sample-args: schema `false` accepts nothing");
  let s = deref(schema as Schema, root);
  if (depth > 12) return {};
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum.find((v) => v !== null) ?? s.enum[0];
  if (s.default !== undefined && depth > 0) return s.default;
  if (Array.isArray(s.allOf)) {
    const merged: Schema = { ...s };
    delete merged.allOf;
    for (const part of s.allOf) {
      const p = deref(part as Schema, root);
      merged.properties = { ...(merged.properties as Schema), ...(p.properties as Schema) };
      merged.required = [...((merged.required as string[]) ?? []), ...((p.required as string[]) ?? [])];
      for (const [k, v] of Object.entries(p)) if (!(k in merged)) merged[k] = v;
    }
    s = merged;
  }
  for (const key of ["oneOf", "anyOf"] as const) {
    if (Array.isArray(s[key])) {
      const options = (s[key] as unknown[]).map((o) => deref(o as Schema, root));
      const pick = options.find((o) => o.type !== "null") ?? options[0];
      const { [key]: _drop, ...rest } = s;
      const merged: Schema = { ...rest, ...pick };
      // The branch adds to the base schema: keep both sides' properties and required names.
      if (rest.properties || pick.properties) {
        const props: Schema = { ...(rest.properties as Schema) };
        for (const [name, sub] of Object.entries((pick.properties as Schema) ?? {})) {
          props[name] = typeof props[name] === "object" && typeof sub === "object" ? { ...(props[name] as Schema), ...(sub as Schema) } : sub;
        }
        merged.properties = props;
      }
      if (rest.required || pick.required) merged.required = [...((rest.required as string[]) ?? []), ...((pick.required as string[]) ?? [])];
      if (rest.type !== undefined && pick.type === undefined) merged.type = rest.type;
      return sampleValue(merged, root, depth + 1, seed);
    }
  }
  let type = s.type;
  if (Array.isArray(type)) type = type.find((t) => t !== "null") ?? type[0];
  if (type === undefined) type = s.properties ? "object" : s.items ? "array" : "string";
  switch (type) {
    case "string":
      return sampleString(s, seed);
    case "integer":
      return sampleNumber(s, true);
    case "number":
      return sampleNumber(s, false);
    case "boolean":
      return true;
    case "null":
      return null;
    case "array": {
      const n = typeof s.minItems === "number" ? s.minItems : 1;
      const items = Array.from({ length: Math.max(n, 1) }, (_, i) => sampleValue(s.items ?? {}, root, depth + 1, seed + i));
      return s.uniqueItems ? [...new Map(items.map((v) => [JSON.stringify(v), v])).values()] : items;
    }
    default: {
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Schema;
      const required = new Set((s.required as string[]) ?? []);
      let i = 0;
      for (const name of Object.keys(props).sort()) {
        if (required.has(name)) out[name] = sampleValue(props[name], root, depth + 1, seed + ++i);
      }
      for (const name of required) if (!(name in out)) out[name] = "sample";
      if (typeof s.minProperties === "number") {
        for (const name of Object.keys(props).sort()) {
          if (Object.keys(out).length >= s.minProperties) break;
          if (!(name in out)) out[name] = sampleValue(props[name], root, depth + 1, seed + ++i);
        }
      }
      return out;
    }
  }
}

/** Sample arguments for a tool: its required inputs only. */
export function sampleArgs(inputSchema: Schema): Record<string, unknown> {
  return sampleValue(inputSchema, inputSchema, 0) as Record<string, unknown>;
}
