/**
 * One catalog over several upstreams: every upstream's tools and modules under namespaced names
 * (src/upstreams/names.ts), as one Registry the chain resolves against. Two sources that would
 * give the same name are refused at start-up, naming both.
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { GatewayError } from "../errors.js";
import { createRegistry, type CatalogUpstream, type Registry } from "../registry.js";
import { namespacedName } from "./names.js";

/** One upstream's tools before namespacing. */
export interface CatalogPart {
  readonly name: string;
  readonly kind: CatalogUpstream["kind"];
  readonly prefix: string;
  readonly registry: Registry;
}

/** Builds the catalog; throws bad_request naming both sources of a name used twice. */
export function createCatalog(parts: readonly CatalogPart[]): Registry {
  const toolSource = new Map<string, { upstream: string; own: string }>();
  const moduleSource = new Map<string, { upstream: string; own: string }>();
  const byTool = new Map<string, CatalogUpstream>();
  const descriptions = new Map<string, string>();
  const tools: ToolDescriptor[] = [];
  const upstreams: CatalogUpstream[] = [];

  const claim = (kind: "tool" | "module", seen: Map<string, { upstream: string; own: string }>, name: string, upstream: string, own: string) => {
    const other = seen.get(name);
    if (other && (other.upstream !== upstream || other.own !== own)) {
      throw new GatewayError(
        "bad_request",
        `upstreams: the ${kind} name '${name}' comes from both upstream '${other.upstream}' (${kind} '${other.own}') and upstream '${upstream}' (${kind} '${own}'); give one of them another prefix`,
      );
    }
    seen.set(name, { upstream, own });
  };

  for (const part of parts) {
    const toolNames = new Map<string, string>();
    const moduleNames = new Map<string, string>();
    const entry: CatalogUpstream = Object.freeze({ name: part.name, kind: part.kind, prefix: part.prefix, tools: toolNames, modules: moduleNames });
    for (const m of part.registry.modules) {
      const module = namespacedName(part.prefix, m.name);
      claim("module", moduleSource, module, part.name, m.name);
      moduleNames.set(module, m.name);
      if (m.description) descriptions.set(module, m.description);
    }
    for (const tool of part.registry.tools) {
      const name = namespacedName(part.prefix, tool.name);
      claim("tool", toolSource, name, part.name, tool.name);
      toolNames.set(name, tool.name);
      byTool.set(name, entry);
      tools.push(Object.freeze({ ...tool, name, module: namespacedName(part.prefix, tool.module) }));
    }
    upstreams.push(entry);
  }

  const base = createRegistry(tools);
  return Object.freeze({
    tools: base.tools,
    get: base.get,
    modules: Object.freeze(base.modules.map((m) => Object.freeze({ ...m, description: descriptions.get(m.name) ?? "" }))),
    upstreams: Object.freeze(upstreams),
    upstreamOf: (toolName: string) => byTool.get(toolName),
  });
}
