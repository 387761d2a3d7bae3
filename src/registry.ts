/**
 * The registry: the generated tools of one API, indexed by name and grouped by module.
 */
import type { Manifest, ToolDescriptor } from "../codegen/descriptor.js";
import { loadGenerated, type GeneratedApi } from "../codegen/load.js";
import { GatewayError } from "./errors.js";

/** One module of the API, with its tools in listing order. */
export interface RegistryModule {
  readonly name: string;
  readonly description: string;
  readonly tools: readonly ToolDescriptor[];
}

/** The loaded tools of one API. */
export interface Registry {
  /** Every descriptor loaded, excluded ones included (policy refuses those at call time). */
  readonly tools: readonly ToolDescriptor[];
  get(name: string): ToolDescriptor | undefined;
  readonly modules: readonly RegistryModule[];
  readonly manifest?: Manifest;
  /** In a catalog of several upstreams (src/upstreams/catalog.ts): each upstream and its names. */
  readonly upstreams?: readonly CatalogUpstream[];
  /** In a catalog of several upstreams: the upstream a tool (by its catalog name) belongs to. */
  upstreamOf?(toolName: string): CatalogUpstream | undefined;
}

/** One upstream of a catalog, and how its own names map to the catalog's. */
export interface CatalogUpstream {
  readonly name: string;
  readonly kind: "openapi" | "mcp";
  /** Put before its tool and module names (empty: none). */
  readonly prefix: string;
  /** Catalog tool name → the upstream's own tool name (stable across restarts). */
  readonly tools: ReadonlyMap<string, string>;
  /** Catalog module name → the upstream's own module name. */
  readonly modules: ReadonlyMap<string, string>;
}

/** Indexes descriptors; duplicate names are a generator bug and fail loudly. */
export function createRegistry(descriptors: readonly ToolDescriptor[], manifest?: Manifest): Registry {
  const byName = new Map<string, ToolDescriptor>();
  const byModule = new Map<string, ToolDescriptor[]>();
  for (const tool of descriptors) {
    if (byName.has(tool.name)) throw new GatewayError("internal", `registry: duplicate tool name '${tool.name}'`);
    byName.set(tool.name, tool);
    const list = byModule.get(tool.module) ?? [];
    list.push(tool);
    byModule.set(tool.module, list);
  }
  const described = new Map((manifest?.modules ?? []).map((m) => [m.name, m.description]));
  const modules: RegistryModule[] = [...byModule.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, tools]) => Object.freeze({ name, description: described.get(name) ?? "", tools: Object.freeze(tools) }));
  return Object.freeze({
    tools: Object.freeze([...descriptors]),
    get: (name: string) => byName.get(name),
    modules: Object.freeze(modules),
    manifest,
  });
}

/** Loads `generated/<api>/` (manifest and module files, read as data, never executed). */
export async function loadRegistry(dir: string): Promise<Registry> {
  let api: GeneratedApi;
  try {
    api = await loadGenerated(dir);
  } catch (err) {
    throw new GatewayError("internal", `registry: ${(err as Error).message}; run 'countersign generate' first`);
  }
  return createRegistry(api.tools, api.manifest);
}
