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
import { readSecret, type McpUpstreamSpec, type OpenApiUpstreamSpec, type UpstreamSpec } from "./config.js";
import type { McpBackend } from "./backend.js";
import { backendClient, backendDescriptors } from "./mcp-tools.js";
import { createMcpBackend } from "../upstream/mcp-backend.js";
import type { Logger } from "../log.js";

/** A gateway's upstreams, loaded. */
export interface LoadedUpstreams {
  readonly registry: Registry;
  /** Routes each call to its tool's upstream (it reads the registry through `current`, so a reload is seen). */
  readonly client: UpstreamClient;
  /** The MCP servers among them. */
  readonly backends: readonly McpBackend[];
  /** Called with a new catalog when a backend's tools change. */
  onCatalogChanged(listener: (registry: Registry) => void): void;
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

/** Options of loadUpstreams. */
export interface LoadOptions {
  /** The gateway's registry now (the routing client reads it, so a reload is seen). */
  readonly current: () => Registry;
  readonly log: Logger;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Backend reconnection backoff (tests shorten it). */
  readonly backoffMs?: number;
}

/**
 * Loads every upstream of the config (in parallel) into one catalog and its routing client. A
 * backend MCP server that can't be reached at start-up is left with no tools and reconnected with
 * backoff; the other upstreams serve meanwhile, and its tools join the catalog when it comes up.
 */
export async function loadUpstreams(config: Config, options: LoadOptions): Promise<LoadedUpstreams> {
  const env = options.env ?? process.env;
  const { log } = options;
  const clients = new Map<string, UpstreamClient>();
  const backends: { spec: McpUpstreamSpec; backend: McpBackend }[] = [];
  const ownName = (upstream: string) => (catalogName: string) => {
    const u = options.current().upstreamOf?.(catalogName);
    return u?.name === upstream ? u.tools.get(catalogName) : undefined;
  };
  const fixed = await Promise.all(
    config.upstreams.map(async (spec: UpstreamSpec): Promise<CatalogPart | undefined> => {
      if (spec.kind === "mcp") {
        const backend = createMcpBackend(spec, { log, env, timeoutMs: config.upstream.timeoutMs, ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}) });
        backends.push({ spec, backend });
        clients.set(spec.name, backendClient(backend, ownName(spec.name)));
        await backend.start().catch((err: unknown) => log.error({ err, upstream: spec.name }, `upstream ${spec.name} could not be started; its tools join when it comes up`));
        return undefined;
      }
      clients.set(spec.name, openApiClient(spec, config, env));
      return { name: spec.name, kind: "openapi", prefix: spec.prefix, registry: await openApiRegistry(spec) };
    }),
  );
  // In the config's order, each backend's part from the tools it lists now.
  const build = () =>
    createCatalog(
      config.upstreams.map((spec, i) => {
        const part = fixed[i];
        if (part) return part;
        const backend = backends.find((b) => b.spec === spec)!.backend;
        return { name: spec.name, kind: "mcp" as const, prefix: spec.prefix, registry: createRegistry(backendDescriptors(spec as McpUpstreamSpec, backend.tools())) };
      }),
    );
  const registry = build();
  const changed: ((registry: Registry) => void)[] = [];
  for (const { spec, backend } of backends) {
    backend.onToolsChanged(() => {
      let next: Registry;
      try {
        next = build();
      } catch (err) {
        log.error({ err, upstream: spec.name }, `upstream ${spec.name} listed tools the catalog refuses; keeping the current tools`);
        return;
      }
      log.info({ upstream: spec.name, tools: backend.tools().length }, `upstream ${spec.name}: its tools changed`);
      for (const l of changed) l(next);
    });
  }
  return {
    registry,
    client: createRoutingClient(options.current, clients),
    backends: backends.map((b) => b.backend),
    onCatalogChanged: (listener) => void changed.push(listener),
    close: async () => {
      await Promise.all(backends.map((b) => b.backend.close()));
    },
  };
}

/** The tools of the upstream `of` belongs to (all tools in a lone API). */
export function toolsOfSameUpstream(registry: Registry, of?: ToolDescriptor): readonly ToolDescriptor[] {
  const upstream = of && registry.upstreamOf?.(of.name);
  if (!upstream) return registry.tools;
  return registry.tools.filter((t) => registry.upstreamOf?.(t.name) === upstream);
}
