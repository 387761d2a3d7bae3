/**
 * The gateway's contracts: what the composition root (src/app.ts) builds and what transports,
 * the MCP server adapter and meta-tools use. This file imports no implementation, so none of them
 * depends on another's.
 */
import type { ToolAnnotations, ToolDescriptor } from "../codegen/descriptor.js";
import type { ApprovalHub } from "./approvals/hub.js";
import type { AuditRecorder } from "./audit/recorder.js";
import type { Config } from "./config.js";
import type { AdmittedCall, CallContext, CodeRun, PendingInfo, Principal, ProgressSink, ToolResult, Transport, UpstreamInfo } from "./context.js";
import type { GatewayError } from "./errors.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";
import type { Authority } from "./oauth/authority.js";
import type { AdmissionStages, Stages } from "./pipeline.js";
import type { Registry } from "./registry.js";
import type { ArgumentValidator } from "./stages/validate.js";
import type { AuditSink } from "./stores/audit-sink.js";
import type { PendingActionStore } from "./stores/pending-actions/contract.js";
import type { TaskStore } from "./stores/tasks.js";
import type { RateLimits, UpstreamScope } from "./stores/rate-limits.js";
import type { TokenStore } from "./stores/tokens.js";
import type { UpstreamClient } from "./upstream/upstream-client.js";
import type { LoadedUpstreams } from "./upstreams/load.js";

/** Everything the stages, meta-tools and transports are built from. */
export interface Deps {
  readonly config: Config;
  readonly registry: Registry;
  readonly log: Logger;
  readonly upstream: UpstreamClient;
  readonly validator: ArgumentValidator;
  readonly pendingActions: PendingActionStore;
  /** Tool calls that became tasks (the MCP tasks extension): in-process, or Redis in the distributed mode. */
  readonly tasks: TaskStore;
  /** Prometheus metrics of this gateway (served at /metrics). */
  readonly metrics: Metrics;
  /** Where audit records go: JSON Lines in the data dir by default. */
  readonly auditSink: AuditSink;
  /** Turns finished calls, refusals and action events into audit records. */
  readonly audit: AuditRecorder;
  readonly tokens: TokenStore;
  readonly rateLimits: RateLimits;
  /** Actions that need a person: who approves what, the records, news of decisions (src/approvals). */
  readonly approvals: ApprovalHub;
  /** The OAuth authorization server (src/oauth), when `oauth.enabled`: its access tokens resolve to principals too. */
  readonly oauth?: Authority;
  /** Milliseconds since the epoch; a fake clock in tests. */
  readonly now: () => number;
  /** Test hook: replaces individual stages. */
  readonly stages?: Partial<Stages>;
  readonly admissionStages?: Partial<AdmissionStages>;
}

/** One request to admit: who presents what, asking for which tools/calls. */
export interface AdmissionRequest {
  readonly transport: Transport;
  readonly credential?: string;
  /**
   * The credential's token hash, when the caller worked it out once for a session whose credential
   * never changes (stdio's MCP_TOKEN, after its shape was checked): saves the shape check and the
   * SHA-256 on every request; the token is still looked up (revoked? expired?) every time.
   */
  readonly credentialHash?: string;
  readonly sessionId?: string;
  /** What was asked, for a refusal's audit record ("POST /mcp", "tools/list"). */
  readonly request: string;
  readonly calls?: readonly AdmittedCall[];
  /** The caller's address, when known (refusals from unauthenticated callers are aggregated by it). */
  readonly source?: string;
}

/** One tools/call of an admitted request. */
export interface CallRequest {
  readonly name: string;
  readonly args: Record<string, unknown>;
  /** The principal admission resolved for the request this call belongs to. */
  readonly principal: Principal;
  readonly transport: Transport;
  readonly sessionId?: string;
  readonly signal: AbortSignal;
  readonly progress?: ProgressSink;
  /** The session, for meta-tools (exposure mode, enabled modules, list_changed). */
  readonly session?: SessionContext;
  /** Executes the claimed pending action (confirm_action, a person's approval). */
  readonly confirmed?: CallContext["confirmed"];
  /** The meta-tool call this one runs inside (call_tool, confirm_action). */
  readonly parent?: CallContext;
  /** The code run this call is made by (run_code): writes join its change set. */
  readonly run?: CodeRun;
  /** What the MCP request says for its trace (src/telemetry): read only when tracing is on. */
  readonly trace?: CallTrace;
}

