/**
 * Discovery meta-tools for large surfaces: list_modules, search_tools, describe_tool, call_tool
 * and enable_modules. They let an agent in `dynamic` mode find and use any tool in its scope
 * without the whole list in its context.
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { toolDeclaration } from "../../codegen/api-types.js";
import type { Deps } from "../gateway.js";
import type { ToolResult } from "../context.js";
import { argumentShape } from "../surface/argument-shape.js";
import { GatewayError } from "../errors.js";
import { schemaForProfile } from "../surface/schema-profile.js";
import { DEFAULT_LIMIT, MAX_LIMIT, toolSearchFor } from "../surface/search.js";
import { sessionVisibility, surfaceSettings } from "../surface/session-surface.js";
import type { MetaTool, SessionContext } from "../gateway.js";
import { mintState, STATE_META_KEY } from "./state-handle.js";

function ok(structuredContent: Record<string, unknown>, text: string): ToolResult {
  return { content: [{ type: "text", text }], structuredContent };
}

/** The generated tools this session's token may use (visible or not), by name. */
function scopeOf(session: SessionContext): Map<string, ToolDescriptor> {
  const tools = session.gateway.visibleTools(session.principal, session);
  return new Map(tools.map((t) => [t.name, t]));
}

function requireString(args: Record<string, unknown>, key: string): string {
  const v = args[key];
  if (typeof v !== "string" || v.trim() === "") throw new GatewayError("invalid_arguments", `'${key}' must be a non-empty string`);
  return v;
}

function moduleNames(scope: Map<string, ToolDescriptor>): Set<string> {
  return new Set([...scope.values()].map((t) => t.module));
}

