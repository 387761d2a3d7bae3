/**
 * The MCP server adapter: the SDK's low-level Server with raw JSON Schema tools. It translates
 * tools/list and tools/call into Gateway calls; everything else about a call lives in the chain.
 */
import { ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type InputRequiredResult, type jsonSchemaValidator, type LoggingLevel, type RequestId, type ServerContext } from "@modelcontextprotocol/server";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/server/validators/ajv";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import type { Gateway, SessionContext } from "../gateway.js";
import type { Principal, ProgressSink, ToolResult, Transport } from "../context.js";
import { toJsonRpcError, toToolResult } from "../errors.js";
import { elicitPendingConfirmation } from "./confirm-elicitation.js";
import { answerConfirmation, askToConfirm, confirmsByInputRequest } from "./confirm-input-required.js";
import { traceOf } from "../telemetry/call-trace.js";
import { cardMeta, clientShowsApps, serveCard, withCard } from "./apps/ui.js";
import { carriedState } from "./state-handle.js";
import { plainLane, type PlainLane } from "./plain-lane.js";
import { callAsTask, negotiatesTasks, servesTasks, taskRequired, tasksCapabilityMissing, TASKS_EXTENSION } from "./tasks.js";
import { serveTaskMethods } from "./task-methods.js";
import { GatewayError } from "../errors.js";

/** The state one MCP session (one client connection) carries across its requests. */
export interface SessionBinding {
  readonly transport: Transport;
  /**
   * Set when the server admits each request itself (stdio: the process's MCP_TOKEN, checked on
   * every request). Over HTTP the transport admits each request before the SDK sees it and sets
   * `principal`.
   */
  readonly credential?: string;
  /** Its token hash, worked out once (stdio: see AdmissionRequest.credentialHash). */
  readonly credentialHash?: string;
  /** The principal admission resolved, for the request being handled. */
  principal: Principal;
  /** Connection parameters (HTTP query string, or env equivalents for stdio). */
  readonly params: Readonly<Record<string, string>>;
  readonly enabledModules: Set<string>;
  /** Set when the client asked for log messages (logging/setLevel); upstream events are then also relayed as logs. */
  logLevel?: LoggingLevel;
}

export const SERVER_INFO = { name: "countersign", version: "0.1.0" } as const;

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString("base64url");
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  try {
    const o = (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { o?: unknown }).o;
    if (typeof o === "number" && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // fall through
  }
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, "Invalid cursor: pass the nextCursor of a previous tools/list answer");
}

const SEVERITY: readonly LoggingLevel[] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

type Notify = (n: { method: string; params: Record<string, unknown> }) => Promise<void>;

/**
 * Relays upstream events: as notifications/progress when the client sent a progressToken (the
 * counter strictly increasing, as MCP requires), and as info log messages when it asked for logs.
 */
function eventSink(token: string | number | undefined, logLevel: LoggingLevel | undefined, send: Notify): ProgressSink | undefined {
  const logs = logLevel !== undefined && SEVERITY.indexOf(logLevel) <= SEVERITY.indexOf("info");
  if (token === undefined && !logs) return undefined;
  let last = 0;
  return (message, progress, total) => {
    if (token !== undefined) {
      last = progress !== undefined && progress > last ? progress : last + 1;
      send({ method: "notifications/progress", params: { progressToken: token, progress: last, ...(total !== undefined ? { total } : {}), message } }).catch(() => undefined);
    }
    if (logs) send({ method: "notifications/message", params: { level: "info", logger: "upstream", data: message } }).catch(() => undefined);
  };
}

/**
 * Clients (the SDK's among them) check any structuredContent against the tool's outputSchema,
 * even on errors; an error's details then travel as a JSON text block instead.
 */
function fitOutputSchema(result: ToolResult, hasOutputSchema: boolean): ToolResult {
  if (!result.isError || !hasOutputSchema || !result.structuredContent) return result;
  const { structuredContent, ...rest } = result;
  return { ...rest, content: [...rest.content, { type: "text", text: JSON.stringify(structuredContent) }] };
}

/** One page of a tools/list answer (the cursor is an offset the gateway minted). */
export function listPage<T>(all: readonly T[], cursor: string | undefined, pageSize: number): { tools: T[]; nextCursor?: string } {
  const offset = decodeCursor(cursor);
  const page = all.slice(offset, offset + pageSize);
  const next = offset + pageSize < all.length ? encodeCursor(offset + pageSize) : undefined;
  return { tools: page, ...(next ? { nextCursor: next } : {}) };
}

