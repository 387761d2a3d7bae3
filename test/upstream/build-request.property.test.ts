/**
 * Properties of the request builder over any argument values, for every parameter style and
 * location of the parameter-style fixture specs (OpenAPI 3.0 and 3.1) and the cookie fixture:
 * it either refuses with invalid_arguments or builds a request whose host is the configured one,
 * whose path has exactly the template's segments (none of them a dot segment), whose query has no
 * key beyond what the declared parameters serialize to, whose headers carry no CR/LF, and whose
 * URL, read back by a real URL parser, decodes to the values sent (the upstream's view).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ArgumentBinding, ToolDescriptor } from "../../codegen/descriptor.js";
import { generate } from "../../codegen/generate.js";
import { parseModuleFile } from "../../codegen/load.js";
import { GatewayError } from "../../src/errors.js";
import { buildRequest, type BuiltRequest } from "../../src/upstream/build-request.js";

const SPECS = ["fixture-parameter-styles-3.0.json.gz", "fixture-parameter-styles-3.1.json.gz", "fixture-cookie-params.json.gz"];
const BASE = "http://up.test:8080/base";
const ORIGIN = "http://up.test:8080";
const NUM_RUNS = Number(process.env.COUNTERSIGN_PROPERTY_RUNS ?? 60);

async function toolsOf(spec: string): Promise<ToolDescriptor[]> {
  const outcome = await generate({ specPath: `test/fixtures/specs/${spec}`, command: "property", upstreamTypes: false });
  if (!outcome.ok) throw new Error(outcome.error);
  return [...outcome.files]
    .filter(([f]) => f.endsWith(".ts") && f !== "index.ts" && f !== "types.ts" && f !== "upstream.d.ts")
    .flatMap(([f, text]) => parseModuleFile(text, f));
}

// Strings that probe the encoder: separators of every style, dot segments, percent signs,
// CR/LF/NUL, non-Latin-1 and astral characters, next to arbitrary Unicode.
const tricky = fc.constantFrom(".", "..", "%2e", "%2E%2e", "/", "\\", "?", "#", "&", "=", ";", ",", "|", " ", "+", "[", "]", "%", "%25", "\r", "\n", "\0", "\t", "é", "ÿ", "€", "😀", "\u2028", ":", "@", "!", "$", "'", "(", ")", "*");
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: fc.oneof(tricky, fc.string({ minLength: 1, maxLength: 1 })), maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(".", "..", "%2e%2e", "a\r\nX-Injected: 1", "x&admin=1", "k=v", "a,b", "a|b", "a b") },
);
const key = fc.oneof(text.filter((k) => k !== "__proto__"), fc.constantFrom("admin", "primitive", "array", "object"));

/** A value shaped like the argument's schema (most runs), or any JSON value at all. */
function valueFor(type: unknown): fc.Arbitrary<unknown> {
  const shaped = type === "array" ? fc.array(text, { maxLength: 4 }) : type === "object" ? fc.dictionary(key, text, { maxKeys: 3 }) : text;
  return fc.oneof({ weight: 6, arbitrary: shaped }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
}

function argsFor(tool: ToolDescriptor): fc.Arbitrary<Record<string, unknown>> {
  const props = ((tool.inputSchema as Record<string, unknown>).properties ?? {}) as Record<string, { type?: unknown }>;
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, schema] of Object.entries(props)) shape[name] = valueFor(schema.type);
  return fc.record(shape, { requiredKeys: [] });
}

const dec = (s: string) => decodeURIComponent(s);
const isText = (v: unknown): v is string => typeof v === "string";
const isTextArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isText);
const isTextObject = (v: unknown): v is Record<string, string> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every(isText);

/** Pairs k1,v1,k2,v2 back into entries. */
function pairs(items: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < items.length; i += 2) out.push([items[i]!, items[i + 1]!]);
  return out;
}
const splitEq = (s: string): [string, string] => {
  const i = s.indexOf("=");
  return i === -1 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
};