/** The MCP request around a tools/call, as a trace records it. */
export interface CallTrace {
  readonly jsonrpcId?: string | number;
  readonly protocolVersion?: string;
  /** W3C trace context from `params._meta`: the caller's span is the parent. */
  readonly traceparent?: string;
  readonly tracestate?: string;
}

/** The typed outcome of one tools/call: the rendered result, plus what the stages decided. */
export interface CallOutcome {
  readonly result: ToolResult;
  /** The refusal or failure, when the chain threw. */
  readonly error?: GatewayError;
  readonly pending?: PendingInfo;
  readonly upstream?: UpstreamInfo;
}

/** What a meta-tool knows about the session that called it. */
export interface SessionContext {
  readonly principal: Principal;
  readonly transport: Transport;
  readonly sessionId?: string;
  /** Aborted when the client cancels this call. */
  readonly signal: AbortSignal;
  /** Present when the client asked for progress on this call. */
  readonly progress?: ProgressSink;
  readonly gateway: Gateway;
  /** Modules enabled for this session (exposure modes); shared by every call of the session. */
  readonly enabledModules?: Set<string>;
  /** Connection parameters: HTTP `/mcp?mode=...&modules=...` query, or their env equivalents over stdio. */
  readonly params: Readonly<Record<string, string>>;
  /**
   * A 2026-07-28 request (no session): `enabledModules` and `params` came from the state handle it
   * carried, and what should last past it is handed back as a new handle (src/mcp/state-handle.ts).
   */
  readonly carriesState?: boolean;
  /** Sends `notifications/tools/list_changed` to this session's client. */
  notifyToolsChanged(): Promise<void>;
  /** Sends a log message (`notifications/message`) to this session's client, when the transport can reach it later. */
  notifyLog?(level: "info" | "notice" | "warning", data: unknown): Promise<void>;
}

/** A tool as tools/list shows it (SDK-independent). */
export interface ListedTool {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  readonly inputSchema: { readonly [key: string]: unknown };
  readonly outputSchema?: { readonly [key: string]: unknown };
  readonly annotations?: ToolAnnotations;
}

/** A tool implemented by the gateway itself: what tools/list shows, plus its handler. */
export interface MetaTool extends ListedTool {
  /** Runs inside the tool-call chain (`call` is its context: audit words, nested calls). */
  handle(args: Record<string, unknown>, session: SessionContext, call: CallContext): Promise<ToolResult>;
}

/** Builds meta-tools from the gateway's dependencies (stores, registry, config). */
export type MetaToolFactory = (deps: Deps) => readonly MetaTool[];

/** What transports and meta-tools use. */
export interface Gateway {
  readonly deps: Deps;
  readonly registry: Registry;
  /**
   * Swaps in a new registry (hot reload): later calls and lists use it; calls in flight keep their
   * descriptor. With the configuration it was loaded from (`serve --watch` of several upstreams),
   * that configuration's per-upstream rate limits apply from then on.
   */
  replaceRegistry(registry: Registry, config?: Config): void;
  /** The upstream budget a call of this tool takes its rate-limit points from; undefined: the gateway-wide one (a lone API, a gateway tool). */
  rateLimitScope(toolName: string): UpstreamScope | undefined;
  /** The upstreams of a gateway of several (`upstreams:` in the config file); `serve --watch` reloads them. */
  readonly upstreams?: LoadedUpstreams;
  /** Calls `listener` after the tools changed without a restart (a backend MCP server's tools/list_changed, or its restart). */
  onToolsChanged(listener: () => void): void;
  readonly metaTools: readonly MetaTool[];
  /**
   * The admission chain: authenticates the credential once for the request, takes one normal-bucket
   * point per tools/call in it, audits a refusal. Throws the GatewayError to answer (a call-level
   * refusal carries `rpcId`).
   */
  admit(request: AdmissionRequest): Promise<Principal>;
  /** Looks at the principal's token (or OAuth grant) again; throws `unauthorized` once it was revoked or has expired. */
  recheck(principal: Principal): Promise<Principal>;
  /** The generated tools this principal may see. */
  visibleTools(principal: Principal, session: SessionContext): readonly ToolDescriptor[];
  /** tools/list: visible generated tools, then meta-tools. */
  listTools(session: SessionContext): ListedTool[];
  /** What the gateway depends on, checked now (the data dir; Redis in the distributed mode). */
  readiness(): Promise<Record<string, { ok: boolean; detail?: string }>>;
  /** Runs one tools/call of an admitted request through the tool-call chain; never throws. */
  call(request: CallRequest): Promise<CallOutcome>;
  close(): Promise<void>;
}
