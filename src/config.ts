/**
 * The gateway's configuration, resolved once from flags, environment and an optional config file
 * (flags win over environment, environment over the file), fully defaulted, validated and frozen.
 *
 * Each section has its own small resolver below; feature owners extend their section there.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createRequire } from "node:module";
import { GatewayError } from "./errors.js";
import { checkKeyPrefix, parseRedisUrl } from "./stores/redis/redis-url.js";
import { checkExclusions, type ExclusionRule } from "./stages/policy.js";
import { EXPOSURE_MODES, isModeSetting, type ModeSetting } from "./surface/exposure.js";
import { isSchemaProfile, SCHEMA_PROFILES, type SchemaProfile } from "./surface/schema-profile.js";

/** Where the upstream API lives and how the gateway talks to it. */
export interface UpstreamConfig {
  /** Base URL; its path, when not `/`, replaces the spec's server base path. */
  readonly url?: string;
  /** Replaces the spec's server base path (`/` for none), e.g. for a mock server that serves paths bare. */
  readonly basePath?: string;
  /** Service credential applied as each operation's security scheme requires. */
  readonly token?: string;
  readonly timeoutMs: number;
  /** Response bodies over this many bytes are truncated with a note. */
  readonly maxResponseBytes: number;
}

/** The Streamable HTTP transport. */
export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  readonly stateless: boolean;
  /** Host header values accepted (hostnames, optionally with port); `*` disables the check. */
  readonly allowedHosts: readonly string[];
  /** Origin header values accepted (full origins or hostnames); `*` disables the check. */
  readonly allowedOrigins: readonly string[];
  readonly maxBodyBytes: number;
  readonly sessionIdleMs: number;
  readonly maxSessions: number;
  /** A tools/call still running after this long has its SSE stream closed; the client resumes and polls (0 = never). */
  readonly pollAfterMs: number;
  /** Reconnection delay suggested to clients in SSE `retry:` fields. */
  readonly sseRetryMs: number;
}

/** The MCP server adapter. */
export interface McpConfig {
  /** tools/list page size. */
  readonly pageSize: number;
}

/** Token checks (security engineer). */
export interface AuthConfig {
  /** A token's last-used time is written at most this often (a write per call would be wasteful). */
  readonly lastUsedIntervalMs: number;
}

/** Calls per window of one token's two buckets. */
export interface TierLimits {
  /** Every call. */
  readonly normal: number;
  /** Sensitive writes, counted when they execute. */
  readonly sensitive: number;
}

/** Rate-limit buckets per tier (security engineer). */
export interface RateLimitConfig {
  readonly windowSeconds: number;
  /** By tier name; always has `default` (1000 normal / 100 sensitive per minute unless changed). */
  readonly tiers: Readonly<Record<string, TierLimits>>;
}

/** Pending actions (confirm engineer). */
export interface ConfirmConfig {
  /** Lifetime of a confirm token, in seconds. */
  readonly ttlSeconds: number;
  /** Ask the person directly (MCP elicitation) when the client supports it, instead of only returning a token. */
  readonly elicitation: boolean;
}

/** Audit trail (audit engineer). */
export interface AuditConfig {
  /** Folder of the JSON Lines audit files; default `<dataDir>/audit`. */
  readonly dir?: string;
  /** The current file is rotated once it reaches this many bytes. */
  readonly maxFileBytes: number;
  /** Rotated files kept beside the current one (the oldest is deleted). */
  readonly maxFiles: number;
  /** Records held in memory while the disk catches up; a full buffer makes calls wait. */
  readonly bufferRecords: number;
  /** Cap for stored arguments and result excerpts, in bytes. */
  readonly capBytes: number;
}

/** Distributed mode (src/stores/redis). */
export interface RedisConfig {
  /** REDIS_URL: redis://, rediss://, redis+cluster:// or redis+sentinel:// (see src/stores/redis/redis-url.ts); unset = embedded stores. */
  readonly url?: string;
  /** Prepended to every key and channel, so several gateways can share one Redis (default `countersign:`). */
  readonly keyPrefix: string;
}

