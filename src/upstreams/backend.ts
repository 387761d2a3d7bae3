/**
 * An MCP server behind the gateway, as the catalog and the routing client see it: its tools, a
 * way to call one, and word when its tools change. The SDK client that implements it lives in one
 * file (src/upstream/mcp-backend.ts), so moving to another SDK touches nothing else.
 */
import type { ToolAnnotations } from "../../codegen/descriptor.js";
import type { ProgressSink, ToolResult } from "../context.js";

/** A tool as the backend lists it. */
export interface BackendTool {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema: { readonly [key: string]: unknown };
  readonly outputSchema?: { readonly [key: string]: unknown };
  readonly annotations?: ToolAnnotations;
}

/** Per-call options. */
export interface BackendCallOptions {
  readonly signal?: AbortSignal;
  readonly progress?: ProgressSink;
}

/** One MCP server upstream. */
export interface McpBackend {
  readonly name: string;
  /** Connects and lists its tools; rejects (naming the upstream) when it can't, and keeps retrying with backoff. */
  start(): Promise<void>;
  /** Its tools as last listed (none while it has never been up). */
  tools(): readonly BackendTool[];
  /**
   * Calls one of its tools by its own name. Throws GatewayError("upstream_unavailable") naming the
   * upstream when it is down (with when to retry), or when it went away during the call.
   */
  call(name: string, args: Record<string, unknown>, options?: BackendCallOptions): Promise<ToolResult>;
  /** Called after its tool list changed (a `tools/list_changed`, or a restart that listed other tools). */
  onToolsChanged(listener: () => void): void;
  /** Whether it is connected now, and why not. */
  status(): { readonly up: boolean; readonly detail?: string };
  close(): Promise<void>;
}
