/**
 * A plain 2026-07-28 `tools/call` or `tools/list` answered directly as one JSON body, after
 * admission, without building an SDK server for it (what the SDK's stateless handler does per
 * request, and most of what such a request cost). "Plain" is narrow on purpose: exactly one request,
 * its headers agreeing with its body, nothing in `_meta` beyond the envelope (no progress token, no
 * trace context, no task), no cursor, no input-request retry, a client that cannot be asked a
 * question (so no confirmation becomes an input request), and a tool that is not a meta tool (those
 * may change the session's tool list). Everything else, and every malformed request, goes to the
 * SDK's handler, which answers it exactly as before.
 */
import type { ServerResponse } from "node:http";
import type Koa from "koa";
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  isJsonContentType,
  PROTOCOL_VERSION_META_KEY,
  SERVER_INFO_META_KEY,
} from "@modelcontextprotocol/server";
import { toJsonRpcError } from "../../errors.js";
import type { Gateway, SessionContext } from "../../gateway.js";
import { listPage, SERVER_INFO, shapeCallResult, type SessionBinding } from "../../mcp/server.js";
import { servesTasks } from "../../mcp/tasks.js";
import { traceOf } from "../../telemetry/call-trace.js";
import type { McpState } from "./state.js";
import { isObject, onlyKeys } from "../../shape.js";

/** The one revision answered here (the SDK's handler answers the rest, or refuses them). */
const REVISION = "2026-07-28";
const ENVELOPE_KEYS = new Set([PROTOCOL_VERSION_META_KEY, CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY]);
const RESULT_META = { [SERVER_INFO_META_KEY]: SERVER_INFO };

type Plain = { id: string | number; method: "tools/list" } | { id: string | number; method: "tools/call"; name: string; args: Record<string, unknown> };

/** The request, when it is plain (see the file comment); undefined sends it to the SDK's handler. */
export function plainRequest(ctx: Koa.ParameterizedContext<McpState>, gateway: Gateway): Plain | undefined {
  const headers = ctx.req.headers;
  if (ctx.method !== "POST" || !isJsonContentType(headers["content-type"])) return undefined;
  if (headers["mcp-protocol-version"] !== REVISION) return undefined;
  const m = ctx.state.body;
  if (!isObject(m) || m.jsonrpc !== "2.0" || !onlyKeys(m, ["jsonrpc", "id", "method", "params"])) return undefined;
  const { id, method, params } = m;
  if ((typeof id !== "string" && typeof id !== "number") || headers["mcp-method"] !== method || !isObject(params)) return undefined;
  const meta = params._meta;
  if (!isObject(meta) || meta[PROTOCOL_VERSION_META_KEY] !== REVISION || !isObject(meta[CLIENT_INFO_META_KEY])) return undefined;
  for (const k of Object.keys(meta)) if (!ENVELOPE_KEYS.has(k)) return undefined;
  const capabilities = meta[CLIENT_CAPABILITIES_META_KEY];
  if (!isObject(capabilities) || capabilities.elicitation !== undefined || capabilities.extensions !== undefined) return undefined;
  if (method === "tools/list") return onlyKeys(params, ["_meta"]) && headers["mcp-name"] === undefined ? { id, method } : undefined;
  if (method !== "tools/call" || !onlyKeys(params, ["name", "arguments", "_meta"])) return undefined;
  const { name, arguments: args = {} } = params;
  if (typeof name !== "string" || headers["mcp-name"] !== name || !isObject(args)) return undefined;
  if (gateway.metaTools.some((t) => t.name === name)) return undefined;
  // A tool that runs only as a task: the SDK's handler refuses this client (it did not negotiate tasks).
  if (servesTasks(gateway) && gateway.registry.get(name)?.policy.task === "required") return undefined;
  return { id, method, name, args };
}

/** The result's `_meta` names the server, as the SDK stamps it (a `_meta` the result has is kept). */
function stamped(result: Record<string, unknown>): Record<string, unknown> {
  const meta = result._meta;
  if (meta === undefined) return { ...result, resultType: "complete", _meta: RESULT_META };
  if (!isObject(meta) || meta[SERVER_INFO_META_KEY] !== undefined) return { ...result, resultType: "complete" };
  return { ...result, resultType: "complete", _meta: { ...meta, ...RESULT_META } };
}

function reply(res: ServerResponse, id: string | number, body: { result: unknown } | { error: unknown }): void {
  if (res.writableEnded || res.destroyed) return; // the client went away
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...body, jsonrpc: "2.0", id }));
}

/** Answers a plain request (see `plainRequest`) on Node's response. */
export async function answerPlain(gateway: Gateway, binding: SessionBinding, request: Plain, ctx: Koa.ParameterizedContext<McpState>): Promise<void> {
  const res = ctx.res;
  ctx.respond = false;
  // A client that goes away mid-call cancels it, and so its upstream request.
  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableEnded) abort.abort(new Error("the client disconnected"));
  };
  res.once("close", onClose);
  const session: SessionContext = {
    principal: binding.principal,
    transport: binding.transport,
    sessionId: undefined,
    signal: abort.signal,
    gateway,
    enabledModules: binding.enabledModules,
    params: binding.params,
    notifyToolsChanged: async () => {}, // only meta tools change the list, and those are not answered here
  };
  try {
    if (request.method === "tools/list") {
      const { mcp } = gateway.deps.config;
      const page = listPage(gateway.listTools(session), undefined, mcp.pageSize);
      reply(res, request.id, { result: { ...page, resultType: "complete", ttlMs: mcp.listTtlMs, cacheScope: "private", _meta: RESULT_META } });
      return;
    }
    const { name, args } = request;
    const outcome = await gateway.call({ name, args, principal: binding.principal, transport: binding.transport, sessionId: undefined, signal: abort.signal, session, trace: traceOf(request.id, REVISION, undefined) });
    // A pending write's result already says how to confirm it (confirm_action): this client cannot be asked.
    reply(res, request.id, { result: stamped({ ...shapeCallResult(gateway, name, outcome.result) }) });
  } catch (err) {
    reply(res, request.id, { error: toJsonRpcError(err) });
  } finally {
    res.off("close", onClose);
  }
}