/** Exposure of a large surface (surface engineer). */
export interface SurfaceConfig {
  /** Exposure mode: `auto` (all up to 128 tools in scope, else dynamic), `all`, `modules`, `dynamic`; HTTP `?mode=` overrides. */
  readonly mode: ModeSetting;
  /** Modules listed in `modules` mode when the connection names none (`COUNTERSIGN_MODULES`; HTTP `?modules=` overrides). */
  readonly modules?: readonly string[];
  /** Tool schemas as `default` (generated) or `strict` (no top-level combinators, type arrays, $ref, format). */
  readonly schemaProfile: SchemaProfile;
  /** List generated tools' outputSchema in tools/list (default off: it is most of the list's size; describe_tool always has it). */
  readonly listOutputSchemas: boolean;
}

/** The console for people (src/console): served under /console on the gateway's port. */
export interface ConsoleConfig {
  readonly enabled: boolean;
  /** A console session ends after this long without a request. */
  readonly idleMinutes: number;
  /** Trust X-Forwarded-Proto from the proxy in front (cookies become Secure behind HTTPS). */
  readonly trustProxy: boolean;
  /** Where Activity and Analytics read: `sqlite` (embedded, in the data dir) or `memory` (the newest 100,000 records). */
  readonly auditIndex: "sqlite" | "memory";
}

/** Everything the gateway needs to know at start-up. */
export interface Config {
  /** Folder holding one API's generated tools (`generated/<api>`). */
  readonly generatedDir: string;
  readonly dataDir: string;
  readonly logLevel: string;
  readonly upstream: UpstreamConfig;
  readonly http: HttpConfig;
  readonly mcp: McpConfig;
  readonly auth: AuthConfig;
  readonly rateLimits: RateLimitConfig;
  readonly confirm: ConfirmConfig;
  readonly audit: AuditConfig;
  readonly redis: RedisConfig;
  readonly surface: SurfaceConfig;
  readonly console: ConsoleConfig;
  /** Operations refused at run time on top of the spec's own exclusions, without regenerating. */
  readonly exclusions: readonly ExclusionRule[];
}

/** Raw inputs: parsed CLI flags, the environment, and the parsed config file. */
export interface ConfigSources {
  readonly flags?: Readonly<Record<string, string | boolean | undefined>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly file?: Readonly<Record<string, unknown>>;
}

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

