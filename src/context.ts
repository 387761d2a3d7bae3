/**
 * The typed context every stage of the chain sees, and the one middleware contract.
 */
import type { Approval, ToolDescriptor } from "../codegen/descriptor.js";

/** Who is calling: the resolved token record, never the secret. */
export interface Principal {
  readonly tokenId: string;
  readonly subject: string;
  /** "all", or the module names the token may use. */
  readonly modules: "all" | readonly string[];
  /** The upstreams the token may use (a gateway of several, src/upstreams); absent: every one. */
  readonly upstreams?: readonly string[];
  readonly readOnly: boolean;
  readonly tier: string;
  readonly expiresAt?: string;
  /** Every write of this token needs a person's approval (the token's "always needs a person" flag). */
  readonly needsPerson?: boolean;
  /** Upstream credential of this token (decrypted), used instead of the service credential. */
  readonly upstreamCredential?: string;
}

/** MCP content blocks the gateway produces (SDK-independent mirror of CallToolResult). */
export type ContentBlock =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string }
  | { type: "audio"; data: string; mimeType: string }
  | { type: "resource"; resource: { uri: string; mimeType?: string; text?: string; blob?: string } };

/** What a tool call answers. */
export interface ToolResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

/** The audit record a call fills in as it travels; the audit stage writes it in `finally`. */
export interface AuditRecord {
  ts: string;
  requestId: string;
  tokenId?: string;
  subject?: string;
  sessionId?: string;
  transport: Transport;
  tool: string;
  module?: string;
  /** The upstream the tool belongs to, in a gateway of several (src/upstreams). */
  upstream?: string;
  args?: unknown;
  /** ok | pending | executed | already_executed | cancelled | expired | denied | unauthorized | rate_limited | invalid | upstream_error | error */
  outcome?: string;
  type?: "tool_call" | "pending" | "confirmed" | "cancelled" | "expired" | "rate_limited" | "denied" | "admin";
  errorCode?: string;
  upstreamStatus?: number;
  /** Time spent in the terminal (upstream) stage, set by the stage that calls the upstream. */
  upstreamMs?: number;
  /** The public error message when the call failed (never a secret). */
  error?: string;
  resultExcerpt?: string;
  durationMs?: number;
  actionId?: string;
  summary?: string;
  /** Refusals of unauthenticated callers are aggregated: how many this record stands for. */
  count?: number;
  /** The caller's address, on aggregated refusals. */
  source?: string;
  /** The code run (run_code) this call was made by. */
  runId?: string;
}

export type Transport = "stdio" | "http";

/** A progress update relayed to the client (e.g. one upstream SSE event). */
export type ProgressSink = (message: string, progress?: number, total?: number) => void;

/** A write the confirm gate turned into a pending action (set on the context, never parsed back from a result). */
export interface PendingInfo {
  readonly actionId: string;
  readonly confirmToken: string;
  readonly expiresAt: string;
  readonly preview: unknown;
}

/** A write a code run collected instead of sending: it joins the run's change set. */
export interface CollectedWrite {
  readonly tool: ToolDescriptor;
  /** The validated arguments (references to earlier writes' results still in place). */
  readonly args: Record<string, unknown>;
  /** The write's preview (src/confirm/preview.ts). */
  readonly preview: unknown;
  /** ETag read at preview time, sent as If-Match when the change set runs. */
  readonly ifMatch?: string;
  /** Who must approve this write (the approval policy for its tool and the caller); absent: the agent. */
  readonly approval?: Approval;
}

/** A code run (run_code) the call belongs to: its writes are collected into one change set. */
export interface CodeRun {
  readonly runId: string;
  /** Adds a previewed write to the change set; answers what the script gets back (a placeholder). */
  collect(write: CollectedWrite): ToolResult;
}

/** What the upstream stage learnt about the upstream request. */
export interface UpstreamInfo {
  /** The upstream's HTTP status, when it answered. */
  readonly status?: number;
  /**
   * Whether the request reached the upstream: `not_sent` (safe to retry), `sent` (sent, but no
   * answer: the outcome is unknown), `answered`.
   */
  readonly delivery?: "not_sent" | "sent" | "answered";
}

/** The context of one tools/call (a generated tool or a meta-tool) as it travels through the chain. */
export interface CallContext {
  readonly requestId: string;
  readonly transport: Transport;
  readonly sessionId?: string;
  /** Resolved once, by admission, for the request this call belongs to. */
  principal: Principal;
  /** The name the client asked for. */
  readonly name: string;
  /** The generated tool, set by the resolve stage. */
  tool?: ToolDescriptor;
  args: Record<string, unknown>;
  readonly signal: AbortSignal;
  readonly progress?: ProgressSink;
  /**
   * Set when a confirmed pending action is being executed: the confirm gate lets it through to
   * the upstream, carrying the action id as the Idempotency-Key.
   */
  readonly confirmed?: { readonly actionId: string; readonly ifMatch?: string; readonly approvedBy?: string };
  /** The call (a meta-tool's) this one runs inside; its audit record gives way to this one's. */
  readonly parent?: CallContext;
  /** Set on calls a script makes inside run_code: the confirm gate collects writes into the run's change set. */
  readonly run?: CodeRun;
  /** Set when a call inside this one left the audit record instead. */
  delegated?: boolean;
  readonly audit: AuditRecord;
  /** For calls about an earlier pending action (confirm, cancel): what that action does, in the audit trail's words. */
  about?: string;
  /** The answer; set by the terminal stage or by a stage that answers early. */
  result?: ToolResult;
  /** Set by the confirm gate when the call became a pending action. */
  pending?: PendingInfo;
  /** Set by the upstream stage. */
  upstream?: UpstreamInfo;
}

/** One request as admission sees it, on any transport, before any tool runs. */
export interface AdmissionContext {
  readonly transport: Transport;
  /** The credential presented (bearer token, MCP_TOKEN); undefined when none was. */
  readonly credential?: string;
  /** Its token hash, worked out once for a session (see AdmissionRequest.credentialHash). */
  readonly credentialHash?: string;
  readonly sessionId?: string;
  /** What was asked, for the audit record of a refusal: "POST /mcp", "tools/list". */
  readonly request: string;
  /** The tools/call requests in it: each takes one point of the token's normal bucket. */
  readonly calls: readonly AdmittedCall[];
  /** Set by the authenticate stage. */
  principal?: Principal;
  /** A refused credential's token, when the holder proved it was theirs (revoked, expired). */
  claimed?: { readonly tokenId: string; readonly subject?: string };
  /** Who is asking, when no credential proves it (the source address, for refusal aggregation). */
  readonly source?: string;
}

/** A tools/call inside an admitted request. */
export interface AdmittedCall {
  /** Its JSON-RPC id, so a refusal answers the right request. */
  readonly id?: string | number | null;
  readonly name: string;
  readonly args?: unknown;
}

/** The one middleware contract, koa-compose style. */
export type Middleware<C> = (ctx: C, next: () => Promise<void>) => Promise<void>;

/** A stage of the tool-call chain. */
export type Stage = Middleware<CallContext>;

/** A stage of the admission chain. */
export type AdmissionStage = Middleware<AdmissionContext>;
