/**
 * The `upstreams:` section of the config file: every API and MCP server one gateway serves, each
 * checked field by field so a mistake is refused at start-up with the key that holds it.
 *
 * ```yaml
 * upstreams:
 *   workspace: { generated: generated/workspace, url: http://127.0.0.1:4010/v1, credential: { env: WORKSPACE_API_TOKEN } }
 *   everything: { mcp: { command: npx, args: ["-y", "@modelcontextprotocol/server-everything"] } }
 * ```
 */
import { resolve } from "node:path";
import { didYouMean } from "../config/suggest.js";
import { httpUrl } from "../config/url.js";

/** A secret given in the config: the variable that holds it, or (for tests and local mocks) the value. */
export type SecretRef = { readonly env: string } | { readonly value: string };

interface UpstreamBase {
  /** The key under `upstreams:`. */
  readonly name: string;
  /** Put before each tool and module name with `_` between; empty for none. */
  readonly prefix: string;
}

/** An OpenAPI API: tools from a generated folder (or generated from a spec at start-up). */
export interface OpenApiUpstreamSpec extends UpstreamBase {
  readonly kind: "openapi";
  /** Absolute path of `generated/<api>`. */
  readonly generated?: string;
  /** Absolute path of an OpenAPI document, generated in memory at start-up. */
  readonly spec?: string;
  readonly url?: string;
  readonly basePath?: string;
  readonly credential?: SecretRef;
  readonly timeoutMs?: number;
}

/** An MCP server behind the gateway: a subprocess over stdio, or Streamable HTTP. */
export interface McpUpstreamSpec extends UpstreamBase {
  readonly kind: "mcp";
  readonly command?: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, SecretRef>>;
  readonly cwd?: string;
  readonly url?: string;
  readonly headers: Readonly<Record<string, SecretRef>>;
  /** Tool name patterns (`*` wildcards) the operator declares read-only, whatever their annotations say. */
  readonly readOnly: readonly string[];
  /** Tool name patterns the operator declares writes (they win over `readOnly` and annotations). */
  readonly write: readonly string[];
  /** A subprocess not spawned at start-up beyond one listing of its tools: the first call starts it. */
  readonly lazy?: boolean;
  /** With `lazy`: a subprocess idle this long (no call in flight) is stopped until the next call. */
  readonly idleMs?: number;
}

export type UpstreamSpec = OpenApiUpstreamSpec | McpUpstreamSpec;

const NAME = /^[a-z][a-z0-9_]{0,31}$/;
const PREFIX = /^[a-z0-9_]{0,32}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fail(key: string, problem: string): never {
  throw new Error(`${key}: ${problem}`);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function knownKeys(key: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k)) fail(`${key}.${k}`, `unknown field (${allowed.join(", ")})${didYouMean(k, allowed)}`);
  }
}

function str(key: string, v: unknown): string {
  if (typeof v !== "string" || v.trim() === "") fail(key, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function strings(key: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) fail(key, "expected a list of strings");
  return v as string[];
}

/** An upstream's url or mcp.url, naming its key (a query string or fragment is kept). */
function urlOf(key: string, v: unknown): string {
  return httpUrl(str(key, v), (problem) => fail(key, problem));
}

function secret(key: string, v: unknown): SecretRef {
  if (typeof v === "string") return { value: v };
  if (!isMap(v)) fail(key, "expected { env: VARIABLE } or a string");
  knownKeys(key, v, ["env", "value"]);
  if (v.env !== undefined && v.value !== undefined) fail(key, "give env or value, not both");
  if (v.env !== undefined) {
    const name = str(`${key}.env`, v.env);
    if (!ENV_NAME.test(name)) fail(`${key}.env`, `not a variable name: ${JSON.stringify(name)}`);
    return { env: name };
  }
  if (typeof v.value === "string") return { value: v.value };
  fail(key, "expected { env: VARIABLE } or { value: STRING }");
}

function secrets(key: string, v: unknown): Record<string, SecretRef> {
  if (v === undefined) return {};
  if (!isMap(v)) fail(key, "expected a map of name → string or { env: VARIABLE }");
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, secret(`${key}.${k}`, x)]));
}

function prefixOf(key: string, name: string, v: unknown): string {
  if (v === undefined) return name;
  if (v === false || v === null) return "";
  if (typeof v !== "string" || !PREFIX.test(v)) fail(key, `expected [a-z0-9_]{0,32} (or false for none), got ${JSON.stringify(v)}`);
  return v.replace(/_+$/, "");
}

