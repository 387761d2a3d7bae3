/**
 * Meta-tools: tools every session has beside the generated ones (confirm_action, get_activity,
 * search_tools, ...). Each feature defines its own in its own file and adds one line to
 * META_TOOL_FACTORIES below.
 */
import type { Principal, ProgressSink, ToolResult, Transport } from "../context.js";
import type { ToolAnnotations } from "../../codegen/descriptor.js";
import type { Deps, Gateway } from "../app.js";
import { createConfirmTools } from "./confirm-tools.js";
import { createActivityTools } from "./activity-tool.js";
import { createDiscoveryTools } from "./discovery-tools.js";

/** What a meta-tool knows about the session that called it. */
export interface SessionContext {
  readonly principal: Principal;
  /** The credential the session authenticated with (re-checked on every call). */
  readonly credential?: string;
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
  /** The transport already took rate-limit points for this tools/call (HTTP); call_tool passes it on so the call is counted once. */
  readonly admitted?: boolean;
  /** Sends `notifications/tools/list_changed` to this session's client. */
  notifyToolsChanged(): Promise<void>;
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
  handle(args: Record<string, unknown>, session: SessionContext): Promise<ToolResult>;
}

/** Builds meta-tools from the gateway's dependencies (stores, registry, config). */
export type MetaToolFactory = (deps: Deps) => readonly MetaTool[];

/** One line per feature. */
export const META_TOOL_FACTORIES: readonly MetaToolFactory[] = [
  createConfirmTools,
  createActivityTools,
  createDiscoveryTools,
];

/** Instantiates every meta-tool; duplicate names are a wiring bug. */
export function createMetaTools(deps: Deps): readonly MetaTool[] {
  const tools = META_TOOL_FACTORIES.flatMap((factory) => factory(deps));
  const seen = new Set<string>();
  for (const t of tools) {
    if (seen.has(t.name)) throw new Error(`meta-tools: duplicate name '${t.name}'`);
    seen.add(t.name);
  }
  return Object.freeze(tools);
}