/** Looks up one setting: flag, then environment variable, then a dotted path in the file. */
function lookup(src: ConfigSources, flag: string | undefined, envName: string | undefined, filePath: string): unknown {
  const fromFlag = flag === undefined ? undefined : src.flags?.[flag];
  if (fromFlag !== undefined) return fromFlag;
  const fromEnv = envName === undefined ? undefined : src.env?.[envName];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  let node: unknown = src.file;
  for (const part of filePath.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function fail(key: string, problem: string): never {
  throw new GatewayError("bad_request", `config ${key}: ${problem}`);
}

/** Typed readers: each names the key when the value is wrong. */
const read = {
  string(key: string, value: unknown, fallback?: string): string | undefined {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string") fail(key, `expected a string, got ${typeof value}`);
    return value;
  },
  int(key: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (value === undefined || value === null) return fallback;
    const n = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n)) fail(key, `expected an integer, got ${JSON.stringify(value)}`);
    if (n < min || n > max) fail(key, `must be between ${min} and ${max}, got ${n}`);
    return n;
  },
  bool(key: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value === "boolean") return value;
    if (typeof value === "string" && /^(1|true|yes|on)$/i.test(value)) return true;
    if (typeof value === "string" && /^(0|false|no|off)$/i.test(value)) return false;
    fail(key, `expected a boolean, got ${JSON.stringify(value)}`);
  },
  list(key: string, value: unknown, fallback: readonly string[]): readonly string[] {
    if (value === undefined || value === null) return fallback;
    if (typeof value === "string") return value.split(",").map((s) => s.trim()).filter(Boolean);
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
    fail(key, "expected a list of strings (or a comma-separated string)");
  },
  basePath(key: string, value: unknown): string | undefined {
    const s = read.string(key, value);
    if (s !== undefined && s !== "" && !/^\/[^?#]*$/.test(s)) fail(key, `must be empty or a path starting with '/', got ${JSON.stringify(s)}`);
    return s;
  },
  url(key: string, value: unknown): string | undefined {
    const s = read.string(key, value);
    if (s === undefined) return undefined;
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      fail(key, `not a valid URL: ${JSON.stringify(s)}`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") fail(key, `must be an http(s) URL, got ${u.protocol}`);
    if (u.search || u.hash) fail(key, "must not carry a query string or fragment");
    return s.replace(/\/+$/, "");
  },
};

const LOCALHOST = ["localhost", "127.0.0.1", "[::1]"];

function resolveUpstream(src: ConfigSources): UpstreamConfig {
  return {
    url: read.url("upstream.url", lookup(src, "upstream", "COUNTERSIGN_UPSTREAM_URL", "upstream.url")),
    basePath: read.basePath("upstream.basePath", lookup(src, "upstream-base-path", "COUNTERSIGN_UPSTREAM_BASE_PATH", "upstream.basePath")),
    token: read.string("upstream.token", lookup(src, undefined, "COUNTERSIGN_UPSTREAM_TOKEN", "upstream.token")),
    timeoutMs: read.int("upstream.timeoutMs", lookup(src, "upstream-timeout", "COUNTERSIGN_UPSTREAM_TIMEOUT_MS", "upstream.timeoutMs"), 30_000, 1, 3_600_000),
    maxResponseBytes: read.int("upstream.maxResponseBytes", lookup(src, undefined, "COUNTERSIGN_MAX_RESPONSE_BYTES", "upstream.maxResponseBytes"), 1_048_576, 1024),
  };
}

function resolveHttp(src: ConfigSources): HttpConfig {
  return {
    host: read.string("http.host", lookup(src, "host", "HOST", "http.host"), "127.0.0.1")!,
    port: read.int("http.port", lookup(src, "port", "PORT", "http.port"), 8787, 0, 65535),
    stateless: read.bool("http.stateless", lookup(src, "stateless", "COUNTERSIGN_STATELESS", "http.stateless"), false),
    allowedHosts: read.list("http.allowedHosts", lookup(src, "allowed-hosts", "COUNTERSIGN_ALLOWED_HOSTS", "http.allowedHosts"), LOCALHOST),
    allowedOrigins: read.list("http.allowedOrigins", lookup(src, "allowed-origins", "COUNTERSIGN_ALLOWED_ORIGINS", "http.allowedOrigins"), LOCALHOST),
    maxBodyBytes: read.int("http.maxBodyBytes", lookup(src, undefined, "COUNTERSIGN_MAX_BODY_BYTES", "http.maxBodyBytes"), 4_194_304, 1024),
    sessionIdleMs: read.int("http.sessionIdleMs", lookup(src, undefined, "COUNTERSIGN_SESSION_IDLE_MS", "http.sessionIdleMs"), 30 * 60_000, 1000),
    maxSessions: read.int("http.maxSessions", lookup(src, undefined, "COUNTERSIGN_MAX_SESSIONS", "http.maxSessions"), 1000, 1),
    pollAfterMs: read.int("http.pollAfterMs", lookup(src, undefined, "COUNTERSIGN_POLL_AFTER_MS", "http.pollAfterMs"), 0, 0),
    sseRetryMs: read.int("http.sseRetryMs", lookup(src, undefined, "COUNTERSIGN_SSE_RETRY_MS", "http.sseRetryMs"), 1000, 1),
  };
}

function resolveMcp(src: ConfigSources): McpConfig {
  return { pageSize: read.int("mcp.pageSize", lookup(src, undefined, "COUNTERSIGN_PAGE_SIZE", "mcp.pageSize"), 500, 1, 100_000) };
}

function resolveAuth(src: ConfigSources): AuthConfig {
  return {
    lastUsedIntervalMs: read.int("auth.lastUsedIntervalMs", lookup(src, undefined, undefined, "auth.lastUsedIntervalMs"), 60_000, 0),
  };
}

function resolveRateLimits(src: ConfigSources): RateLimitConfig {
  const windowSeconds = read.int("rateLimits.windowSeconds", lookup(src, undefined, "COUNTERSIGN_RATE_WINDOW_SECONDS", "rateLimits.windowSeconds"), 60, 1, 86_400);
  const fileTiers = lookup(src, undefined, undefined, "rateLimits.tiers") ?? {};
  if (typeof fileTiers !== "object" || fileTiers === null || Array.isArray(fileTiers)) fail("rateLimits.tiers", "expected a map of tier name → { normal, sensitive }");
  const fileDefault = (fileTiers as Record<string, Record<string, unknown> | undefined>).default;
  const base: TierLimits = {
    normal: read.int("rateLimits.tiers.default.normal", lookup(src, undefined, "COUNTERSIGN_RATE_NORMAL", "rateLimits.tiers.default.normal") ?? fileDefault?.normal, 1000, 1),
    sensitive: read.int("rateLimits.tiers.default.sensitive", lookup(src, undefined, "COUNTERSIGN_RATE_SENSITIVE", "rateLimits.tiers.default.sensitive") ?? fileDefault?.sensitive, 100, 1),
  };
  const tiers: Record<string, TierLimits> = { default: base };
  for (const [name, value] of Object.entries(fileTiers as Record<string, unknown>)) {
    if (name === "default") continue;
    const key = `rateLimits.tiers.${name}`;
    if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name)) fail(key, "tier names use letters, digits, - and _");
    if (typeof value !== "object" || value === null || Array.isArray(value)) fail(key, "expected { normal, sensitive }");
    const v = value as Record<string, unknown>;
    for (const k of Object.keys(v)) if (k !== "normal" && k !== "sensitive") fail(`${key}.${k}`, "unknown field (normal, sensitive)");
    tiers[name] = { normal: read.int(`${key}.normal`, v.normal, base.normal, 1), sensitive: read.int(`${key}.sensitive`, v.sensitive, base.sensitive, 1) };
  }
  return { windowSeconds, tiers };
}