// rateLimits is read by checkUpstreamRateLimits (it needs the tiers), not kept in the spec: a changed
// limit must not restart an MCP server on reload.
const OPENAPI_KEYS = ["generated", "spec", "url", "basePath", "credential", "timeoutMs", "prefix", "rateLimits"];
const MCP_KEYS = ["mcp", "prefix", "tools", "rateLimits"];

function openApiUpstream(key: string, name: string, v: Record<string, unknown>, dir: string): OpenApiUpstreamSpec {
  knownKeys(key, v, OPENAPI_KEYS);
  if ((v.generated === undefined) === (v.spec === undefined)) fail(key, "needs exactly one of generated (a folder from 'countersign generate') or spec (an OpenAPI file), or mcp");
  const timeoutMs = v.timeoutMs;
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || (timeoutMs as number) < 1)) fail(`${key}.timeoutMs`, "expected a positive integer (milliseconds)");
  const basePath = v.basePath === undefined ? undefined : str(`${key}.basePath`, v.basePath);
  if (basePath !== undefined && !/^\/[^?#]*$/.test(basePath)) fail(`${key}.basePath`, `must be a path starting with '/', got ${JSON.stringify(basePath)}`);
  return Object.freeze({
    kind: "openapi" as const,
    name,
    prefix: prefixOf(`${key}.prefix`, name, v.prefix),
    ...(v.generated !== undefined ? { generated: resolve(dir, str(`${key}.generated`, v.generated)) } : {}),
    ...(v.spec !== undefined ? { spec: resolve(dir, str(`${key}.spec`, v.spec)) } : {}),
    ...(v.url !== undefined ? { url: urlOf(`${key}.url`, v.url) } : {}),
    ...(basePath !== undefined ? { basePath } : {}),
    ...(v.credential !== undefined ? { credential: secret(`${key}.credential`, v.credential) } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs: timeoutMs as number } : {}),
  });
}

function mcpUpstream(key: string, name: string, v: Record<string, unknown>, dir: string): McpUpstreamSpec {
  knownKeys(key, v, MCP_KEYS);
  const m = v.mcp;
  if (!isMap(m)) fail(`${key}.mcp`, "expected { command, args?, env?, cwd? } or { url, headers? }");
  knownKeys(`${key}.mcp`, m, ["command", "args", "env", "cwd", "url", "headers", "lazy", "idleMs"]);
  if ((m.command === undefined) === (m.url === undefined)) fail(`${key}.mcp`, "needs exactly one of command (a subprocess over stdio) or url (Streamable HTTP)");
  if (m.url !== undefined) for (const k of ["args", "env", "cwd", "lazy", "idleMs"]) if (m[k] !== undefined) fail(`${key}.mcp.${k}`, "only applies to a subprocess (command)");
  if (m.command !== undefined && m.headers !== undefined) fail(`${key}.mcp.headers`, "only applies to an HTTP server (url)");
  if (m.lazy !== undefined && typeof m.lazy !== "boolean") fail(`${key}.mcp.lazy`, `expected true or false, got ${JSON.stringify(m.lazy)}`);
  if (m.idleMs !== undefined && (!Number.isInteger(m.idleMs) || (m.idleMs as number) < 1)) fail(`${key}.mcp.idleMs`, `expected a positive integer (milliseconds), got ${JSON.stringify(m.idleMs)}`);
  if (m.idleMs !== undefined && m.lazy !== true) fail(`${key}.mcp.idleMs`, "only applies with lazy: true");
  const tools = v.tools ?? {};
  if (!isMap(tools)) fail(`${key}.tools`, "expected { readOnly?: [patterns], write?: [patterns] }");
  knownKeys(`${key}.tools`, tools, ["readOnly", "write"]);
  return Object.freeze({
    kind: "mcp" as const,
    name,
    prefix: prefixOf(`${key}.prefix`, name, v.prefix),
    ...(m.command !== undefined ? { command: str(`${key}.mcp.command`, m.command) } : {}),
    args: strings(`${key}.mcp.args`, m.args),
    env: secrets(`${key}.mcp.env`, m.env),
    ...(m.cwd !== undefined ? { cwd: resolve(dir, str(`${key}.mcp.cwd`, m.cwd)) } : {}),
    ...(m.url !== undefined ? { url: urlOf(`${key}.mcp.url`, m.url) } : {}),
    headers: secrets(`${key}.mcp.headers`, m.headers),
    readOnly: strings(`${key}.tools.readOnly`, tools.readOnly),
    write: strings(`${key}.tools.write`, tools.write),
    ...(m.lazy === true ? { lazy: true } : {}),
    ...(m.idleMs !== undefined ? { idleMs: m.idleMs as number } : {}),
  });
}

