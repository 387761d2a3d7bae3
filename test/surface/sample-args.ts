/** Generates argument sets from a JSON Schema, for property tests of schema rewrites. */

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A small deterministic PRNG (mulberry32), so a failing sample can be reproduced from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FORMAT_SAMPLES: Record<string, string> = {
  "date-time": "2026-03-01T10:00:00Z",
  date: "2026-03-01",
  time: "10:00:00Z",
  email: "someone@example.com",
  uri: "https://example.com/a",
  url: "https://example.com/a",
  "uri-reference": "/a/b",
  uuid: "0b7c4f8e-5d3a-4c6b-9e2f-1a2b3c4d5e6f",
  ipv4: "192.0.2.1",
  ipv6: "2001:db8::1",
  hostname: "example.com",
  duration: "P1D",
};

/**
 * A value meant to satisfy `schema` (best effort: patterns and odd combinations may miss; callers
 * keep only samples the reference validator accepts).
 */
export function sample(schema: unknown, root: Obj, next: () => number, depth = 0): unknown {
  if (schema === true || schema === undefined || (isObj(schema) && Object.keys(schema).length === 0)) return pick(next, ["x", 1, true, null, { k: 1 }]);
  if (!isObj(schema)) return null;
  if (depth > 8) return undefined;
  if (typeof schema.$ref === "string") {
    const target = schema.$ref.slice(2).split("/").reduce<unknown>((n, k) => (isObj(n) ? n[k.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined), root);
    const { $ref: _ignored, ...siblings } = schema;
    return sample(Object.keys(siblings).length > 0 ? { allOf: [target, siblings] } : target, root, next, depth + 1);
  }
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) return pick(next, schema.enum);
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.map((s) => sample(s, root, next, depth + 1));
    const own = { ...schema };
    delete own.allOf;
    const base = Object.keys(own).length > 0 ? sample(own, root, next, depth + 1) : undefined;
    const objects = [base, ...parts].filter(isObj);
    return objects.length > 0 ? Object.assign({}, ...objects) : parts[0];
  }
  const alternatives = (schema.oneOf ?? schema.anyOf) as unknown[] | undefined;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    const own = { ...schema };
    delete own.oneOf;
    delete own.anyOf;
    const chosen = pick(next, alternatives);
    return sample(Object.keys(own).length > 0 ? { allOf: [own, chosen] } : chosen, root, next, depth + 1);
  }
  let type = schema.type;
  if (Array.isArray(type)) type = pick(next, type);
  if (type === undefined) type = isObj(schema.properties) ? "object" : schema.items ? "array" : "string";
  switch (type) {
    case "null":
      return null;
    case "boolean":
      return next() < 0.5;
    case "integer":
    case "number": {
      const min = typeof schema.minimum === "number" ? schema.minimum : typeof schema.exclusiveMinimum === "number" ? schema.exclusiveMinimum + 1 : 0;
      const max = typeof schema.maximum === "number" ? schema.maximum : min + 100;
      return Math.floor(min + next() * Math.max(0, max - min));
    }
    case "string": {
      if (typeof schema.format === "string" && FORMAT_SAMPLES[schema.format]) return FORMAT_SAMPLES[schema.format];
      const min = typeof schema.minLength === "number" ? schema.minLength : 1;
      const max = typeof schema.maxLength === "number" ? schema.maxLength : Math.max(min, 8);
      return "abcdefghij".repeat(Math.ceil(max / 10) + 1).slice(0, Math.max(min, Math.min(max, 5)));
    }
    case "array": {
      const min = typeof schema.minItems === "number" ? schema.minItems : 0;
      const n = Math.max(min, Math.floor(next() * 3));
      const items = Array.from({ length: n }, (_, i) =>
        sample(Array.isArray(schema.prefixItems) && i < schema.prefixItems.length ? schema.prefixItems[i] : schema.items ?? {}, root, next, depth + 1));
      return items.filter((v) => v !== undefined);
    }
    default: {
      const out: Obj = {};
      const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
      for (const [k, s] of Object.entries(isObj(schema.properties) ? schema.properties : {})) {
        if (!required.has(k) && next() < 0.5) continue;
        const v = sample(s, root, next, depth + 1);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
  }
}

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)];
}
