/**
 * The last middleware of `/mcp`: hands an admitted request to an SDK server. A 2026-07-28 request
 * goes to the SDK's stateless handler (modern.ts). For 2025 requests, stateless gateways
 * answer each POST with a pooled server; stateful ones route by `Mcp-Session-Id` (initialize opens
 * a session). A POST that needs no stream is answered as one JSON body, directly on Node's
 * response; the rest goes to the SDK's Streamable HTTP transport.
 */
import type Koa from "koa";
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import type { Server } from "@modelcontextprotocol/server";
import { GatewayError } from "../../errors.js";
import type { Gateway } from "../../gateway.js";
import { createMcpServer, type SessionBinding } from "../../mcp/server.js";
import { directMessages } from "../session-transport.js";
import type { ModernServing } from "./modern.js";
import type { LiveSession, Sessions } from "./sessions.js";
import { wantsProgress, type JsonRpcMessage, type McpState } from "./state.js";

/** Serves admitted `/mcp` requests. */
export function mcpHandler(gateway: Gateway, sessions: Sessions, modern: ModernServing): Koa.Middleware<McpState> {
  const config = gateway.deps.config.http;
  const log = gateway.deps.log;

  /**
   * Whether a POST must be answered as an SSE stream: something may be sent before its answer
   * (progress, relayed upstream events as logs, a confirm elicitation) or a long call may switch to polling.
   */
  function needsStream(binding: SessionBinding, server: Server, messages: readonly JsonRpcMessage[]): boolean {
    if (wantsProgress(messages) || binding.logLevel !== undefined || config.pollAfterMs > 0) return true;
    return gateway.deps.config.confirm.elicitation && server.getClientCapabilities()?.elicitation !== undefined && messages.some((m) => m.method === "tools/call");
  }

  async function stateless(ctx: Koa.ParameterizedContext<McpState>): Promise<void> {
    const { principal, body, messages, params } = ctx.state;
    // Without a session nothing can arrive later, so a POST that asked for no progress is answered
    // as one plain JSON body, by a server kept from an earlier request.
    const direct = wantsProgress(messages) ? undefined : directMessages(ctx.req, body);
    ctx.respond = false;
    if (direct) {
      const pooled = sessions.takeStateless(principal!, params);
      pooled.transport.answer(ctx.res, direct, () => sessions.releaseStateless(pooled));
      return;
    }
    const server = createMcpServer(gateway, sessions.binding(principal!, params));
    const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !wantsProgress(messages) });
    await server.connect(transport);
    ctx.res.on("close", () => {
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    });
    await transport.handleRequest(ctx.req, ctx.res, body);
  }

  async function stateful(ctx: Koa.ParameterizedContext<McpState>): Promise<void> {
    const { principal, body, messages, params } = ctx.state;
    const sessionId = ctx.get("mcp-session-id") || undefined;
    let current: LiveSession;
    if (sessionId) current = sessions.get(sessionId, principal!);
    else if (ctx.method === "POST" && messages.some((m) => m.method === "initialize")) current = await sessions.open(principal!, params);
    else throw new GatewayError("bad_request", "Mcp-Session-Id header is required (initialize first)");

    current.inflight++;
    current.lastSeen = Date.now();
    ctx.respond = false;
    ctx.res.on("close", () => {
      current.inflight--;
      current.lastSeen = Date.now();
      // An initialize the SDK refused never became a session: release its server.
      if (current.id === "") void current.transport.close().then(() => current.server.close()).catch(() => undefined);
    });
    const direct = current.id !== "" && ctx.method === "POST" && !needsStream(current.binding, current.server, messages) ? directMessages(ctx.req, body) : undefined;
    if (direct) {
      current.transport.answer(ctx.res, direct);
      return;
    }
    try {
      await current.sdk.handleRequest(ctx.req, ctx.res, body);
    } catch (err) {
      log.error({ err }, "streamable HTTP transport failed");
      if (!ctx.res.headersSent) {
        ctx.res.statusCode = 500;
        ctx.res.end();
      }
    }
  }

  return function serveMcp(ctx) {
    if (ctx.state.era === "modern") return modern.serve(ctx);
    return config.stateless ? stateless(ctx) : stateful(ctx);
  };
}
