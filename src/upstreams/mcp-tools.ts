/**
 * A backend MCP server's tools as the catalog holds them: descriptors the one chain can resolve,
 * check, validate and gate, and the UpstreamClient that sends their calls to the backend.
 *
 * A tool is a write unless its annotations say `readOnlyHint: true`; the operator's `tools.write`
 * patterns win over everything, then `tools.readOnly`. Writes become pending actions like any
 * other; their preview shows the tool, its arguments and its annotations (no current state can be
 * read from an MCP server).
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { GatewayError } from "../errors.js";
import type { UpstreamClient } from "../upstream/upstream-client.js";
import type { BackendTool, McpBackend } from "./backend.js";
import type { McpUpstreamSpec } from "./config.js";

/** The module every backend tool is in (namespaced by the catalog: `<prefix>_tools`). */
export const BACKEND_MODULE = "tools";
/** What a backend tool's request line reads as in previews and audit (`tools/call mcp://everything/echo`). */
export const MCP_CALL = "tools/call";

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

/** Whether a backend tool changes something: the operator's patterns, else its annotations. */
export function isBackendWrite(spec: Pick<McpUpstreamSpec, "readOnly" | "write">, tool: BackendTool): boolean {
  if (spec.write.some((p) => glob(p).test(tool.name))) return true;
  if (spec.readOnly.some((p) => glob(p).test(tool.name))) return false;
  return tool.annotations?.readOnlyHint !== true;
}

function firstSentence(text: string): string {
  const m = /^(.+?[.!?])(\s|$)/s.exec(text.trim());
  return (m ? m[1]! : text.trim()).replace(/\s+/g, " ");
}

/** The JSON Schema keyword the validator sets itself; a backend's draft-07 `$schema` would make it refuse the schema. */
function withoutDialect(schema: { readonly [key: string]: unknown } | undefined): { readonly [key: string]: unknown } | undefined {
  if (!schema) return undefined;
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

/** One descriptor per backend tool, under its own name (the catalog namespaces it). */
export function backendDescriptors(spec: McpUpstreamSpec, tools: readonly BackendTool[]): ToolDescriptor[] {
  return tools.map((tool) => {
    const write = isBackendWrite(spec, tool);
    const input = withoutDialect(tool.inputSchema) ?? { type: "object" };
    const properties = Object.keys((input.properties as Record<string, unknown> | undefined) ?? {});
    const output = withoutDialect(tool.outputSchema);
    const description = tool.description ?? tool.title ?? tool.name;
    return Object.freeze({
      name: tool.name,
      title: tool.title ?? tool.annotations?.title ?? tool.name,
      description: firstSentence(description),
      ...(description.trim() !== firstSentence(description) ? { details: description } : {}),
      module: BACKEND_MODULE,
      inputSchema: input,
      ...(output ? { outputSchema: output } : {}),
      annotations: { ...tool.annotations, readOnlyHint: !write },
      // Not an HTTP call: the binding only lets the preview show the arguments as what is sent.
      binding: {
        method: "POST",
        path: `/${tool.name}`,
        serverPath: `mcp:${spec.name}`,
        arguments: [],
        ...(properties.length > 0 ? { body: { mediaType: "application/json", mode: "flat", properties: Object.fromEntries(properties.map((p) => [p, p])), required: false } } : {}),
        security: [],
        responseMediaTypes: [],
      },
      policy: { write, sensitive: write && tool.annotations?.destructiveHint === true, excluded: false },
    } satisfies ToolDescriptor);
  });
}

/** The UpstreamClient of one backend; `own` maps a catalog name to the backend's own tool name. */
export function backendClient(backend: McpBackend, own: (catalogName: string) => string | undefined): UpstreamClient {
  const ownName = (tool: ToolDescriptor): string => {
    const name = own(tool.name);
    if (name === undefined) throw new GatewayError("not_found", `Unknown tool '${tool.name}'`);
    return name;
  };
  return {
    buildRequest: (tool, args) => ({ method: MCP_CALL, url: `mcp://${backend.name}/${ownName(tool)}`, headers: {}, body: JSON.stringify(args) }),
    async executeUpstream(tool, args, options = {}) {
      const result = await backend.call(ownName(tool), { ...args }, { ...(options.signal ? { signal: options.signal } : {}), ...(options.progress ? { progress: options.progress } : {}) });
      return { delivery: "answered", status: 200, headers: {}, body: result.structuredContent ?? result.content, truncated: false, result };
    },
  };
}