/** A call's result as the client gets it: only an outputSchema the client was shown matters. */
export function shapeCallResult(gateway: Gateway, name: string, result: ToolResult): ToolResult {
  // tools/list omits writes' outputSchema and, unless configured, all generated ones.
  const meta = gateway.metaTools.find((t) => t.name === name);
  const tool = meta ? undefined : gateway.registry.get(name);
  const hasOutputSchema = meta ? Boolean(meta.outputSchema) : Boolean(tool?.outputSchema && !tool.policy.write && gateway.deps.config.surface.listOutputSchemas);
  return fitOutputSchema(result, hasOutputSchema);
}

/** Turns a gateway refusal at list time into a JSON-RPC error. */
function rpcError(err: unknown): ProtocolError {
  const e = toJsonRpcError(err);
  return new ProtocolError(e.code, e.message, e.data);
}

/**
 * The SDK validates what clients answer to an elicitation with this. By default each Server builds
 * its own Ajv instance (with every format), most of what a Server costs to construct; one serves
 * every session here. Ajv keeps each schema it compiled; these are one-off, so each is let go.
 */
let sharedValidator: jsonSchemaValidator | undefined;

function elicitationValidator(): jsonSchemaValidator {
  if (sharedValidator) return sharedValidator;
  const ajv = new Ajv({ strict: false, validateFormats: true, validateSchema: false, allErrors: true });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  const inner = new AjvJsonSchemaValidator(ajv);
  const validator: jsonSchemaValidator = {
    getValidator<T>(schema: Parameters<jsonSchemaValidator["getValidator"]>[0]) {
      const validate = inner.getValidator<T>(schema);
      ajv.removeSchema(schema as object);
      return validate;
    },
  };
  sharedValidator = validator;
  return validator;
}