/** What an upstream decodes from one raw path segment, per OpenAPI style. */
function decodePath(b: ArgumentBinding, raw: string, sent: unknown): unknown {
  const style = b.style || "simple";
  if (style === "simple") {
    if (isText(sent)) return dec(raw);
    if (Array.isArray(sent)) return raw.split(",").map(dec);
    return Object.fromEntries((b.explode ? raw.split(",").map(splitEq) : pairs(raw.split(","))).map(([k, v]) => [dec(k), dec(v)]));
  }
  if (style === "label") {
    const body = raw.slice(1);
    if (isText(sent)) return dec(body);
    if (Array.isArray(sent)) return body.split(b.explode ? "." : ",").map(dec);
    return Object.fromEntries((b.explode ? body.split(".").map(splitEq) : pairs(body.split(","))).map(([k, v]) => [dec(k), dec(v)]));
  }
  // matrix: ;name=v | ;name=a;name=b | ;name=a,b | ;k=v;k2=v2 | ;name=k,v,k2,v2
  const parts = raw.split(";").slice(1).map(splitEq);
  if (isText(sent)) return dec(parts[0]![1]);
  if (Array.isArray(sent)) return b.explode ? parts.map(([, v]) => dec(v)) : parts[0]![1].split(",").map(dec);
  if (b.explode) return Object.fromEntries(parts.map(([k, v]) => [dec(k), dec(v)]));
  return Object.fromEntries(pairs(parts[0]![1].split(",")).map(([k, v]) => [dec(k), dec(v)]));
}

/** The raw query as pairs, split on the raw separators (what a server does before decoding). */
function rawPairs(search: string): [string, string][] {
  return search.replace(/^\?/, "").split("&").filter((p) => p !== "").map(splitEq);
}

/** What an upstream decodes for one query (or cookie) parameter, per style; undefined when absent. */
function decodeForm(b: ArgumentBinding, style: string, all: [string, string][], sent: unknown): unknown {
  const name = b.wireName;
  const mine = all.filter(([k]) => dec(k) === name);
  const sep = style === "spaceDelimited" ? "%20" : style === "pipeDelimited" ? "%7C" : ",";
  if (isText(sent)) return mine.length === 0 ? undefined : dec(mine[0]![1]);
  if (Array.isArray(sent)) {
    if (style === "form" && b.explode) return mine.map(([, v]) => dec(v));
    return mine.length === 0 ? [] : mine[0]![1].split(sep).map(dec);
  }
  if (style === "deepObject") {
    const prefix = `${name}[`;
    return Object.fromEntries(all.filter(([k]) => dec(k).startsWith(prefix)).map(([k, v]) => [dec(k).slice(prefix.length, -1), dec(v)]));
  }
  if (style === "form" && b.explode) {
    const keys = new Set(Object.keys(sent as object));
    return Object.fromEntries(all.filter(([k]) => keys.has(dec(k))).map(([k, v]) => [dec(k), dec(v)]));
  }
  if (mine.length === 0 || mine[0]![1] === "") return {};
  return Object.fromEntries(pairs(mine[0]![1].split(sep)).map(([k, v]) => [dec(k), dec(v)]));
}

