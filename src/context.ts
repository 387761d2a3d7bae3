/**
 * The typed context every stage of the chain sees, and the one middleware contract.
 */
import type { ToolDescriptor } from "../codegen/descriptor.js";

/** Who is calling: the resolved token record, never the secret. */
export interface Principal {
  readonly tokenId: string;
  readonly subject: string;
  /** "all", or the module names the token may use. */
  readonly modules: "all" | readonly string[];
  readonly readOnly: boolean;
  readonly tier: string;
  readonly expiresAt?: string;
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
  args?: unknown;
  /** ok | pending | executed | already_executed | cancelled | expired | denied | unauthorized | rate_limited | invalid | upstream_error | error */
  outcome?: string;
  type?: "tool_call" | "pending" | "confirmed" | "cancelled" | "expired" | "rate_limited" | "denied";
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
}

export type Transport = "stdio" | "http";

/** A progress update relayed to the client (e.g. one upstream SSE event). */
export type ProgressSink = (message: string, progress?: number, total?: number) => void;

/** The context of one tools/call as it travels through the chain. */
export interface CallContext {
  readonly requestId: string;
  readonly transport: Transport;
  readonly sessionId?: string;
  /** The raw credential presented (bearer token or MCP_TOKEN); consumed by the auth stage. */
  readonly credential?: string;
  /** Set by the auth stage. */
  principal?: Principal;
  readonly tool: ToolDescriptor;
  args: Record<string, unknown>;
  readonly signal: AbortSignal;
  readonly progress?: ProgressSink;
  /**
   * Set when a confirmed pending action is being executed: the confirm gate lets it through to
   * the upstream, carrying the action id as the Idempotency-Key.
   */
  confirmed?: { readonly actionId: string; readonly ifMatch?: string };
  /** Rate-limit points already taken for this call by the transport (HTTP answers 429 itself). */
  admitted?: boolean;
  readonly audit: AuditRecord;
  /** The answer; set by the terminal stage or by a stage that answers early. */
  result?: ToolResult;
}

/** The one middleware contract, koa-compose style. */
export type Stage = (ctx: CallContext, next: () => Promise<void>) => Promise<void>;