/**
 * Checks the `upstreams:` map; answers its entries in file order, or throws naming the key at
 * fault. Relative paths are relative to `dir` (the config file's folder).
 */
export function checkUpstreams(value: unknown, dir: string): readonly UpstreamSpec[] {
  if (value === undefined || value === null) return [];
  if (!isMap(value)) fail("upstreams", "expected a map of upstream name → { generated | spec | mcp, … }");
  const out: UpstreamSpec[] = [];
  for (const [name, v] of Object.entries(value)) {
    const key = `upstreams.${name}`;
    if (!NAME.test(name)) fail(key, "upstream names are [a-z][a-z0-9_]{0,31}");
    if (!isMap(v)) fail(key, "expected a map ({ generated | spec, url, credential } or { mcp })");
    out.push(v.mcp !== undefined ? mcpUpstream(key, name, v, dir) : openApiUpstream(key, name, v, dir));
  }
  if (out.length === 0) fail("upstreams", "is empty; name at least one upstream (or leave the section out)");
  return Object.freeze(out);
}

/** The value of a secret, read from `env` when it names a variable; throws naming the variable when unset. */
export function readSecret(ref: SecretRef, key: string, env: Readonly<Record<string, string | undefined>>): string {
  if ("value" in ref) return ref.value;
  const v = env[ref.env];
  if (v === undefined || v === "") throw new Error(`${key}: the variable ${ref.env} is not set`);
  return v;
}

/** Calls per window of one token's two buckets (src/config/types.ts TierLimits). */
interface Limits {
  readonly normal: number;
  readonly sensitive: number;
}

function limit(key: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || (v as number) < 1) fail(key, `expected a positive integer (calls per window), got ${JSON.stringify(v)}`);
  return v as number;
}

function limitsMap(key: string, v: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (!isMap(v)) fail(key, `expected { ${allowed.join(", ")} }`);
  knownKeys(key, v, allowed);
  return v;
}

/**
 * Reads each upstream's `rateLimits: { normal?, sensitive?, tiers?: { <tier>: { normal?, sensitive? } } }`
 * against the resolved tiers, into that upstream's limits by tier. On an upstream, a bucket's limit
 * for a tier is its `tiers.<tier>` number, else its own `normal` / `sensitive` (every tier alike),
 * else the tier's. Answers only the upstreams that override something; throws naming the key.
 */
export function checkUpstreamRateLimits(value: unknown, tiers: Readonly<Record<string, Limits>>): Record<string, Record<string, Limits>> {
  const out: Record<string, Record<string, Limits>> = {};
  if (!isMap(value)) return out;
  const tierNames = Object.keys(tiers);
  for (const [name, v] of Object.entries(value)) {
    if (!isMap(v) || v.rateLimits === undefined) continue;
    const key = `upstreams.${name}.rateLimits`;
    const raw = limitsMap(key, v.rateLimits, ["normal", "sensitive", "tiers"]);
    const normal = limit(`${key}.normal`, raw.normal);
    const sensitive = limit(`${key}.sensitive`, raw.sensitive);
    const perTier = raw.tiers === undefined ? {} : raw.tiers;
    if (!isMap(perTier)) fail(`${key}.tiers`, "expected a map of tier name → { normal?, sensitive? }");
    for (const tier of Object.keys(perTier)) {
      if (!tierNames.includes(tier)) fail(`${key}.tiers.${tier}`, `unknown tier (${tierNames.join(", ")})${didYouMean(tier, tierNames)}`);
    }
    const table: Record<string, Limits> = {};
    for (const [tier, base] of Object.entries(tiers)) {
      const own = perTier[tier] === undefined ? {} : limitsMap(`${key}.tiers.${tier}`, perTier[tier], ["normal", "sensitive"]);
      table[tier] = {
        normal: limit(`${key}.tiers.${tier}.normal`, own.normal) ?? normal ?? base.normal,
        sensitive: limit(`${key}.tiers.${tier}.sensitive`, own.sensitive) ?? sensitive ?? base.sensitive,
      };
    }
    out[name] = table;
  }
  return out;
}