function checkRequest(tool: ToolDescriptor, args: Record<string, unknown>, r: BuiltRequest): void {
  const binding = tool.binding;
  // Host: what the builder wrote is what a parser reads, and it is the configured origin.
  const u = new URL(r.url);
  expect(u.origin).toBe(ORIGIN);
  expect(r.url.startsWith(`${ORIGIN}/`)).toBe(true);

  // Path: exactly the template's segments, none a dot segment, nothing normalized away.
  const rawPath = r.url.slice(ORIGIN.length).split(/[?#]/)[0]!;
  expect(u.pathname).toBe(rawPath);
  const template = `/base${binding.path.split("#")[0]!}`.split("/");
  const segments = rawPath.split("/");
  expect(segments).toHaveLength(template.length);
  for (const seg of segments) expect(seg).not.toMatch(/^(\.|%2e){1,2}$/i);
  template.forEach((t, i) => {
    const m = /^\{(.+)\}$/.exec(t);
    if (!m) return expect(segments[i]).toBe(t);
    const b = binding.arguments.find((a) => a.in === "path" && a.wireName === m[1])!;
    const sent = args[b.name];
    // An empty list and a list of one empty string serialize alike in every style (by the spec).
    if (isText(sent) || (isTextArray(sent) && sent.length > 0) || isTextObject(sent)) expect(decodePath(b, segments[i]!, sent)).toEqual(sent);
  });

  // Query: no key beyond the declared parameters (an exploded object's own keys are its parameters).
  if (!binding.path.includes("#")) {
    const all = rawPairs(u.search);
    const allowed = new Set<string>();
    const prefixes: string[] = [];
    for (const b of binding.arguments.filter((a) => a.in === "query")) {
      allowed.add(b.wireName);
      if (b.style === "deepObject") prefixes.push(`${b.wireName}[`);
      const v = args[b.name];
      if ((b.style || "form") === "form" && b.explode && typeof v === "object" && v !== null && !Array.isArray(v)) for (const k of Object.keys(v)) allowed.add(k);
    }
    for (const [k] of all) {
      const name = dec(k);
      expect(allowed.has(name) || prefixes.some((p) => name.startsWith(p)), `unexpected query key ${JSON.stringify(name)} in ${r.url}`).toBe(true);
    }
    for (const b of binding.arguments.filter((a) => a.in === "query")) {
      const sent = args[b.name];
      if (!(isText(sent) || isTextArray(sent) || isTextObject(sent))) continue;
      const got = decodeForm(b, b.style || "form", all, sent);
      if (isText(sent) || (Array.isArray(sent) && sent.length > 0) || !Array.isArray(sent)) expect(got).toEqual(sent);
    }
  }

  // Headers: no CR, LF or NUL anywhere; no header but the declared ones and the gateway's own.
  const declared = new Set(binding.arguments.filter((a) => a.in === "header").map((a) => a.wireName.toLowerCase()));
  for (const [name, value] of Object.entries(r.headers)) {
    expect(value).not.toMatch(/[\r\n\0]/);
    expect(declared.has(name) || ["accept", "cookie", "content-type"].includes(name), `unexpected header ${name}`).toBe(true);
  }
  for (const b of binding.arguments.filter((a) => a.in === "header")) {
    const sent = args[b.name];
    // Simple style carries no escaping: a comma or surrounding spaces can't round-trip, by the spec.
    if (isText(sent) && !sent.includes(",")) expect(r.headers[b.wireName.toLowerCase()]?.trim()).toBe(sent.trim());
  }

  // Cookies: form style inside one Cookie header, each value percent-encoded.
  const cookieArgs = binding.arguments.filter((a) => a.in === "cookie");
  if (cookieArgs.length > 0) {
    const jar = (r.headers.cookie ?? "").split("; ").filter((c) => c !== "").map(splitEq);
    for (const b of cookieArgs) {
      const sent = args[b.name];
      if (isText(sent)) expect(decodeForm(b, "form", jar, sent)).toBe(sent);
      if (isTextArray(sent) && sent.length > 0) expect(decodeForm(b, "form", jar, sent)).toEqual(sent);
    }
  }
}

describe.each(SPECS)("buildRequest over any arguments (%s)", (spec) => {
  it("refuses with invalid_arguments or builds a request that keeps host, path, query and headers intact", async () => {
    const tools = await toolsOf(spec);
    expect(tools.length).toBeGreaterThan(0);
    let built = 0;
    for (const tool of tools) {
      fc.assert(
        fc.property(argsFor(tool), (args) => {
          let r: BuiltRequest;
          try {
            r = buildRequest(tool, args, { baseUrl: BASE });
          } catch (err) {
            expect(err).toBeInstanceOf(GatewayError);
            expect((err as GatewayError).code).toBe("invalid_arguments");
            return;
          }
          built++;
          checkRequest(tool, args, r);
        }),
        { numRuns: NUM_RUNS },
      );
    }
    // The properties say something only if most runs got past the refusals.
    expect(built).toBeGreaterThan(tools.length * NUM_RUNS * 0.3);
  });
});
