/**
 * The gateway's configuration, resolved once from flags, environment and an optional config file
 * (flags win over environment, environment over the file, the file over defaults), fully
 * defaulted, validated and frozen.
 *
 * What each setting is called outside (file key, environment variable, flag), its type, unit,
 * default and bounds live in one table, src/config/settings.ts; this module reads that table.
 * A new setting is a row there plus its property in the interfaces below.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createRequire } from "node:module";
import { GatewayError } from "./errors.js";
import { checkKeyPrefix, parseRedisUrl } from "./stores/redis/redis-url.js";
import { checkExclusions, type ExclusionRule } from "./stages/policy.js";
import { checkApprovalRules } from "./approvals/policy.js";
import { readSecretKey } from "./tokens/sealed-credential.js";
import { SETTINGS, type Alias, type Setting } from "./config/settings.js";
import { ENV_PREFIX, knownEnvNames } from "./config/variables.js";
import { defaultPaths, type DefaultPaths } from "./config/paths.js";
import { didYouMean } from "./config/suggest.js";
import { httpUrl } from "./config/url.js";
import { checkUpstreamRateLimits, checkUpstreams } from "./upstreams/config.js";

export type { UpstreamConfig, HttpConfig, McpConfig, AuthConfig, TierLimits, RateLimitConfig, ConfirmConfig, CodeConfig, AuditConfig, RedisConfig, SurfaceConfig, ConsoleConfig, OAuthConfig, Config, ConfigSources } from "./config/types.js";
import type { Config, ConfigSources, TierLimits } from "./config/types.js";

/** Reads a JSON or YAML config file into a plain object (errors name the file). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new GatewayError("bad_request", `config file ${path}: cannot read (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    // Required on demand: the YAML parser costs start-up time that runs without a config file don't need.
    const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
    parsed = parse(text);
  } catch (err) {
    throw new GatewayError("bad_request", `config file ${path}: not valid YAML/JSON (${(err as Error).message})`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new GatewayError("bad_request", `config file ${path}: must hold an object at the top level`);
  }
  return parsed as Record<string, unknown>;
}

function fail(label: string, problem: string): never {
  throw new GatewayError("bad_request", `config ${label}: ${problem}`);
}

/** A value picked for one setting, and where it came from. */
interface Picked {
  readonly value: unknown;
  readonly origin: "flag" | "env" | "file" | "default";
  /** The name the value was given under: `--port`, `PORT`, `http.port`. */
  readonly name: string;
  /** The value times this is in the setting's own unit (an alias in seconds: 1000). */
  readonly multiplier: number;
}

