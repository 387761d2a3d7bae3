/**
 * Schema-valid sample arguments for a tool (required arguments only), for the Prism oracle test.
 * Deliberately simple: values that satisfy common constraints; callers validate the result and
 * skip tools whose patterns it cannot satisfy.
 */
type Schema = Record<string, unknown> | boolean;

const FORMATS: Record<string, string> = {
  "date-time": "2024-01-02T03:04:05Z",
  date: "2024-01-02",
  time: "03:04:05Z",
  email: "octo@example.com",
  uri: "https://example.com/x",
  url: "https://example.com/x",
  "uri-reference": "https://example.com/x",
  uuid: "123e4567-e89b-12d3-a456-426614174000",
  ipv4: "127.0.0.1",
  ipv6: "::1",
  hostname: "example.com",
  byte: "aGVsbG8=",
  binary: "aGVsbG8=",
  password: "secret-1",
};

function resolve(schema: Schema, root: Record<string, unknown>): Schema {
  let s = schema;
  for (let i = 0; i < 20 && typeof s === "object" && typeof s.$ref === "string"; i++) {
    const name = (s.$ref as string).replace(/^#\/\$defs\//, "");
    s = ((root.$defs as Record<string, Schema> | undefined)?.[name] ?? true) as Schema;
  }
  return s;
}

/** A value valid against `schema` (as far as this sampler can tell), or undefined. */
export function sampleValue(schema: Schema, root: Record<string, unknown>, depth = 0): unknown {
  const s = resolve(schema, root);
  if (s === true || s === false || depth > 12) return "sample";
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum.find((v) => v !== null) ?? s.enum[0];
  if ("default" in s && s.default !== null && typeof s.default !== "object") return s.default;
  if (Array.isArray(s.allOf)) {
    const parts = s.allOf.map((p) => sampleValue(p as Schema, root, depth + 1));
    if (parts.every((p) => typeof p === "object" && p !== null && !Array.isArray(p))) return Object.assign({}, ...parts);
    return parts[0];
  }
  for (const key of ["oneOf", "anyOf"] as const) {
    if (Array.isArray(s[key])) {
      const options = (s[key] as Schema[]).map((o) => resolve(o, root)).filter((o) => typeof o !== "object" || o.type !== "null");
      // A non-numeric string matches only the string branch; "1" in a path would match integer and string alike.
      const pick = options.find((o) => typeof o === "object" && o.type === "string" && !o.format && !o.enum && !o.pattern) ?? options[0];
      return sampleValue(pick ?? true, root, depth + 1);
    }
  }
  const type = Array.isArray(s.type) ? (s.type as string[]).find((t) => t !== "null") : (s.type as string | undefined);
  switch (type ?? (s.properties ? "object" : s.items ? "array" : "string")) {
    case "string": {
      if (typeof s.format === "string" && FORMATS[s.format]) return FORMATS[s.format];
      if (s.contentEncoding === "base64") return "aGVsbG8=";
      const min = typeof s.minLength === "number" ? s.minLength : 1;
      const max = typeof s.maxLength === "number" ? s.maxLength : Math.max(min, 6);
      return "sample".repeat(Math.ceil(min / 6) + 1).slice(0, Math.max(min, Math.min(6, max)));
    }
    case "integer":
    case "number": {
      let n = typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + 1 : 1;
      if (typeof s.maximum === "number" && n > s.maximum) n = s.maximum;
      if (typeof s.multipleOf === "number") n = Math.ceil(n / s.multipleOf) * s.multipleOf;
      return type === "integer" ? Math.ceil(n) : n;
    }
    case "boolean":
      return true;
    case "null":
      return null;
    case "array": {
      const count = Math.max(1, typeof s.minItems === "number" ? s.minItems : 1);
      const item = sampleValue((s.items as Schema | undefined) ?? true, root, depth + 1);
      return Array.from({ length: count }, () => item);
    }
    default: {
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const name of (s.required as string[] | undefined) ?? []) out[name] = sampleValue(props[name] ?? true, root, depth + 1);
      return out;
    }
  }
}

/** Sample arguments for a tool's inputSchema (required arguments only). */
export function sampleArguments(inputSchema: Record<string, unknown>): Record<string, unknown> {
  return sampleValue(inputSchema, inputSchema) as Record<string, unknown>;
}
