/**
 * Every gateway setting, one row each: its key in the config file, its environment variable, its
 * flag, type, unit, default, bounds and a one-line doc. `resolveConfig` (src/config.ts), the
 * commands' flag parsers (src/cli/flags.ts) and docs/configuration.md (scripts/config-doc.js) are
 * all driven by this table, so a setting added here is parsed, checked and documented everywhere.
 */
import { EXPOSURE_MODES } from "../surface/exposure.js";
import { SCHEMA_PROFILES } from "../surface/schema-profile.js";
import { APPROVAL_SETTINGS } from "./approval-settings.js";

/** The commands that read the gateway configuration. */
export type ConfigCommand = "serve" | "stdio" | "demo" | "tokens" | "audit";

/** How a raw value is read and checked. */
export type SettingType =
  | "string"
  | "int"
  | "bool"
  | "list"
  | "enum"
  | "url"
  | "basePath"
  | "path"
  | "secretKey"
  | "redisUrl"
  | "keyPrefix"
  | "tiers"
  | "exclusions"
  | "upstreams" | "approvalRules";

/** Another name for a setting: an older or a well-known one. */
export interface Alias {
  readonly name: string;
  /** Accepted with a warning naming the new name. */
  readonly deprecated?: boolean;
  /** The alias's value times this is the setting's value (seconds → milliseconds: 1000). */
  readonly multiplier?: number;
}

/** One setting. */
export interface Setting {
  /** Dotted key in the config file (`http.port` is `http: { port: … }`); also the name in error messages. */
  readonly key: string;
  readonly section: SectionId;
  readonly env?: string;
  readonly envAliases?: readonly Alias[];
  readonly fileAliases?: readonly Alias[];
  /** Flag name without the dashes. */
  readonly flag?: string;
  /** A boolean flag that takes a value (`--console off`) instead of being a switch. */
  readonly flagTakesValue?: boolean;
  /** The flag's value in usage lines (default from the type: N, DIR, URL, a,b, the enum's values). */
  readonly placeholder?: string;
  /** Commands whose parser accepts the flag. */
  readonly commands?: readonly ConfigCommand[];
  readonly type: SettingType;
  readonly unit?: "ms" | "bytes" | "count" | "calls";
  readonly default?: string | number | boolean | readonly string[];
  /** How the default reads in the docs when the value itself does not say it. */
  readonly defaultDoc?: string;
  readonly min?: number;
  readonly max?: number;
  /** Allowed values of an `enum`. */
  readonly values?: readonly string[];
  readonly doc: string;
  /** Property path in `Config` when it differs from `key`. */
  readonly into?: string;
  /** `Config` holds the value divided by this (milliseconds in, seconds held: 1000). */
  readonly divisor?: number;
}

export type SectionId = "core" | "upstream" | "http" | "surface" | "limits" | "audit" | "redis" | "console" | "oauth" | "approvals";

/** Section titles, in document order. */
export const SECTIONS: Readonly<Record<SectionId, string>> = {
  core: "Core",
  upstream: "Upstream",
  http: "HTTP transport",
  surface: "Surface",
  limits: "Tokens, limits, exclusions, confirmation",
  audit: "Audit",
  redis: "Distributed mode",
  console: "Console",
  oauth: "OAuth for MCP clients",
  approvals: "Approvals",
};

/** The commands a setting applies to when it names none. */
export const GATEWAY: readonly ConfigCommand[] = ["serve", "stdio", "demo"];
const LISTENING: readonly ConfigCommand[] = ["serve", "demo"];
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const MAX = Number.MAX_SAFE_INTEGER;
const DAY_MS = 86_400_000;