function resolveExclusions(src: ConfigSources): readonly ExclusionRule[] {
  const fromEnv = src.env?.COUNTERSIGN_EXCLUDE_TOOLS;
  const value = fromEnv ? read.list("exclusions", fromEnv, []).map((tool) => ({ tool, reason: "excluded by COUNTERSIGN_EXCLUDE_TOOLS" })) : lookup(src, undefined, undefined, "exclusions");
  try {
    return checkExclusions(value);
  } catch (err) {
    throw new GatewayError("bad_request", `config ${(err as Error).message}`);
  }
}

function resolveConfirm(src: ConfigSources): ConfirmConfig {
  return {
    ttlSeconds: read.int("confirm.ttlSeconds", lookup(src, undefined, "COUNTERSIGN_CONFIRM_TTL_SECONDS", "confirm.ttlSeconds"), 600, 1, 86_400),
    elicitation: read.bool("confirm.elicitation", lookup(src, undefined, "COUNTERSIGN_CONFIRM_ELICITATION", "confirm.elicitation"), false),
  };
}

function resolveAudit(src: ConfigSources): AuditConfig {
  return {
    dir: read.string("audit.dir", lookup(src, undefined, "COUNTERSIGN_AUDIT_DIR", "audit.dir")),
    maxFileBytes: read.int("audit.maxFileBytes", lookup(src, undefined, "COUNTERSIGN_AUDIT_MAX_FILE_BYTES", "audit.maxFileBytes"), 10 * 1_048_576, 4096),
    maxFiles: read.int("audit.maxFiles", lookup(src, undefined, "COUNTERSIGN_AUDIT_MAX_FILES", "audit.maxFiles"), 10, 1, 10_000),
    bufferRecords: read.int("audit.bufferRecords", lookup(src, undefined, "COUNTERSIGN_AUDIT_BUFFER", "audit.bufferRecords"), 10_000, 1, 10_000_000),
    capBytes: read.int("audit.capBytes", lookup(src, undefined, undefined, "audit.capBytes"), 4096, 256, 1_048_576),
  };
}

function resolveRedis(src: ConfigSources): RedisConfig {
  const url = read.string("redis.url", lookup(src, undefined, "REDIS_URL", "redis.url"));
  const parsed = url === undefined ? undefined : parseRedisUrl(url);
  if (parsed && !parsed.ok) fail("redis.url (REDIS_URL)", parsed.error);
  const keyPrefix = read.string("redis.keyPrefix", lookup(src, "redis-prefix", "COUNTERSIGN_REDIS_PREFIX", "redis.keyPrefix"), "countersign:")!;
  const bad = checkKeyPrefix(keyPrefix);
  if (bad) fail("redis.keyPrefix (COUNTERSIGN_REDIS_PREFIX)", bad);
  return { ...(url !== undefined ? { url } : {}), keyPrefix };
}

