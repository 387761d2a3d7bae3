/**
 * Exposure modes: which generated tools and which discovery meta-tools a session lists.
 * A pure function of the registry, the token's scope and the session's settings, so the stdio
 * server, the HTTP transport and the tests all agree on what a session sees.
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";

export const EXPOSURE_MODES = ["all", "modules", "dynamic", "code"] as const;
/** `all`: every tool in scope; `modules`: the named modules only; `dynamic`: the meta-tools only; `code`: search, describe, types and run_code. */
export type ExposureMode = (typeof EXPOSURE_MODES)[number];
/** What a session may ask for: a mode, or `auto` (the default) to decide from the scope's size. */
export type ModeSetting = ExposureMode | "auto";

/** Above this many tools in scope, `auto` picks `dynamic` (several clients refuse more than 128 tools). */
export const AUTO_TOOL_LIMIT = 128;

/** The discovery meta-tools (src/mcp/discovery-tools.ts). */
export const DISCOVERY_TOOLS = ["list_modules", "search_tools", "describe_tool", "call_tool", "enable_modules", "get_api_types"] as const;
export type DiscoveryTool = (typeof DISCOVERY_TOOLS)[number];

/** True for the discovery meta-tools, whose listing depends on the mode. */
export function isDiscoveryTool(name: string): name is DiscoveryTool {
  return (DISCOVERY_TOOLS as readonly string[]).includes(name);
}

/** Which discovery meta-tools each mode lists. Other meta-tools (confirm_action, …) are always listed. */
const META_BY_MODE: Record<ExposureMode, readonly DiscoveryTool[]> = {
  // Everything is listed already: search and describe still help an agent pick among many tools.
  all: ["list_modules", "search_tools", "describe_tool"],
  modules: ["list_modules", "search_tools", "describe_tool", "call_tool", "enable_modules"],
  dynamic: ["list_modules", "search_tools", "describe_tool", "call_tool", "enable_modules"],
  // An agent writes one script against the typed client instead of calling tools one by one.
  code: ["search_tools", "describe_tool", "get_api_types"],
};

/** True when `value` names a mode setting. */
export function isModeSetting(value: unknown): value is ModeSetting {
  return value === "auto" || (typeof value === "string" && (EXPOSURE_MODES as readonly string[]).includes(value));
}

/** Parses `a,b` (a `?modules=` value or `COUNTERSIGN_MODULES`) into module names; undefined when empty. */
export function parseModuleList(value: string | null | undefined): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = [...new Set(value.split(",").map((s) => s.trim()).filter((s) => s.length > 0))];
  return list.length > 0 ? list : undefined;
}

export interface VisibilityInput {
  readonly tools: readonly ToolDescriptor[];
  /** The token's module scope. */
  readonly principalScope: "all" | readonly string[];
  /** The session's mode setting; undefined means `auto`. */
  readonly mode?: ModeSetting;
  /** Modules named on the connection (`?modules=`) or in `COUNTERSIGN_MODULES`. */
  readonly modulesParam?: readonly string[];
  /** Modules the session added with `enable_modules`. */
  readonly enabledModules?: readonly string[];
  /** Threshold for `auto` (default AUTO_TOOL_LIMIT). */
  readonly autoLimit?: number;
}

export interface Visibility {
  /** The mode in effect after resolving `auto`. */
  readonly mode: ExposureMode;
  /** Generated tools to list, in registry order. */
  readonly tools: string[];
  /** Discovery meta-tools to list. */
  readonly metaTools: DiscoveryTool[];
  /** Modules whose tools are listed. */
  readonly modules: string[];
  /** Requested modules that do not exist or lie outside the token's scope (listed nowhere). */
  readonly ignoredModules: string[];
}

/** Decides what one session lists (see the module comment). */
export function visibleForSession(input: VisibilityInput): Visibility {
  const { tools, principalScope } = input;
  const inScope = (module: string): boolean => principalScope === "all" || principalScope.includes(module);
  const scopeTools = tools.filter((t) => inScope(t.module));
  const known = new Set(tools.map((t) => t.module));
  const scopeModules = [...new Set(scopeTools.map((t) => t.module))];

  let setting: ModeSetting = input.mode ?? "auto";
  // `?modules=a,b` alone means "these modules", whatever the size of the scope.
  if (setting === "auto" && input.modulesParam && input.modulesParam.length > 0) setting = "modules";
  const mode: ExposureMode =
    setting !== "auto" ? setting : scopeTools.length <= (input.autoLimit ?? AUTO_TOOL_LIMIT) ? "all" : "dynamic";

  const requested = [...(mode === "modules" ? input.modulesParam ?? [] : []), ...(mode === "all" ? [] : input.enabledModules ?? [])];
  const ignoredModules = [...new Set(requested.filter((m) => !known.has(m) || !inScope(m)))];

  let modules: string[];
  if (mode === "all") modules = scopeModules;
  else {
    const base = mode === "modules" ? input.modulesParam ?? (principalScope === "all" ? scopeModules : [...principalScope]) : [];
    const wanted = new Set([...base, ...(input.enabledModules ?? [])]);
    modules = scopeModules.filter((m) => wanted.has(m));
  }
  const listed = new Set(modules);
  return {
    mode,
    tools: scopeTools.filter((t) => listed.has(t.module)).map((t) => t.name),
    metaTools: [...META_BY_MODE[mode]],
    modules,
    ignoredModules,
  };
}
