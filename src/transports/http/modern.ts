/**
 * MCP 2026-07-28 beside 2025-11-25 on the one `/mcp` endpoint.
 *
 * A request whose MCP-Protocol-Version header names 2026-07-28 (or later) is admitted from its
 * Mcp-Method / Mcp-Name headers before its body is read: the bearer is authenticated and the call's
 * rate-limit point taken with nothing parsed. Once the body is parsed, the SDK's own classifier
 * (the step `createMcpHandler` and `isLegacyRequest` run) decides the request's era: modern
 * requests, and the modern path's refusals (a header that disagrees with the body, a malformed
 * `_meta` envelope), go to the SDK's stateless handler, which serves each from a fresh server
 * bound to the admitted token (a plain tools/call or tools/list is answered directly instead:
 * modern-direct.ts); legacy requests go on to the sessionful transport as before.
 */
import type { IncomingMessage } from "node:http";
import type Koa from "koa";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { classifyInboundRequest, createMcpHandler, type AuthInfo, type McpRequestContext } from "@modelcontextprotocol/server";
import type { AdmittedCall } from "../../context.js";
import { GatewayError } from "../../errors.js";
import type { Gateway } from "../../gateway.js";
import { createMcpServer, type SessionBinding } from "../../mcp/server.js";
import { bearer, CHARGED } from "./admission.js";
import { answerPlain, plainRequest } from "./modern-direct.js";
import { readBody } from "./body.js";
import { checkParamHeaders, mirroredArguments } from "./param-headers.js";
import { soleRequestId, type McpState } from "./state.js";

/** The first revision of the stateless era; revisions are ISO dates, so they compare as strings. */
export const FIRST_MODERN_REVISION = "2026-07-28";

/** How much of a refused request's body is read, at most, to answer with its JSON-RPC id. */
const ID_PEEK_BYTES = 64 * 1024;

function header(ctx: Koa.Context, name: string): string | undefined {
  return ctx.get(name) || undefined;
}

/** Whether a request announces a 2026-07-28-era protocol revision in its headers. */
export function announcesModern(ctx: Koa.Context): boolean {
  const version = header(ctx, "mcp-protocol-version");
  return ctx.method === "POST" && version !== undefined && version >= FIRST_MODERN_REVISION;
}

/**
 * Admission of a 2026-07-28 request from its headers, before the body is read. A request without
 * Mcp-Method is left to the body's admission (and then refused by the modern path: the header is
 * required). A refusal still answers with the request's id when a small body holds one.
 */
export function headerAdmission(gateway: Gateway): Koa.Middleware<McpState> {
  const maxBody = gateway.deps.config.http.maxBodyBytes;
  return async function admitFromHeaders(ctx, next) {
    const method = announcesModern(ctx) ? header(ctx, "mcp-method") : undefined;
    if (method === undefined) return next();
    const name = header(ctx, "mcp-name");
    const calls: AdmittedCall[] = CHARGED.has(method) ? [{ name: method === "tools/call" ? (name ?? "") : method }] : [];
    const credential = bearer(header(ctx, "authorization"));
    ctx.state.credential = credential;
    try {
      ctx.state.principal = await gateway.admit({ transport: "http", credential, request: `POST /mcp ${method}${name ? ` ${name}` : ""}`, calls, source: ctx.ip });
    } catch (err) {
      if (err instanceof GatewayError && err.rpcId === undefined) err.rpcId = await peekRequestId(ctx.req, Math.min(maxBody, ID_PEEK_BYTES));
      throw err;
    }
    await next();
  };
}

/** The id of the single JSON-RPC request in a body of at most `max` bytes; null when there is none to read. */
async function peekRequestId(req: IncomingMessage, max: number): Promise<string | number | null> {
  try {
    const parsed: unknown = JSON.parse(await readBody(req, max));
    return soleRequestId(Array.isArray(parsed) ? parsed : [parsed]) ?? null;
  } catch {
    return null;
  }
}

/** Sets `ctx.state.era` from the parsed body and headers, exactly as the SDK's handler would route the request. */
export function classifyEra(): Koa.Middleware<McpState> {
  return async function era(ctx, next) {
    const outcome = classifyInboundRequest({
      httpMethod: ctx.method,
      protocolVersionHeader: header(ctx, "mcp-protocol-version"),
      mcpMethodHeader: header(ctx, "mcp-method"),
      mcpNameHeader: header(ctx, "mcp-name"),
      ...(ctx.state.body !== undefined ? { body: ctx.state.body } : {}),
    });
    ctx.state.era = outcome.kind === "legacy" ? "legacy" : "modern";
    await next();
  };
}

/** The per-request state a modern request's server is built with, carried to the SDK's factory. */
interface ModernAuth extends AuthInfo {
  extra: { binding: SessionBinding };
}

/** Serves admitted 2026-07-28 requests with the SDK's stateless handler (strict: it serves no 2025 traffic). */
export function modernServing(gateway: Gateway, bindingFor: (state: McpState) => SessionBinding) {
  const log = gateway.deps.log;
  const onerror = (err: Error) => log.debug({ err }, "2026-07-28 request refused or failed");
  const handler = createMcpHandler(
    (request: McpRequestContext) => {
      const binding = (request.authInfo as ModernAuth | undefined)?.extra.binding;
      if (!binding) throw new GatewayError("internal", "a 2026-07-28 request reached its server without admission", { expose: false });
      return createMcpServer(gateway, binding);
    },
    { legacy: "reject", onerror },
  );
  const node = toNodeHandler(handler, { onerror });
  return {
    async serve(ctx: Koa.ParameterizedContext<McpState>): Promise<void> {
      const binding = bindingFor(ctx.state);
      paramHeaders(gateway, ctx);
      const plain = plainRequest(ctx, gateway);
      if (plain) return answerPlain(gateway, binding, plain, ctx);
      const auth: ModernAuth = { token: "", clientId: binding.principal.tokenId, scopes: [], extra: { binding } };
      ctx.respond = false;
      await node(Object.assign(ctx.req, { auth }), ctx.res, ctx.state.body);
    },
    /** Tells every listening 2026-07-28 client that the tool list changed. */
    toolsChanged(): void {
      handler.notify.toolsChanged();
    },
    close: () => handler.close(),
  };
}

/**
 * Refuses (400, -32020) a tools/call whose Mcp-Param-* headers disagree with its arguments, for a
 * tool that declares mirrored arguments (param-headers.ts); before the call runs, on both paths.
 */
function paramHeaders(gateway: Gateway, ctx: Koa.ParameterizedContext<McpState>): void {
  const m = ctx.state.body as { id?: unknown; method?: unknown; params?: { name?: unknown; arguments?: unknown } } | undefined;
  if (typeof m !== "object" || m === null || Array.isArray(m) || m.method !== "tools/call" || typeof m.params?.name !== "string") return;
  const tool = gateway.registry.get(m.params.name);
  if (!tool) return;
  const mirrored = mirroredArguments(tool.inputSchema);
  if (mirrored.length === 0) return;
  try {
    checkParamHeaders(mirrored, m.params.arguments, ctx.req.headers);
  } catch (err) {
    if (err instanceof GatewayError && (typeof m.id === "string" || typeof m.id === "number")) err.rpcId = m.id;
    throw err;
  }
}

export type ModernServing = ReturnType<typeof modernServing>;
