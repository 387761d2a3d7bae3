/**
 * The shape of the resolved configuration: one frozen, fully defaulted object that src/config.ts
 * builds once from the table in settings.ts.
 */
import type { ApprovalRule } from "../approvals/policy.js";
import type { ExclusionRule } from "../stages/policy.js";
import type { ModeSetting } from "../surface/exposure.js";
import type { SchemaProfile } from "../surface/schema-profile.js";
import type { DefaultPaths } from "./paths.js";
import type { UpstreamSpec } from "../upstreams/config.js";

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
  /** The bearer /metrics asks for when the gateway listens on a non-loopback address. */
  readonly metricsToken?: string;
}

/** The MCP server adapter. */
export interface McpConfig {
  /** tools/list page size. */
  readonly pageSize: number;
  readonly listTtlMs: number;
  /** How long a 2026-07-28 state handle (`io.countersign/state`) stays valid. */
  readonly stateTtlMs: number;
  /** How long a task (the tasks extension) stays readable after it was created. */
  readonly taskTtlMs: number;
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
  /** Embedded mode: counts kept in the data dir, shared by every process on it. */
  readonly shared: boolean;
  /**
   * A gateway of several upstreams: the limits by tier on an upstream whose config overrides them
   * (`upstreams.<name>.rateLimits`), every tier filled in. An upstream not here has the tiers' own.
   */
  readonly upstreams?: Readonly<Record<string, Readonly<Record<string, TierLimits>>>>;
}

/** run_code's sandbox (src/code): limits per run, and the worker pool. The output cap is upstream.maxResponseBytes. */
export interface CodeConfig {
  readonly cpuTimeMs: number;
  readonly wallTimeMs: number;
  readonly memoryBytes: number;
  readonly maxApiCalls: number;
  readonly workers: number;
}

/** Pending actions (confirm engineer). */
export interface ConfirmConfig {
  /** Lifetime of a confirm token, in seconds. */
  readonly ttlSeconds: number;
  /** Ask the person directly (MCP elicitation) when the client supports it, instead of only returning a token. */
  readonly elicitation: boolean;
  /** Refuse to preview an update or delete whose current state can't be read (so it would run unguarded). */
  readonly requireGuard: boolean;
  /** Open pending actions one token may hold. */
  readonly maxOpenPerToken: number;
  /** Bytes of one pending action's serialized arguments. */
  readonly maxArgsBytes: number;
  /** Bytes of all open pending actions together. */
  readonly maxStoreBytes: number;
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

/** The gateway as an OAuth 2.1 authorization server for MCP clients (src/oauth). */
export interface OAuthConfig {
  readonly enabled: boolean;
  /** Dynamic Client Registration (RFC 7591) is accepted. */
  readonly registration: boolean;
  readonly accessTokenTtlMs: number;
  readonly refreshTokenTtlMs: number;
  /** Requests per minute one address may send to the OAuth endpoints. */
  readonly ipRequestsPerMinute: number;
  /** Requests per minute one client may send to /authorize and /token. */
  readonly clientRequestsPerMinute: number;
  /** Development: `http://` client ids on loopback addresses are fetched. */
  readonly loopbackClientIds: boolean;
}

/** Actions that need a person (src/approvals, docs/approvals.md). */
export interface ApprovalsConfig {
  /** Who approves which writes; the first matching rule wins over the tool's own policy. */
  readonly rules: readonly ApprovalRule[];
  /** How long an action that needs a person waits for one. */
  readonly ttlMs: number;
  /** An admin can't approve an action asked for by a token that admin created. */
  readonly separateApprover: boolean;
  readonly webhook: ApprovalWebhookConfig;
}

/** Where actions entering the approval inbox are announced. */
export interface ApprovalWebhookConfig {
  readonly url?: string;
  readonly format: "json" | "slack";
  /** HMAC-SHA256 key of the X-Countersign-Signature header. */
  readonly secret?: string;
  readonly attempts: number;
  readonly backoffMs: number;
  /** The console's public address, for links. */
  readonly consoleUrl?: string;
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
  readonly code: CodeConfig;
  readonly audit: AuditConfig;
  readonly redis: RedisConfig;
  readonly surface: SurfaceConfig;
  readonly console: ConsoleConfig;
  readonly oauth: OAuthConfig;
  readonly approvals: ApprovalsConfig;
  /** Operations refused at run time on top of the spec's own exclusions, without regenerating. */
  readonly exclusions: readonly ExclusionRule[];
  /** The APIs and MCP servers served (`upstreams:` in the config file); empty: the one of `generatedDir` and `upstream`. */
  readonly upstreams: readonly UpstreamSpec[];
  /** `COUNTERSIGN_SECRET_KEY` as given (checked at start-up): seals per-token upstream credentials. */
  readonly secretKey?: string;
}

/** Raw inputs: parsed CLI flags (by flag name), the environment, and the parsed config file. */
export interface ConfigSources {
  readonly flags?: Readonly<Record<string, string | boolean | undefined>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly file?: Readonly<Record<string, unknown>>;
  /** The config file's folder: relative paths in the file are relative to it (default: the working directory). */
  readonly fileDir?: string;
  /** Defaults that replace the table's for one command (by config key), e.g. `demo` logs at `warn`. */
  readonly defaults?: Readonly<Record<string, unknown>>;
  /** Relative flags and environment paths resolve against this (default: the working directory). */
  readonly cwd?: string;
  /** Where default paths point (default: the package root, src/config/paths.ts). */
  readonly paths?: DefaultPaths;
}