/** Builds the discovery meta-tools. */
export function createDiscoveryTools(deps: Deps): readonly MetaTool[] {
  const settingsOf = (session: SessionContext) => surfaceSettings(deps.config.surface, session.params);

  const listModules: MetaTool = {
    name: "list_modules",
    title: "List modules",
    description: "Lists the API's modules you can use, with how many tools each holds and whether they are listed in this session.",
    inputSchema: { type: "object", properties: {}, additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handle(_args, session) {
      const scope = scopeOf(session);
      const visible = new Set(sessionVisibility(settingsOf(session), session.principal, [...scope.values()], session.enabledModules).modules);
      const counts = new Map<string, number>();
      for (const t of scope.values()) counts.set(t.module, (counts.get(t.module) ?? 0) + 1);
      const modules = session.gateway.registry.modules
        .filter((m) => counts.has(m.name))
        .map((m) => ({ name: m.name, description: m.description, tools: counts.get(m.name)!, listed: visible.has(m.name) }));
      const text = modules.map((m) => `${m.name} (${m.tools})${m.description ? `: ${m.description}` : ""}`).join("\n");
      return ok({ modules }, text || "No modules in your scope.");
    },
  };

  const searchTools: MetaTool = {
    name: "search_tools",
    title: "Search tools",
    description: "Finds tools by what you want to do (e.g. \"close an issue\"). Returns names ranked by relevance; then use describe_tool and call_tool.",
    inputSchema: {
      type: "object",
      properties: {
        query: { type: "string", description: "What you want to do, in plain words." },
        module: { type: "string", description: "Only search this module (see list_modules)." },
        limit: { type: "integer", minimum: 1, maximum: MAX_LIMIT, description: `How many results (default ${DEFAULT_LIMIT}).` },
      },
      required: ["query"],
      additionalProperties: false,
    },
    outputSchema: {
      type: "object",
      properties: {
        tools: {
          type: "array",
          items: {
            type: "object",
            properties: { name: { type: "string" }, module: { type: "string" }, summary: { type: "string" }, score: { type: "number" } },
            required: ["name", "module", "summary", "score"],
          },
        },
      },
      required: ["tools"],
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handle(args, session) {
      const query = requireString(args, "query");
      const module = args.module === undefined ? undefined : requireString(args, "module");
      const limit = args.limit === undefined ? DEFAULT_LIMIT : args.limit;
      if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw new GatewayError("invalid_arguments", `'limit' must be an integer from 1 to ${MAX_LIMIT}`);
      }
      const scope = scopeOf(session);
      if (module !== undefined && !moduleNames(scope).has(module)) {
        throw new GatewayError("invalid_arguments", `Unknown module '${module}'; list_modules shows the modules you can use`);
      }
      const tools = toolSearchFor(session.gateway.registry.tools, session.gateway.registry.modules).search(query, { module, limit, allow: (t) => scope.has(t.name) });
      const text = tools.length === 0 ? "No matching tools." : tools.map((t) => `${t.name} (${t.module}): ${t.summary}`).join("\n");
      return ok({ tools }, text);
    },
  };

  const describeTool: MetaTool = {
    name: "describe_tool",
    title: "Describe a tool",
    description: "Shows one tool in full: its input schema, annotations, HTTP method and path, the API's documentation, and its TypeScript signature for run_code.",
    inputSchema: {
      type: "object",
      properties: { name: { type: "string", description: "The tool's name (from search_tools)." } },
      required: ["name"],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handle(args, session) {
      const name = requireString(args, "name");
      const tool = scopeOf(session).get(name);
      if (!tool) throw new GatewayError("not_found", `Unknown tool '${name}'; search_tools finds tools by purpose`);
      const { profile } = settingsOf(session);
      const upstream = session.gateway.registry.upstreamOf?.(tool.name);
      const described = {
        name: tool.name,
        title: tool.title,
        module: tool.module,
        ...(upstream ? { upstream: upstream.name } : {}),
        description: tool.description,
        ...(tool.details ? { details: tool.details } : {}),
        inputSchema: schemaForProfile(tool.inputSchema, profile),
        ...(tool.outputSchema && !tool.policy.write ? { outputSchema: schemaForProfile(tool.outputSchema, profile) } : {}),
        annotations: tool.annotations,
        ...(upstream?.kind === "mcp"
          ? { mcp: { upstream: upstream.name, tool: upstream.tools.get(tool.name) } }
          : { http: { method: tool.binding.method, path: `${tool.binding.serverPath}${tool.binding.path}` }, arguments: argumentShape(tool) }),
        write: tool.policy.write,
        // How run_code's `api.<module>.<tool>` takes it.
        signature: `api.${tool.module}.${toolDeclaration(tool).declaration.split("\n").pop()!}`,
        ...(tool.policy.write ? { note: "A write: calling it returns a pending action that runs only after confirm_action." } : {}),
      };
      return ok(described, JSON.stringify(described));
    },
  };

  const callTool: MetaTool = {
    name: "call_tool",
    title: "Call a tool",
    description: "Calls any tool you can use by name, exactly as a direct call would (writes still return a pending action to confirm).",
    inputSchema: {
      type: "object",
      properties: {
        name: { type: "string", description: "The tool's name." },
        arguments: { type: "object", description: "The tool's arguments, as describe_tool's inputSchema says.", additionalProperties: true },
      },
      required: ["name"],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
    async handle(args, session, call) {
      const name = requireString(args, "name");
      const inner = args.arguments ?? {};
      if (typeof inner !== "object" || inner === null || Array.isArray(inner)) {
        throw new GatewayError("invalid_arguments", "'arguments' must be an object");
      }
      if (session.gateway.metaTools.some((t) => t.name === name)) {
        throw new GatewayError("invalid_arguments", `'${name}' is a gateway tool: call it directly`);
      }
      // The same chain as a direct tools/call: policy, validation, confirm gate; admission already
      // authenticated this request and charged its point.
      const outcome = await session.gateway.call({
        name,
        args: inner as Record<string, unknown>,
        principal: session.principal,
        transport: session.transport,
        ...(session.sessionId !== undefined ? { sessionId: session.sessionId } : {}),
        signal: session.signal,
        ...(session.progress ? { progress: session.progress } : {}),
        session,
        parent: call,
      });
      if (outcome.pending) call.pending = outcome.pending;
      return outcome.result;
    },
  };

  /** enable_modules for a 2026-07-28 request: the modules it carried plus those asked for, in a new handle. */
  function enableByHandle(requested: string[], session: SessionContext): ToolResult {
    const scope = scopeOf(session);
    const known = moduleNames(scope);
    const unknown = requested.filter((m) => !known.has(m));
    if (unknown.length > 0) {
      throw new GatewayError("invalid_arguments", `Unknown module(s): ${unknown.join(", ")}; list_modules shows the modules you can use`);
    }
    const before = session.enabledModules ?? new Set<string>();
    const added = [...new Set(requested)].filter((m) => !before.has(m));
    const enabled = new Set([...before, ...added]);
    const { profile } = settingsOf(session);
    const state = mintState(session.gateway, session.principal.tokenId, { modules: [...enabled], profile });
    const listed = sessionVisibility(settingsOf(session), session.principal, [...scope.values()], enabled).tools.length;
    const result = ok(
      { enabled: [...enabled], added, listedTools: listed, state },
      `Enabled ${[...enabled].join(", ")}; ${listed} tools are listed for requests that send this back in _meta["${STATE_META_KEY}"]: ${state}`,
    );
    return { ...result, _meta: { [STATE_META_KEY]: state } };
  }

  const enableModules: MetaTool = {
    name: "enable_modules",
    title: "Enable modules",
    description: "Adds modules' tools to this session's tool list (the client is told the list changed).",
    inputSchema: {
      type: "object",
      properties: { modules: { type: "array", items: { type: "string" }, minItems: 1, description: "Module names (see list_modules)." } },
      required: ["modules"],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    async handle(args, session) {
      const requested = args.modules;
      if (!Array.isArray(requested) || requested.length === 0 || !requested.every((m) => typeof m === "string")) {
        throw new GatewayError("invalid_arguments", "'modules' must be a non-empty array of module names");
      }
      // MCP 2026-07-28: the modules travel in a signed handle the client sends back.
      if (session.carriesState) return enableByHandle(requested as string[], session);
      // A 2025 HTTP request without a session (a stateless gateway) is forgotten once answered:
      // there is nothing to enable the modules for.
      if (!session.enabledModules || (session.transport === "http" && (deps.config.http.stateless || session.sessionId === undefined))) {
        throw new GatewayError("bad_request", "This request has no session (the gateway runs stateless, or the client speaks MCP 2026-07-28), so it cannot change its tool list; use search_tools and call_tool");
      }
      const known = moduleNames(scopeOf(session));
      const unknown = requested.filter((m) => !known.has(m));
      if (unknown.length > 0) {
        throw new GatewayError("invalid_arguments", `Unknown module(s): ${unknown.join(", ")}; list_modules shows the modules you can use`);
      }
      const added = requested.filter((m) => !session.enabledModules!.has(m));
      for (const m of added) session.enabledModules.add(m);
      if (added.length > 0) await session.notifyToolsChanged();
      const visibility = sessionVisibility(settingsOf(session), session.principal, [...scopeOf(session).values()], session.enabledModules);
      const listed = visibility.tools.length;
      return ok(
        { enabled: [...session.enabledModules], added, listedTools: listed },
        added.length > 0 ? `Enabled ${added.join(", ")}; ${listed} tools are now listed.` : "Already enabled.",
      );
    },
  };

  return [listModules, searchTools, describeTool, callTool, enableModules];
}