function filePath(file: unknown, key: string): unknown {
  let node = file;
  for (const part of key.split(".")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Flag, then environment (the variable, then its aliases), then the file (the key, then its aliases), then the default. */
function pick(s: Setting, src: ConfigSources, warnings: string[]): Picked | undefined {
  if (s.flag !== undefined) {
    const v = src.flags?.[s.flag];
    if (v !== undefined) return { value: v, origin: "flag", name: `--${s.flag}`, multiplier: 1 };
  }
  const envNames: Alias[] = [...(s.env ? [{ name: s.env }] : []), ...(s.envAliases ?? [])];
  for (const alias of envNames) {
    const v = src.env?.[alias.name];
    if (v === undefined || v === "") continue;
    if (alias.deprecated) warnings.push(`${alias.name} is deprecated; use ${s.env}${alias.multiplier ? ` (in milliseconds)` : ""}`);
    return { value: v, origin: "env", name: alias.name, multiplier: alias.multiplier ?? 1 };
  }
  for (const alias of [{ name: s.key }, ...(s.fileAliases ?? [])] as Alias[]) {
    const v = filePath(src.file, alias.name);
    if (v === undefined || v === null) continue;
    if (alias.deprecated) warnings.push(`config key '${alias.name}' is deprecated; use '${s.key}'${alias.multiplier ? " (in milliseconds)" : ""}`);
    return { value: v, origin: "file", name: alias.name, multiplier: alias.multiplier ?? 1 };
  }
  const override = src.defaults?.[s.key];
  if (override !== undefined) return { value: override, origin: "default", name: s.key, multiplier: 1 };
  if (s.default !== undefined) return { value: s.default, origin: "default", name: s.key, multiplier: 1 };
  return undefined;
}

/** How a key is named in an error: the key, and the variable or flag when the value came from one. */
function labelOf(s: Setting, p: Picked): string {
  if (p.origin === "env" || p.origin === "flag") return `${s.key} (${p.name})`;
  return p.name;
}

function asString(label: string, value: unknown): string {
  if (typeof value !== "string") fail(label, `expected a string, got ${Array.isArray(value) ? "a list" : typeof value}`);
  return value;
}

function asInt(label: string, value: unknown, min: number, max: number): number {
  const n = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n)) fail(label, `expected an integer, got ${JSON.stringify(value)}`);
  if (n < min || n > max) fail(label, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function asBool(label: string, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(1|true|yes|on)$/i.test(value)) return true;
  if (typeof value === "string" && /^(0|false|no|off)$/i.test(value)) return false;
  fail(label, `expected a boolean (true/false, 1/0, yes/no, on/off), got ${JSON.stringify(value)}`);
}

function asList(label: string, value: unknown): readonly string[] {
  if (typeof value === "string") return value.split(",").map((v) => v.trim()).filter(Boolean);
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  fail(label, "expected a list of strings (or a comma-separated string)");
}

/** Reads one setting's value in its own unit (undefined when unset and without a default). */
function readSetting(s: Setting, p: Picked, src: ConfigSources, paths: DefaultPaths): unknown {
  const label = labelOf(s, p);
  const { value } = p;
  switch (s.type) {
    case "string":
      return asString(label, value);
    case "int": {
      const min = s.min ?? 0;
      const max = s.max ?? Number.MAX_SAFE_INTEGER;
      // An alias in another unit is checked in its own unit, so the bounds in the message read right.
      const n = asInt(label, value, Math.ceil(min / p.multiplier), Math.floor(max / p.multiplier)) * p.multiplier;
      if (s.divisor !== undefined && n % s.divisor !== 0) {
        fail(label, `must be a whole number of ${s.divisor === 60_000 ? "minutes" : "seconds"} (a multiple of ${s.divisor} ms), got ${n}`);
      }
      return s.divisor !== undefined ? n / s.divisor : n;
    }
    case "bool":
      return asBool(label, value);
    case "list":
      return asList(label, value);
    case "enum": {
      const v = asString(label, value);
      const values = s.values ?? [];
      if (!values.includes(v)) fail(label, `must be one of ${values.join(", ")}; got ${JSON.stringify(v)}${didYouMean(v, values)}`);
      return v;
    }
    case "url":
      return httpUrl(asString(label, value), (problem) => fail(label, problem), { refuseQuery: true });
    case "basePath": {
      const v = asString(label, value);
      if (v !== "" && !/^\/[^?#]*$/.test(v)) fail(label, `must be empty or a path starting with '/', got ${JSON.stringify(v)}`);
      return v;
    }
    case "path": {
      const v = asString(label, value);
      if (v.trim() === "") fail(label, "must not be empty");
      if (p.origin === "file") return resolve(src.fileDir ?? src.cwd ?? process.cwd(), v);
      if (p.origin === "default") return s.key === "dataDir" && v === ".data" ? paths.dataDir : resolve(paths.root, v);
      return resolve(src.cwd ?? process.cwd(), v);
    }
    case "secretKey": {
      const v = asString(label, value);
      const key = readSecretKey({ COUNTERSIGN_SECRET_KEY: v });
      if (!key.ok) fail(label, key.reason.replace(/^COUNTERSIGN_SECRET_KEY /, ""));
      return v.trim();
    }
    case "redisUrl": {
      const v = asString(label, value);
      const parsed = parseRedisUrl(v);
      if (!parsed.ok) fail(label, parsed.error);
      return v;
    }
    case "keyPrefix": {
      const v = asString(label, value);
      const bad = checkKeyPrefix(v);
      if (bad) fail(label, bad);
      return v;
    }
    case "tiers":
    case "exclusions":
    case "upstreams":
    case "approvalRules":
      return value;
  }
}

function tiersOf(value: unknown, base: TierLimits): Record<string, TierLimits> {
  const raw = value ?? {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("rateLimits.tiers", "expected a map of tier name → { normal, sensitive }");
  const tiers: Record<string, TierLimits> = { default: base };
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    const key = `rateLimits.tiers.${name}`;
    if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name)) fail(key, "tier names use letters, digits, - and _");
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(key, "expected { normal, sensitive }");
    const limits = v as Record<string, unknown>;
    for (const k of Object.keys(limits)) if (k !== "normal" && k !== "sensitive") fail(`${key}.${k}`, `unknown field (normal, sensitive)${didYouMean(k, ["normal", "sensitive"])}`);
    // The default tier's two limits are settings of their own (they have variables), read above.
    if (name === "default") continue;
    tiers[name] = {
      normal: limits.normal === undefined ? base.normal : asInt(`${key}.normal`, limits.normal, 1, Number.MAX_SAFE_INTEGER),
      sensitive: limits.sensitive === undefined ? base.sensitive : asInt(`${key}.sensitive`, limits.sensitive, 1, Number.MAX_SAFE_INTEGER),
    };
  }
  return tiers;
}

function exclusionsOf(p: Picked | undefined): readonly ExclusionRule[] {
  const value =
    p?.origin === "env" ? asList(`exclusions (${p.name})`, p.value).map((tool) => ({ tool, reason: `excluded by ${p.name}` })) : p?.value;
  try {
    return checkExclusions(value);
  } catch (err) {
    throw new GatewayError("bad_request", `config ${(err as Error).message}`);
  }
}

function upstreamsOf(value: unknown, src: ConfigSources): Config["upstreams"] {
  try {
    return checkUpstreams(value, src.fileDir ?? src.cwd ?? process.cwd());
  } catch (err) {
    throw new GatewayError("bad_request", `config ${(err as Error).message}`);
  }
}

function ruleListOf<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new GatewayError("bad_request", `config ${(err as Error).message}`);
  }
}

