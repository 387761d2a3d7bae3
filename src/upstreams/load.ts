/**
 * Builds what a gateway of several upstreams runs on, from the config's `upstreams:`: the catalog
 * (one Registry of namespaced tools) and one UpstreamClient that sends each tool's call to the
 * upstream it belongs to, so the chain stays the one chain.
 */
import path from "node:path";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { parseModuleFile } from "../../codegen/load.js";
import type { Manifest } from "../../codegen/descriptor.js";
import type { Config } from "../config.js";
import { GatewayError } from "../errors.js";
import { createRegistry, loadRegistry, type Registry } from "../registry.js";
import { createUpstreamClient, type UpstreamCallOptions, type UpstreamClient } from "../upstream/upstream-client.js";
import { createCatalog, type CatalogPart } from "./catalog.js";
import { readSecret, type OpenApiUpstreamSpec, type UpstreamSpec } from "./config.js";

/** A gateway's upstreams, loaded. */
export interface LoadedUpstreams {
  readonly registry: Registry;
  /** Routes each call to its tool's upstream (it reads the registry through `current`, so a reload is seen). */
  readonly client: UpstreamClient;
  close(): Promise<void>;
}

/** Generates a spec's tools in memory (nothing written), for `spec:` upstreams. */
async function generateInMemory(spec: OpenApiUpstreamSpec): Promise<Registry> {
  // Loaded on demand: the generator is most of a start-up's module loading, and only `spec:` needs it.
  const { generate } = await import("../../codegen/generate.js");
  const outcome = await generate({ specPath: spec.spec!, command: `countersign serve (upstream ${spec.name})`, upstreamTypes: false });
  if (!outcome.ok) throw new GatewayError("bad_request", `upstreams.${spec.name}.spec: ${outcome.error}${outcome.pointer ? ` at ${outcome.pointer}` : ""}`);
  const manifest = JSON.parse(outcome.files.get("manifest.json") ?? "{}") as Manifest;
  const tools: ToolDescriptor[] = [];
  for (const m of manifest.modules) tools.push(...parseModuleFile(outcome.files.get(m.file) ?? "", path.join(spec.spec!, m.file)));
  return createRegistry(tools, manifest);
}

async function openApiRegistry(spec: OpenApiUpstreamSpec): Promise<Registry> {
  if (spec.spec) return generateInMemory(spec);
  try {
    return await loadRegistry(spec.generated!);
  } catch (err) {
    throw new GatewayError("bad_request", `upstreams.${spec.name}.generated: ${(err as Error).message.replace(/^registry: /, "")}`);
  }
}

function openApiClient(spec: OpenApiUpstreamSpec, config: Config, env: Readonly<Record<string, string | undefined>>): UpstreamClient {
  let token: string | undefined;
  try {
    token = spec.credential ? readSecret(spec.credential, `upstreams.${spec.name}.credential`, env) : undefined;
  } catch (err) {
    throw new GatewayError("bad_request", `config ${(err as Error).message}`);
  }
  return createUpstreamClient({
    url: spec.url,
    basePath: spec.basePath,
    token,
    timeoutMs: spec.timeoutMs ?? config.upstream.timeoutMs,
    maxResponseBytes: config.upstream.maxResponseBytes,
  });
}

/**
 * Sends each call to the client of its tool's upstream. A token's own upstream credential is for
 * the lone API it was minted for: with several upstreams it would be sent to every one of them,
 * so it is dropped and each upstream uses its configured credential.
 */
export function createRoutingClient(current: () => Registry, clients: ReadonlyMap<string, UpstreamClient>): UpstreamClient {
  function route(tool: ToolDescriptor): UpstreamClient {
    const upstream = current().upstreamOf?.(tool.name);
    const client = upstream && clients.get(upstream.name);
    if (!client) throw new GatewayError("internal", `no upstream serves the tool '${tool.name}'`, { expose: false });
    return client;
  }
  const own = <T extends { credential?: string }>(options: T | undefined): T | undefined => (options?.credential === undefined ? options : { ...options, credential: undefined });
  return {
    buildRequest: (tool, args, options) => route(tool).buildRequest(tool, args, own(options)),
    executeUpstream: (tool, args, options?: UpstreamCallOptions) => route(tool).executeUpstream(tool, args, own(options)),
  };
}

/** Loads every upstream of the config (in parallel) into one catalog and its routing client. */
export async function loadUpstreams(config: Config, options: { current: () => Registry; env?: Readonly<Record<string, string | undefined>> }): Promise<LoadedUpstreams> {
  const env = options.env ?? process.env;
  const clients = new Map<string, UpstreamClient>();
  const parts = await Promise.all(
    config.upstreams.map(async (spec: UpstreamSpec): Promise<CatalogPart> => {
      if (spec.kind === "mcp") throw new GatewayError("bad_request", `config upstreams.${spec.name}.mcp: MCP server upstreams are not supported by this build yet`);
      clients.set(spec.name, openApiClient(spec, config, env));
      return { name: spec.name, kind: "openapi", prefix: spec.prefix, registry: await openApiRegistry(spec) };
    }),
  );
  const registry = createCatalog(parts);
  return { registry, client: createRoutingClient(options.current, clients), close: async () => {} };
}

/** The tools of the upstream `of` belongs to (all tools in a lone API). */
export function toolsOfSameUpstream(registry: Registry, of?: ToolDescriptor): readonly ToolDescriptor[] {
  const upstream = of && registry.upstreamOf?.(of.name);
  if (!upstream) return registry.tools;
  return registry.tools.filter((t) => registry.upstreamOf?.(t.name) === upstream);
}