/** Creates one SDK Server bound to one session of a gateway. */
export function createMcpServer(gateway: Gateway, binding: SessionBinding): Server {
  const server = new Server(SERVER_INFO, {
    jsonSchemaValidator: elicitationValidator(),
    capabilities: { tools: { listChanged: true }, logging: {}, resources: {}, ...(servesTasks(gateway) ? { extensions: { [TASKS_EXTENSION]: {} } } : {}) },
    // 2026-07-28 list results say how long they may be cached; the list depends on the token: private.
    cacheHints: { "tools/list": { ttlMs: gateway.deps.config.mcp.listTtlMs, cacheScope: "private" } },
    instructions:
      "Tools call the upstream API. Write tools do not change anything at once: they answer with a pending action " +
      "that runs only when confirmed.",
  });
  const pageSize = gateway.deps.config.mcp.pageSize;

  function session(ctx: ServerContext, meta: unknown, progress?: ProgressSink, signal: AbortSignal = ctx.mcpReq.signal): SessionContext {
    return sessionOf(ctx.sessionId, signal, meta, progress);
  }

  function sessionOf(sessionId: string | undefined, signal: AbortSignal, meta: unknown, progress?: ProgressSink): SessionContext {
    const carried = carriedState(gateway, binding, sessionId, server.getNegotiatedProtocolVersion(), meta);
    return {
      principal: binding.principal,
      transport: binding.transport,
      sessionId,
      signal,
      progress,
      gateway,
      enabledModules: binding.enabledModules,
      params: binding.params,
      ...carried,
      notifyToolsChanged: () => server.sendToolListChanged(),
      notifyLog: (level, data) => server.sendLoggingMessage({ level, logger: "countersign", data }, sessionId),
    };
  }

  // MCP Apps: the pending-action card, for clients that declare the UI extension (src/mcp/apps).
  serveCard(server);

  server.setRequestHandler("logging/setLevel", async (request) => {
    binding.logLevel = request.params.level;
    return {};
  });

  /** stdio: every request is admitted here, so a token revoked mid-session fails on its next request. */
  async function admitHere(request: string, calls?: { id: RequestId; name: string; args: unknown }[]): Promise<void> {
    if (binding.credential === undefined) return;
    binding.principal = await gateway.admit({ transport: binding.transport, credential: binding.credential, ...(binding.credentialHash ? { credentialHash: binding.credentialHash } : {}), request, calls });
  }

  // The tasks extension's methods (tasks/get, tasks/update, tasks/cancel), when calls can become tasks.
  if (servesTasks(gateway)) {
    serveTaskMethods(gateway, server, {
      admit: async (method) => (await admitHere(method), binding.principal),
      session: (ctx, signal) => session(ctx, undefined, undefined, signal),
    });
  }

  server.setRequestHandler("tools/list", async (request, ctx) => {
    let all: ReturnType<typeof gateway.listTools>;
    try {
      await admitHere("tools/list");
      all = gateway.listTools(session(ctx, request.params?._meta));
    } catch (err) {
      throw rpcError(err);
    }
    // MCP Apps clients see which tools answer with the pending-action card.
    const listed = clientShowsApps(server, ctx) ? all.map((t) => (gateway.registry.get(t.name)?.policy.write ? { ...t, _meta: cardMeta((t as { _meta?: Record<string, unknown> })._meta) } : t)) : all;
    return listPage(listed, request.params?.cursor, pageSize) as never;
  });

  server.setRequestHandler("tools/call", async (request, ctx) => {
    const { name } = request.params;
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    try {
      await admitHere("tools/call", [{ id: ctx.mcpReq.id, name, args }]);
    } catch (err) {
      return toToolResult(err) as CallToolResult;
    }
    const progress = eventSink(request.params._meta?.progressToken, binding.logLevel, (n) => ctx.mcpReq.notify(n as never));
    // A long call lets go of its stream: the client reconnects with Last-Event-ID and gets the result then.
    // A client that negotiated tasks gets a task instead (tasks.ts), never a closed stream. A tool
    // that runs only as a task refuses a 2026-07-28 client that did not negotiate them, before it runs.
    const asTask = servesTasks(gateway) && negotiatesTasks(server, ctx);
    const onlyAsTask = taskRequired(gateway, server, name);
    if (onlyAsTask && !asTask) throw tasksCapabilityMissing(`${name} (it runs only as a task)`);
    const pollAfter = gateway.deps.config.http.pollAfterMs;
    const poll = !asTask && pollAfter > 0 && ctx.http?.closeSSE ? setTimeout(() => ctx.http?.closeSSE?.(), pollAfter) : undefined;
    const byInputRequest = confirmsByInputRequest(gateway, server, ctx);
    const state = byInputRequest ? ctx.mcpReq.requestState() : undefined;
    /** The call's answer; `signal` is the request's, or the task's once the call became one. */
    const answer = async (signal: AbortSignal): Promise<CallToolResult | InputRequiredResult> => {
      let here: SessionContext;
      try {
        here = session(ctx, request.params._meta, progress, signal);
      } catch (err) {
        throw rpcError(err);
      }
      // The retry of a confirmation asked as an input request: the sealed state says what runs.
      if (typeof state === "string") return (await answerConfirmation(gateway, here, name, state, ctx.mcpReq.inputResponses)) as CallToolResult;
      const outcome = await gateway.call({
        name,
        args,
        principal: binding.principal,
        transport: binding.transport,
        sessionId: ctx.sessionId,
        signal,
        progress,
        session: here,
        trace: traceOf(ctx.mcpReq.id, server.getNegotiatedProtocolVersion(), request.params._meta),
      });
      if (outcome.pending && byInputRequest) return askToConfirm(gateway, here, name, outcome.pending);
      const settled = outcome.pending ? await elicitPendingConfirmation(gateway, server, here, ctx, outcome) : outcome.result;
      const answered = outcome.pending && clientShowsApps(server, ctx) ? withCard(settled) : settled;
      return shapeCallResult(gateway, name, answered) as CallToolResult;
    };
    try {
      // A client that negotiated tasks: a slow call (or a write to confirm) answers with a task.
      if (asTask) {
        try {
          return (await callAsTask(gateway, binding.principal.tokenId, name, ctx.mcpReq.signal, answer, onlyAsTask)) as CallToolResult;
        } catch (err) {
          throw err instanceof GatewayError ? rpcError(err) : err;
        }
      }
      return (await answer(ctx.mcpReq.signal)) as CallToolResult;
    } finally {
      clearTimeout(poll);
    }
  });

  lanes.set(
    server,
    plainLane(gateway, binding, server, async (call, signal) => {
      try {
        await admitHere("tools/call", [call]);
      } catch (err) {
        return toToolResult(err);
      }
      const { id, name, args } = call;
      const sessionId = server.transport?.sessionId;
      const here = sessionOf(sessionId, signal, undefined);
      const trace = traceOf(id, server.getNegotiatedProtocolVersion(), undefined);
      const outcome = await gateway.call({ name, args, principal: binding.principal, transport: binding.transport, sessionId, signal, session: here, trace });
      return shapeCallResult(gateway, name, outcome.result);
    }),
  );
  return server;
}

const lanes = new WeakMap<Server, PlainLane>();

/** The fast lane of a server `createMcpServer` built (see plain-lane.ts). */
export function laneOf(server: Server): PlainLane | undefined {
  return lanes.get(server);
}