/** Keys whose value is a free-form map or list, checked by their own reader rather than key by key. */
const OPEN_KEYS = new Set(SETTINGS.filter((s) => s.type === "tiers" || s.type === "exclusions" || s.type === "upstreams" || s.type === "approvalRules").map((s) => s.key));

/** Every key a config file may hold (the table's keys and their aliases). */
function fileKeys(): string[] {
  return SETTINGS.flatMap((s) => [s.key, ...(s.fileAliases ?? []).map((a) => a.name)]);
}

/** Refuses keys of the config file that no setting reads, naming the nearest valid one. */
export function checkFileKeys(file: Readonly<Record<string, unknown>>): void {
  const keys = fileKeys();
  const leaves = new Set(keys);
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [name, value] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (leaves.has(key) || OPEN_KEYS.has(key)) continue;
      const isSection = keys.some((k) => k.startsWith(`${key}.`));
      if (isSection) {
        if (value === null || value === undefined) continue;
        if (typeof value !== "object" || Array.isArray(value)) fail(key, `expected a section (a map of ${keys.filter((k) => k.startsWith(`${key}.`)).map((k) => k.slice(key.length + 1)).join(", ")})`);
        walk(value as Record<string, unknown>, key);
        continue;
      }
      throw new GatewayError("bad_request", `unknown config key '${key}'${didYouMean(key, keys) || " (see docs/configuration.md for the keys)"}`);
    }
  };
  walk(file, "");
}

/** Refuses `COUNTERSIGN_*` variables that nothing reads, naming the nearest known one. */
export function checkEnvNames(env: Readonly<Record<string, string | undefined>>): void {
  const known = knownEnvNames();
  const ours = [...known].filter((n) => n.startsWith(ENV_PREFIX));
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX) || known.has(name)) continue;
    throw new GatewayError("bad_request", `unknown environment variable '${name}'${didYouMean(name, ours) || " (see docs/configuration.md for the variables)"}`);
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts[parts.length - 1]] = value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The configuration and the warnings met while resolving it (deprecated names). */
export interface Resolved {
  readonly config: Config;
  readonly warnings: readonly string[];
  /** Where each set value came from, by config key: `--port`, `PORT`, `http.port` (the file), or `default`. */
  readonly sources: Readonly<Record<string, string>>;
}

