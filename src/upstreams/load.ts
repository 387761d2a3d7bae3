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
  /** The MCP servers among them now. */
  backends(): readonly McpBackend[];
  /** Called with a new catalog when a backend's tools change. */
  onCatalogChanged(listener: (registry: Registry) => void): void;
  /**
   * Loads another configuration's upstreams (`serve --watch`): unchanged backends keep running,
   * new ones start, removed ones close once their calls in flight finish. Answers the new catalog
   * for the caller to swap in; throws, changing nothing, when the new configuration doesn't load.
   */
  reload(config: Config): Promise<Registry>;
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
export function createRoutingClient(current: () => Registry, clients: () => ReadonlyMap<string, UpstreamClient>): UpstreamClient {
  function route(tool: ToolDescriptor): UpstreamClient {
    const upstream = current().upstreamOf?.(tool.name);
    const client = upstream && clients().get(upstream.name);
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

/** What one configuration of upstreams loaded into: its parts, backends and clients. */
interface Loaded {
  readonly specs: readonly UpstreamSpec[];
  /** By upstream name: an OpenAPI upstream's tools (backends list theirs live). */
  readonly parts: ReadonlyMap<string, CatalogPart>;
  readonly backends: ReadonlyMap<string, { readonly spec: McpUpstreamSpec; readonly backend: McpBackend }>;
  readonly clients: ReadonlyMap<string, UpstreamClient>;
}

/**
 * Loads every upstream of the config (in parallel) into one catalog and its routing client. A
 * backend MCP server that can't be reached at start-up is left with no tools and reconnected with
 * backoff; the other upstreams serve meanwhile, and its tools join the catalog when it comes up.
 */
export async function loadUpstreams(config: Config, options: LoadOptions): Promise<LoadedUpstreams> {
  const env = options.env ?? process.env;
  const { log } = options;
  const changed: ((registry: Registry) => void)[] = [];
  // The configuration loaded now; unset while the first one loads (a backend's first listing then has no one to tell).
  let state: Loaded | undefined;
  const ownName = (upstream: string) => (catalogName: string) => {
    const u = options.current().upstreamOf?.(catalogName);
    return u?.name === upstream ? u.tools.get(catalogName) : undefined;
  };

  // In the config's order, each backend's part from the tools it lists now.
  const build = (from: Loaded) =>
    createCatalog(
      from.specs.map((spec) => {
        const part = from.parts.get(spec.name);
        if (part) return part;
        const backend = from.backends.get(spec.name)!.backend;
        return { name: spec.name, kind: "mcp" as const, prefix: spec.prefix, registry: createRegistry(backendDescriptors(spec as McpUpstreamSpec, backend.tools())) };
      }),
    );

  function newBackend(spec: McpUpstreamSpec, cfg: Config): McpBackend {
    const backend = createMcpBackend(spec, { log, env, timeoutMs: cfg.upstream.timeoutMs, ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}) });
    backend.onToolsChanged(() => {
      // A backend no longer in the configuration has no say.
      const now = state;
      if (now?.backends.get(spec.name)?.backend !== backend) return;
      let next: Registry;
      try {
        next = build(now);
      } catch (err) {
        log.error({ err, upstream: spec.name }, `upstream ${spec.name} listed tools the catalog refuses; keeping the current tools`);
        return;
      }
      log.info({ upstream: spec.name, tools: backend.tools().length }, `upstream ${spec.name}: its tools changed`);
      for (const l of changed) l(next);
    });
    return backend;
  }

  /** Loads `cfg`, reusing the running backends of `previous` whose settings did not change. */
  async function load(cfg: Config, previous?: Loaded): Promise<Loaded> {
    const parts = new Map<string, CatalogPart>();
    const backends = new Map<string, { spec: McpUpstreamSpec; backend: McpBackend }>();
    const clients = new Map<string, UpstreamClient>();
    const started: McpBackend[] = [];
    try {
      await Promise.all(
        cfg.upstreams.map(async (spec) => {
          if (spec.kind === "mcp") {
            const kept = previous?.backends.get(spec.name);
            const same = kept && JSON.stringify(kept.spec) === JSON.stringify(spec);
            const backend = same ? kept.backend : newBackend(spec, cfg);
            if (!same) started.push(backend);
            backends.set(spec.name, { spec, backend });
            clients.set(spec.name, backendClient(backend, ownName(spec.name)));
            if (!same) await backend.start().catch((err: unknown) => log.error({ err, upstream: spec.name }, `upstream ${spec.name} could not be started; its tools join when it comes up`));
            return;
          }
          clients.set(spec.name, openApiClient(spec, cfg, env));
          parts.set(spec.name, { name: spec.name, kind: "openapi", prefix: spec.prefix, registry: await openApiRegistry(spec) });
        }),
      );
    } catch (err) {
      await Promise.all(started.map((b) => b.close()));
      throw err;
    }
    return { specs: cfg.upstreams, parts, backends, clients };
  }

  const first = await load(config);
  let registry: Registry;
  try {
    registry = build(first);
  } catch (err) {
    await Promise.all([...first.backends.values()].map((b) => b.backend.close()));
    throw err;
  }
  let current: Loaded = (state = first);
  const closeGone = (before: Loaded, after: Loaded) =>
    Promise.all([...before.backends.values()].filter((b) => after.backends.get(b.spec.name)?.backend !== b.backend).map((b) => b.backend.close()));

  return {
    registry,
    client: createRoutingClient(options.current, () => current.clients),
    backends: () => [...current.backends.values()].map((b) => b.backend),
    onCatalogChanged: (listener) => void changed.push(listener),
    async reload(next) {
      const loaded = await load(next, current);
      let catalog: Registry;
      try {
        catalog = build(loaded);
      } catch (err) {
        await closeGone(loaded, current);
        throw err;
      }
      const before = current;
      current = state = loaded;
      // Removed or changed backends stop taking calls now and close once their calls in flight finish.
      void closeGone(before, loaded);
      return catalog;
    },
    close: async () => {
      await Promise.all([...current.backends.values()].map((b) => b.backend.close()));
    },
  };
}

/** The tools of the upstream `of` belongs to (all tools in a lone API). */
export function toolsOfSameUpstream(registry: Registry, of?: ToolDescriptor): readonly ToolDescriptor[] {
  const upstream = of && registry.upstreamOf?.(of.name);
  if (!upstream) return registry.tools;
  return registry.tools.filter((t) => registry.upstreamOf?.(t.name) === upstream);
}
