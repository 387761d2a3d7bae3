/**
 * Secret redaction for audit records: what an operator may read back must never hold a password,
 * a token or an API key, whatever the agent put in the arguments.
 */

/** What replaces a secret value. */
export const REDACTED = "[REDACTED]";

/** Single words that mark a field as secret wherever they appear in its name. */
const SECRET_WORDS = new Set([
  "password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "authorization",
  "auth", "credential", "credentials", "cookie", "privatekey",
]);

/** Adjacent word pairs that mark a field as secret ("api_key", "x-api-key", "privateKey"). */
const SECRET_PAIRS = new Set(["api key", "private key", "access key", "secret key", "client secret", "session key"]);

/** Values that are secrets whatever their field is called: API tokens, confirm tokens, bearer credentials. */
const SECRET_VALUE_SOURCE = String.raw`\b(?:csk|cfm)_[A-Za-z0-9_-]{8,}|\bBearer\s+[A-Za-z0-9._~+/=-]{16,}`;
const SECRET_VALUE = new RegExp(SECRET_VALUE_SOURCE);
const SECRET_VALUES = new RegExp(SECRET_VALUE_SOURCE, "g");

const nameCache = new Map<string, boolean>();

/** Splits `clientSecret`, `client_secret`, `X-Api-Key` into lower-case words. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether a field name marks a secret (case-insensitive, by whole words, so `max_tokens` is not one). */
export function isSecretName(name: string): boolean {
  const cached = nameCache.get(name);
  if (cached !== undefined) return cached;
  const w = words(name);
  let secret = w.some((x) => SECRET_WORDS.has(x)) || SECRET_WORDS.has(w.join(""));
  for (let i = 0; !secret && i + 1 < w.length; i++) secret = SECRET_PAIRS.has(`${w[i]} ${w[i + 1]}`);
  if (nameCache.size < 10_000) nameCache.set(name, secret);
  return secret;
}

type Schema = { readonly [key: string]: unknown };

function isObject(v: unknown): v is Schema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isSensitiveSchema(s: Schema): boolean {
  return s.format === "password" || s.writeOnly === true;
}

const schemaCache = new WeakMap<object, ReadonlySet<string>>();

/**
 * The property names whose schema is `format: password` or `writeOnly: true`, found at any depth of
 * an input schema (through properties, items, combinators and local $refs). Cached per schema.
 */
export function sensitiveProperties(inputSchema: Schema | undefined): ReadonlySet<string> {
  if (!inputSchema) return new Set();
  const hit = schemaCache.get(inputSchema);
  if (hit) return hit;
  const names = new Set<string>();
  const seen = new Set<unknown>();
  const resolve = (ref: string): unknown => {
    if (!ref.startsWith("#/")) return undefined;
    let node: unknown = inputSchema;
    for (const part of ref.slice(2).split("/")) {
      if (!isObject(node)) return undefined;
      node = node[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    return node;
  };
  // Returns whether this schema (or what it wraps) is itself sensitive, recording sensitive properties on the way.
  const walk = (node: unknown, depth: number): boolean => {
    if (!isObject(node) || depth > 64 || seen.has(node)) return false;
    seen.add(node);
    let sensitive = isSensitiveSchema(node);
    if (typeof node.$ref === "string") sensitive = walk(resolve(node.$ref), depth + 1) || sensitive;
    if (isObject(node.properties)) {
      for (const [key, sub] of Object.entries(node.properties)) if (walk(sub, depth + 1)) names.add(key);
    }
    for (const key of ["items", "additionalProperties", "not", "contains"]) walk(node[key], depth + 1);
    for (const key of ["allOf", "anyOf", "oneOf", "prefixItems"]) {
      const list = node[key];
      if (Array.isArray(list)) for (const sub of list) sensitive = walk(sub, depth + 1) || sensitive;
    }
    if (isObject(node.items) && isSensitiveSchema(node.items)) sensitive = true;
    for (const key of ["$defs", "definitions", "patternProperties"]) {
      const defs = node[key];
      if (isObject(defs)) for (const sub of Object.values(defs)) walk(sub, depth + 1);
    }
    seen.delete(node);
    return sensitive;
  };
  walk(inputSchema, 0);
  schemaCache.set(inputSchema, names);
  return names;
}

/** Adds the scalar leaves of a secret value to `into` (short ones are left out: they'd match everywhere). */
function collectLeaves(value: unknown, into: Set<string>, depth = 0): void {
  if (typeof value === "string" || typeof value === "number") {
    const s = String(value);
    if (s.length >= 4) into.add(s);
  } else if (value && typeof value === "object" && depth < 8) {
    for (const v of Object.values(value)) collectLeaves(v, into, depth + 1);
  }
}

/**
 * Returns a copy of `value` with secrets replaced by "[REDACTED]": fields named like secrets, fields
 * listed in `schemaSecrets`, at any depth, and secret-looking strings anywhere. The secret values
 * removed are added to `removed` (when given) so the same values can be scrubbed from other text.
 */
export function redact(value: unknown, schemaSecrets: ReadonlySet<string> = new Set(), removed?: Set<string>, depth = 0): unknown {
  if (typeof value === "string") return SECRET_VALUE.test(value) ? value.replace(SECRET_VALUES, REDACTED) : value;
  if (value === null || typeof value !== "object") return value;
  if (depth > 32) return "[too deep]";
  if (Array.isArray(value)) return value.map((v) => redact(v, schemaSecrets, removed, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== undefined && v !== null && (schemaSecrets.has(key) || isSecretName(key))) {
      out[key] = REDACTED;
      if (removed) collectLeaves(v, removed);
    } else {
      out[key] = redact(v, schemaSecrets, removed, depth + 1);
    }
  }
  return out;
}

/** Replaces every occurrence of the given secret values in `text`. */
export function scrub(text: string, secrets: ReadonlySet<string>): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