/** The table. Order is the order of docs/configuration.md. */
export const SETTINGS: readonly Setting[] = [
  // Core
  {
    key: "generatedDir",
    section: "core",
    env: "COUNTERSIGN_GENERATED_DIR",
    flag: "generated",
    commands: ["serve", "stdio", "demo", "tokens"],
    type: "path",
    default: "generated/workspace",
    defaultDoc: "`<root>/generated/workspace`",
    doc: "folder of one API's generated tools",
  },
  {
    key: "dataDir",
    section: "core",
    env: "COUNTERSIGN_DATA_DIR",
    flag: "data-dir",
    commands: ["serve", "stdio", "demo", "tokens", "audit"],
    type: "path",
    default: ".data",
    defaultDoc: "`<root>/.data`",
    doc: "embedded stores: tokens, pending actions, audit",
  },
  {
    key: "logLevel",
    section: "core",
    env: "COUNTERSIGN_LOG_LEVEL",
    envAliases: [{ name: "LOG_LEVEL", deprecated: true }],
    flag: "log-level",
    commands: GATEWAY,
    type: "enum",
    placeholder: "LEVEL",
    values: LOG_LEVELS,
    default: "info",
    defaultDoc: "`info` (`warn` for demo)",
    doc: "pino level; refused and failed `tools/call`s log at `info`, the others at `debug` (the audit trail records every call whatever the level)",
  },
  {
    key: "secretKey",
    section: "core",
    env: "COUNTERSIGN_SECRET_KEY",
    type: "secretKey",
    doc: "32 bytes (base64 or 64 hex digits, e.g. `openssl rand -base64 32`) sealing per-token upstream credentials; needed by `tokens create --upstream-credential` and by gateways serving such tokens",
  },
  // Upstream
  {
    key: "upstream.url",
    section: "upstream",
    env: "COUNTERSIGN_UPSTREAM_URL",
    flag: "upstream",
    commands: ["serve", "stdio"],
    type: "url",
    defaultDoc: "none: calls fail with `upstream_unavailable`",
    doc: "base URL, http(s), no query string",
  },
  {
    key: "upstream.basePath",
    section: "upstream",
    env: "COUNTERSIGN_UPSTREAM_BASE_PATH",
    flag: "upstream-base-path",
    placeholder: "PATH",
    commands: ["serve", "stdio"],
    type: "basePath",
    defaultDoc: "the spec's server path",
    doc: "replaces the spec's server base path (`/` for none)",
  },
  {
    key: "upstream.token",
    section: "upstream",
    env: "COUNTERSIGN_UPSTREAM_TOKEN",
    type: "string",
    doc: "service credential, applied per the operation's security scheme: bearer; basic (`user:pass` is base64-encoded for you); apiKey in header, query or cookie",
  },
  { key: "upstream.timeoutMs", section: "upstream", env: "COUNTERSIGN_UPSTREAM_TIMEOUT_MS", type: "int", unit: "ms", default: 30_000, min: 1, max: 3_600_000, doc: "per upstream request" },
  {
    key: "upstream.maxResponseBytes",
    section: "upstream",
    env: "COUNTERSIGN_MAX_RESPONSE_BYTES",
    type: "int",
    unit: "bytes",
    default: 1_048_576,
    min: 1024,
    max: MAX,
    doc: "larger bodies are truncated with a note",
  },
  { key: "upstreams", section: "upstream", type: "upstreams", doc: "several APIs and MCP servers behind one gateway, by name: `{ generated | spec, url, credential, prefix, rateLimits }` or `{ mcp: { command, args } | { url, headers }, tools, rateLimits }` (docs/upstreams.md); replaces `generatedDir` and `upstream.*`" },
  // HTTP transport
  {
    key: "http.host",
    section: "http",
    env: "COUNTERSIGN_HOST",
    envAliases: [{ name: "HOST", deprecated: true }],
    flag: "host",
    placeholder: "H",
    commands: LISTENING,
    type: "string",
    default: "127.0.0.1",
    doc: "listen address",
  },
  {
    key: "http.port",
    section: "http",
    env: "COUNTERSIGN_PORT",
    envAliases: [{ name: "PORT" }],
    flag: "port",
    commands: LISTENING,
    type: "int",
    default: 8787,
    min: 0,
    max: 65535,
    doc: "listen port; `0` picks a free one",
  },
  { key: "http.stateless", section: "http", env: "COUNTERSIGN_STATELESS", flag: "stateless", commands: ["serve"], type: "bool", default: false, doc: "no sessions; POST only" },
  {
    key: "http.allowedHosts",
    section: "http",
    env: "COUNTERSIGN_ALLOWED_HOSTS",
    flag: "allowed-hosts",
    commands: ["serve"],
    type: "list",
    default: ["localhost", "127.0.0.1", "[::1]"],
    doc: "`Host` values accepted (DNS-rebinding protection; hostnames, optionally with port); `*` disables the check",
  },
  {
    key: "http.allowedOrigins",
    section: "http",
    env: "COUNTERSIGN_ALLOWED_ORIGINS",
    flag: "allowed-origins",
    commands: ["serve"],
    type: "list",
    default: ["localhost", "127.0.0.1", "[::1]"],
    doc: "`Origin` values accepted (origins or hostnames); requests without `Origin` pass; `*` disables the check",
  },
  { key: "http.maxBodyBytes", section: "http", env: "COUNTERSIGN_MAX_BODY_BYTES", type: "int", unit: "bytes", default: 4_194_304, min: 1024, max: MAX, doc: "larger request bodies get 413" },
  { key: "http.sessionIdleMs", section: "http", env: "COUNTERSIGN_SESSION_IDLE_MS", type: "int", unit: "ms", default: 1_800_000, min: 1000, max: MAX, doc: "idle sessions are closed after this" },
  { key: "http.maxSessions", section: "http", env: "COUNTERSIGN_MAX_SESSIONS", type: "int", unit: "count", default: 1000, min: 1, max: MAX, doc: "further `initialize` requests get 503" },
  {
    key: "http.pollAfterMs",
    section: "http",
    env: "COUNTERSIGN_POLL_AFTER_MS",
    type: "int",
    unit: "ms",
    default: 0,
    defaultDoc: "0 (never)",
    min: 0,
    max: MAX,
    doc: "a `tools/call` still running after this long closes its SSE stream (the client resumes with `Last-Event-ID`), or, for a 2026-07-28 client that negotiates the tasks extension, answers with a task",
  },
  { key: "http.sseRetryMs", section: "http", env: "COUNTERSIGN_SSE_RETRY_MS", type: "int", unit: "ms", default: 1000, min: 1, max: MAX, doc: "`retry:` suggested to clients on resumable streams" },
  { key: "http.metricsToken", section: "http", env: "COUNTERSIGN_METRICS_TOKEN", type: "string", doc: "bearer that `/metrics` asks for when the gateway listens on a non-loopback address (without it, `/metrics` is refused there)" },
  { key: "mcp.pageSize", section: "http", env: "COUNTERSIGN_PAGE_SIZE", type: "int", unit: "count", default: 500, min: 1, max: 100_000, doc: "`tools/list` page size (cursor pagination)" },
  { key: "mcp.listTtlMs", section: "http", env: "COUNTERSIGN_LIST_TTL_MS", type: "int", unit: "ms", default: 60_000, min: 0, max: MAX, doc: "how long a 2026-07-28 client may cache `tools/list` (`ttlMs`; `cacheScope` is `private`: the list depends on the token)" },
  { key: "mcp.stateTtlMs", section: "http", env: "COUNTERSIGN_STATE_TTL_MS", type: "int", unit: "ms", default: 86_400_000, min: 1000, max: MAX, doc: "how long the state handle `enable_modules` gives a 2026-07-28 client stays valid (`_meta[\"io.countersign/state\"]`)" },
  { key: "mcp.taskTtlMs", section: "http", env: "COUNTERSIGN_TASK_TTL_MS", type: "int", unit: "ms", default: 3_600_000, min: 1000, max: MAX, doc: "how long a task stays readable with `tasks/get` (`ttlMs`) after a 2026-07-28 `tools/call` became one (tasks extension; needs `http.pollAfterMs` > 0)" },
  // Surface
  { key: "surface.mode", section: "surface", env: "COUNTERSIGN_MODE", flag: "mode", commands: GATEWAY, type: "enum", values: ["auto", ...EXPOSURE_MODES], default: "auto", doc: "exposure mode: `auto` lists every tool up to 128 in scope, else the dynamic discovery tools; `code` lists search, describe, the API's types and `run_code` (docs/code-mode.md); HTTP `/mcp?mode=` overrides" },
  {
    key: "surface.modules",
    section: "surface",
    env: "COUNTERSIGN_MODULES",
    flag: "modules",
    commands: GATEWAY,
    type: "list",
    doc: "modules listed in `modules` mode when the connection names none; HTTP `/mcp?modules=a,b` overrides",
  },
  {
    key: "surface.schemaProfile",
    section: "surface",
    env: "COUNTERSIGN_SCHEMA_PROFILE",
    flag: "schema-profile",
    commands: GATEWAY,
    type: "enum",
    values: SCHEMA_PROFILES,
    default: "default",
    doc: "tool schemas as generated, or `strict` (no top-level combinators, type arrays, `$ref`, `format`); HTTP `/mcp?profile=` overrides",
  },
  {
    key: "surface.listOutputSchemas",
    section: "surface",
    env: "COUNTERSIGN_LIST_OUTPUT_SCHEMAS",
    type: "bool",
    default: false,
    doc: "include output schemas in `tools/list` (most of its size; `describe_tool` always has them)",
  },
  // Tokens, limits, exclusions, confirmation
  {
    key: "auth.lastUsedIntervalMs",
    section: "limits",
    env: "COUNTERSIGN_LAST_USED_INTERVAL_MS",
    type: "int",
    unit: "ms",
    default: 60_000,
    min: 0,
    max: MAX,
    doc: "a token's last-used time is written at most this often",
  },
  {
    key: "rateLimits.windowMs",
    section: "limits",
    env: "COUNTERSIGN_RATE_WINDOW_MS",
    envAliases: [{ name: "COUNTERSIGN_RATE_WINDOW_SECONDS", deprecated: true, multiplier: 1000 }],
    fileAliases: [{ name: "rateLimits.windowSeconds", deprecated: true, multiplier: 1000 }],
    type: "int",
    unit: "ms",
    default: 60_000,
    min: 1000,
    max: DAY_MS,
    into: "rateLimits.windowSeconds",
    divisor: 1000,
    doc: "window of both rate-limit buckets (whole seconds)",
  },
  {
    key: "rateLimits.tiers.default.normal",
    section: "limits",
    env: "COUNTERSIGN_RATE_NORMAL",
    type: "int",
    unit: "calls",
    default: 1000,
    min: 1,
    max: MAX,
    doc: "calls per window, every `tools/call`",
  },
  {
    key: "rateLimits.tiers.default.sensitive",
    section: "limits",
    env: "COUNTERSIGN_RATE_SENSITIVE",
    type: "int",
    unit: "calls",
    default: 100,
    min: 1,
    max: MAX,
    doc: "sensitive writes per window, counted when they execute",
  },
  {
    key: "rateLimits.tiers",
    section: "limits",
    type: "tiers",
    doc: "more tiers, by name: `{ normal, sensitive }` (a missing one inherits the default tier's); name a token's with `tokens create --tier <name>`",
  },
  { key: "rateLimits.shared", section: "limits", env: "COUNTERSIGN_RATE_LIMITS_SHARED", type: "bool", default: true, doc: "embedded mode: every process on the data dir (`serve` and each `stdio`) shares one limit, counted in memory while one process is alone on it and in files in it once others are; `false` counts in memory per process (Redis mode always shares)" },
  {
    key: "exclusions",
    section: "limits",
    env: "COUNTERSIGN_EXCLUDE_TOOLS",
    type: "exclusions",
    doc: "list of `{ upstream?, tool?, module?, operationId?, reason? }` (`*` wildcards; every given field must match); the env variable is a comma list of tool names and replaces the file's list",
  },
  {
    key: "confirm.ttlMs",
    section: "limits",
    env: "COUNTERSIGN_CONFIRM_TTL_MS",
    envAliases: [{ name: "COUNTERSIGN_CONFIRM_TTL_SECONDS", deprecated: true, multiplier: 1000 }],
    fileAliases: [{ name: "confirm.ttlSeconds", deprecated: true, multiplier: 1000 }],
    type: "int",
    unit: "ms",
    default: 600_000,
    min: 1000,
    max: DAY_MS,
    into: "confirm.ttlSeconds",
    divisor: 1000,
    doc: "lifetime of a pending action's confirm token (whole seconds)",
  },
  {
    key: "confirm.elicitation",
    section: "limits",
    env: "COUNTERSIGN_CONFIRM_ELICITATION",
    type: "bool",
    default: false,
    doc: "ask the person through MCP elicitation when the client supports it",
  },
  { key: "confirm.requireGuard", section: "limits", env: "COUNTERSIGN_CONFIRM_REQUIRE_GUARD", type: "bool", default: false, doc: "refuse (`upstream_unavailable`) to preview an update or delete whose current state can't be read, instead of storing it unguarded (`guard: none`)" },
  { key: "confirm.maxOpenPerToken", section: "limits", env: "COUNTERSIGN_MAX_PENDING_PER_TOKEN", type: "int", unit: "count", default: 100, min: 1, max: MAX, doc: "open pending actions one token may hold; past it a write is refused with `quota_exceeded` until one is confirmed or cancelled" },
  { key: "confirm.maxArgsBytes", section: "limits", env: "COUNTERSIGN_MAX_PENDING_ARGS_BYTES", type: "int", unit: "bytes", default: 262_144, min: 1024, max: MAX, doc: "serialized arguments of one pending action; a larger write is refused with `quota_exceeded`" },
  { key: "confirm.maxStoreBytes", section: "limits", env: "COUNTERSIGN_MAX_PENDING_STORE_BYTES", type: "int", unit: "bytes", default: 67_108_864, min: 65_536, max: MAX, doc: "all open pending actions together, across tokens" },
  { key: "code.cpuTimeMs", section: "limits", env: "COUNTERSIGN_CODE_CPU_TIME_MS", type: "int", unit: "ms", default: 5000, min: 10, max: 600_000, doc: "CPU time one `run_code` script may use (waiting on API calls does not count); past it the run stops with `script_error` (`cpu_time`)" },
  { key: "code.wallTimeMs", section: "limits", env: "COUNTERSIGN_CODE_WALL_TIME_MS", type: "int", unit: "ms", default: 60_000, min: 100, max: 3_600_000, doc: "wall time of one `run_code` run, its API calls included" },
  { key: "code.memoryBytes", section: "limits", env: "COUNTERSIGN_CODE_MEMORY_BYTES", type: "int", unit: "bytes", default: 67_108_864, min: 1_048_576, max: 1_073_741_824, doc: "heap of one `run_code` script (QuickJS memory limit)" },
  { key: "code.maxApiCalls", section: "limits", env: "COUNTERSIGN_CODE_MAX_API_CALLS", type: "int", unit: "calls", default: 100, min: 1, max: 100_000, doc: "API calls one `run_code` script may make, reads and writes together" },
  { key: "code.workers", section: "limits", env: "COUNTERSIGN_CODE_WORKERS", type: "int", unit: "count", default: 2, min: 1, max: 64, doc: "sandbox worker threads; runs beyond this many wait their turn" },
  // Audit
  { key: "audit.dir", section: "audit", env: "COUNTERSIGN_AUDIT_DIR", type: "path", defaultDoc: "`<dataDir>/audit`", doc: "folder of the JSON Lines files" },
  { key: "audit.maxFileBytes", section: "audit", env: "COUNTERSIGN_AUDIT_MAX_FILE_BYTES", type: "int", unit: "bytes", default: 10_485_760, min: 4096, max: MAX, doc: "`audit.jsonl` is rotated at this size" },
  { key: "audit.maxFiles", section: "audit", env: "COUNTERSIGN_AUDIT_MAX_FILES", type: "int", unit: "count", default: 10, min: 1, max: 10_000, doc: "rotated files kept (the oldest is deleted)" },
  {
    key: "audit.bufferRecords",
    section: "audit",
    env: "COUNTERSIGN_AUDIT_BUFFER",
    type: "int",
    unit: "count",
    default: 10_000,
    min: 1,
    max: 10_000_000,
    doc: "records held while the disk (or Redis) catches up; a full buffer makes calls wait",
  },
  { key: "audit.capBytes", section: "audit", env: "COUNTERSIGN_AUDIT_CAP_BYTES", type: "int", unit: "bytes", default: 4096, min: 256, max: 1_048_576, doc: "cap on stored arguments and result excerpts" },
  // Distributed mode
  {
    key: "redis.url",
    section: "redis",
    env: "COUNTERSIGN_REDIS_URL",
    envAliases: [{ name: "REDIS_URL" }],
    type: "redisUrl",
    defaultDoc: "unset: embedded stores",
    doc: "`redis://`, `rediss://`, `redis+cluster://`, `redis+sentinel://` (see [distributed.md](distributed.md))",
  },
  { key: "redis.keyPrefix", section: "redis", env: "COUNTERSIGN_REDIS_PREFIX", type: "keyPrefix", default: "countersign:", doc: "prefix of every key and channel, so several gateways can share one Redis" },
  // Console
  {
    key: "console.enabled",
    section: "console",
    env: "COUNTERSIGN_CONSOLE",
    flag: "console",
    flagTakesValue: true,
    placeholder: "on|off",
    commands: ["serve"],
    type: "bool",
    default: true,
    doc: "serve the console for people under `/console` on the gateway's port",
  },
  {
    key: "console.idleMs",
    section: "console",
    env: "COUNTERSIGN_CONSOLE_IDLE_MS",
    envAliases: [{ name: "COUNTERSIGN_CONSOLE_IDLE_MINUTES", deprecated: true, multiplier: 60_000 }],
    fileAliases: [{ name: "console.idleMinutes", deprecated: true, multiplier: 60_000 }],
    type: "int",
    unit: "ms",
    default: 1_800_000,
    min: 60_000,
    max: 7 * DAY_MS,
    into: "console.idleMinutes",
    divisor: 60_000,
    doc: "a console session ends after this long without a request (whole minutes)",
  },
  { key: "console.trustProxy", section: "console", env: "COUNTERSIGN_TRUST_PROXY", type: "bool", default: false, doc: "trust `X-Forwarded-Proto` from the proxy in front (cookies become `Secure` behind HTTPS)" },
  {
    key: "console.auditIndex",
    section: "console",
    env: "COUNTERSIGN_CONSOLE_AUDIT_INDEX",
    type: "enum",
    values: ["sqlite", "memory"],
    default: "sqlite",
    doc: "where Activity and Analytics read: `sqlite` (embedded, in the data dir) or `memory` (the newest 100,000 records)",
  },
  // OAuth for MCP clients (src/oauth)
  { key: "oauth.enabled", section: "oauth", env: "COUNTERSIGN_OAUTH", type: "bool", default: true, doc: "the gateway is its own OAuth 2.1 authorization server for `/mcp` (people consent in the console; needs the console)" },
  { key: "oauth.registration", section: "oauth", env: "COUNTERSIGN_OAUTH_REGISTRATION", type: "bool", default: true, doc: "accept Dynamic Client Registration (RFC 7591) at `/oauth/register`; Client ID Metadata Documents work either way" },
  { key: "oauth.accessTokenTtlMs", section: "oauth", env: "COUNTERSIGN_OAUTH_ACCESS_TOKEN_TTL_MS", type: "int", unit: "ms", default: 3_600_000, min: 60_000, max: DAY_MS, doc: "how long an OAuth access token is valid" },
  { key: "oauth.refreshTokenTtlMs", section: "oauth", env: "COUNTERSIGN_OAUTH_REFRESH_TOKEN_TTL_MS", type: "int", unit: "ms", default: 30 * DAY_MS, min: 3_600_000, max: 365 * DAY_MS, doc: "how long a refresh token is valid when unused (each use rotates it)" },
  { key: "oauth.ipRequestsPerMinute", section: "oauth", env: "COUNTERSIGN_OAUTH_IP_REQUESTS_PER_MINUTE", type: "int", unit: "calls", default: 120, min: 1, max: MAX, doc: "requests one address may send to the OAuth endpoints per minute (then 429)" },
  { key: "oauth.clientRequestsPerMinute", section: "oauth", env: "COUNTERSIGN_OAUTH_CLIENT_REQUESTS_PER_MINUTE", type: "int", unit: "calls", default: 30, min: 1, max: MAX, doc: "requests one client may send to `/oauth/authorize` and `/oauth/token` per minute (then 429)" },
  { key: "oauth.loopbackClientIds", section: "oauth", env: "COUNTERSIGN_OAUTH_LOOPBACK_CLIENT_IDS", type: "bool", default: false, doc: "development only: accept `http://` client ids on loopback addresses (metadata documents are otherwise fetched over HTTPS from public addresses only)" },
  ...APPROVAL_SETTINGS,
];