/** Resolves, validates and freezes the configuration, with its warnings; throws GatewayError("bad_request") naming the key. */
export function resolveConfigWithWarnings(src: ConfigSources = {}): Resolved {
  if (src.env) checkEnvNames(src.env);
  if (src.file) checkFileKeys(src.file);
  const paths = src.paths ?? defaultPaths(src.env ?? {}, src.cwd);
  const warnings: string[] = [];
  const out: Record<string, unknown> = {};
  const picked = new Map<string, Picked | undefined>();
  const sources: Record<string, string> = {};
  for (const s of SETTINGS) {
    const p = pick(s, src, warnings);
    picked.set(s.key, p);
    if (p) sources[s.key] = p.origin === "default" ? "default" : p.origin === "file" ? `config file (${p.name})` : p.name;
    if (s.type === "tiers" || s.type === "exclusions" || s.type === "upstreams" || s.type === "approvalRules") continue;
    const value = p === undefined ? undefined : readSetting(s, p, src, paths);
    if (value !== undefined) setPath(out, s.into ?? s.key, value);
  }
  const rate = out.rateLimits as { windowSeconds: number; tiers: Record<string, TierLimits> };
  rate.tiers = tiersOf(picked.get("rateLimits.tiers")?.value, rate.tiers.default!);
  out.exclusions = exclusionsOf(picked.get("exclusions"));
  out.upstreams = upstreamsOf(picked.get("upstreams")?.value, src);
  const upstreamLimits = ruleListOf(() => checkUpstreamRateLimits(picked.get("upstreams")?.value, rate.tiers));
  if (Object.keys(upstreamLimits).length > 0) (rate as { upstreams?: unknown }).upstreams = upstreamLimits;
  (out.approvals as { rules: unknown }).rules = ruleListOf(() => checkApprovalRules(picked.get("approvals.rules")?.value));
  const surface = out.surface as { modules?: readonly string[] };
  if (surface.modules?.length === 0) delete surface.modules;
  return { config: deepFreeze(out as unknown as Config), warnings, sources };
}

/** Resolves, validates and freezes the configuration; throws GatewayError("bad_request") naming the key. */
export function resolveConfig(src: ConfigSources = {}): Config {
  return resolveConfigWithWarnings(src).config;
}

/** Options of `loadConfig` beyond its sources. */
export interface LoadOptions {
  /** Where deprecation warnings go (default: stderr). */
  readonly warn?: (message: string) => void;
  /** Per-command defaults by config key (see ConfigSources.defaults). */
  readonly defaults?: ConfigSources["defaults"];
}

/** Resolves the configuration for a CLI command: reads `--config` / `COUNTERSIGN_CONFIG` when given. */
export function loadConfig(flags: ConfigSources["flags"], env: ConfigSources["env"] = process.env, options: LoadOptions = {}): Config {
  return loadConfigWithSources(flags, env, options).config;
}

/** loadConfig, also telling where each value came from (`countersign config`). */
export function loadConfigWithSources(flags: ConfigSources["flags"], env: ConfigSources["env"] = process.env, options: LoadOptions = {}): Resolved {
  const path = (typeof flags?.config === "string" ? flags.config : undefined) ?? (env.COUNTERSIGN_CONFIG || undefined);
  const file = path ? readConfigFile(path) : undefined;
  const resolved = resolveConfigWithWarnings({ flags, env, file, fileDir: path ? dirname(resolve(path)) : undefined, defaults: options.defaults });
  const warn = options.warn ?? ((m: string) => process.stderr.write(`countersign: warning: ${m}\n`));
  for (const w of resolved.warnings) warn(w);
  return resolved;
}

/** The agent token for `stdio` and `connect`: `COUNTERSIGN_MCP_TOKEN`, or its alias `MCP_TOKEN`. */
export function agentToken(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  return env.COUNTERSIGN_MCP_TOKEN?.trim() || env.MCP_TOKEN?.trim() || undefined;
}