function resolveSurface(src: ConfigSources): SurfaceConfig {
  const mode = read.string("surface.mode", lookup(src, "mode", "COUNTERSIGN_MODE", "surface.mode"), "auto")!;
  if (!isModeSetting(mode)) fail("surface.mode", `must be one of auto, ${EXPOSURE_MODES.join(", ")}; got ${JSON.stringify(mode)}`);
  const schemaProfile = read.string("surface.schemaProfile", lookup(src, "schema-profile", "COUNTERSIGN_SCHEMA_PROFILE", "surface.schemaProfile"), "default")!;
  if (!isSchemaProfile(schemaProfile)) fail("surface.schemaProfile", `must be one of ${SCHEMA_PROFILES.join(", ")}; got ${JSON.stringify(schemaProfile)}`);
  const modules = read.list("surface.modules", lookup(src, "modules", "COUNTERSIGN_MODULES", "surface.modules"), []);
  const listOutputSchemas = read.bool("surface.listOutputSchemas", lookup(src, "list-output-schemas", "COUNTERSIGN_LIST_OUTPUT_SCHEMAS", "surface.listOutputSchemas"), false);
  return { mode, schemaProfile, listOutputSchemas, ...(modules.length > 0 ? { modules } : {}) };
}

function resolveConsole(src: ConfigSources): ConsoleConfig {
  const auditIndex = read.string("console.auditIndex", lookup(src, undefined, "COUNTERSIGN_CONSOLE_AUDIT_INDEX", "console.auditIndex"), "sqlite");
  if (auditIndex !== "sqlite" && auditIndex !== "memory") fail("console.auditIndex", `must be sqlite or memory, got ${JSON.stringify(auditIndex)}`);
  return {
    enabled: read.bool("console.enabled", lookup(src, "console", "COUNTERSIGN_CONSOLE", "console.enabled"), true),
    idleMinutes: read.int("console.idleMinutes", lookup(src, undefined, "COUNTERSIGN_CONSOLE_IDLE_MINUTES", "console.idleMinutes"), 30, 1, 7 * 24 * 60),
    trustProxy: read.bool("console.trustProxy", lookup(src, undefined, "COUNTERSIGN_TRUST_PROXY", "console.trustProxy"), false),
    auditIndex: auditIndex === "memory" ? "memory" : "sqlite",
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Resolves, validates and freezes the configuration; throws GatewayError("bad_request") naming the key. */
export function resolveConfig(src: ConfigSources = {}): Config {
  const cwd = process.cwd();
  const config: Config = {
    generatedDir: resolve(cwd, read.string("generatedDir", lookup(src, "generated", "COUNTERSIGN_GENERATED_DIR", "generatedDir"), "generated/workspace")!),
    dataDir: resolve(cwd, read.string("dataDir", lookup(src, "data-dir", "COUNTERSIGN_DATA_DIR", "dataDir"), ".data")!),
    logLevel: read.string("logLevel", lookup(src, "log-level", "LOG_LEVEL", "logLevel"), "info")!,
    upstream: resolveUpstream(src),
    http: resolveHttp(src),
    mcp: resolveMcp(src),
    auth: resolveAuth(src),
    rateLimits: resolveRateLimits(src),
    confirm: resolveConfirm(src),
    audit: resolveAudit(src),
    redis: resolveRedis(src),
    surface: resolveSurface(src),
    console: resolveConsole(src),
    exclusions: resolveExclusions(src),
  };
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(config.logLevel)) {
    fail("logLevel", `must be one of fatal, error, warn, info, debug, trace, silent; got ${JSON.stringify(config.logLevel)}`);
  }
  return deepFreeze(config);
}

/** Resolves the configuration for a CLI command: reads `--config` / `COUNTERSIGN_CONFIG` when given. */
export function loadConfig(flags: ConfigSources["flags"], env: ConfigSources["env"] = process.env): Config {
  const path = (typeof flags?.config === "string" ? flags.config : undefined) ?? env.COUNTERSIGN_CONFIG;
  const file = path ? readConfigFile(path) : undefined;
  return resolveConfig({ flags, env, file });
}
