/**
 * Admission over HTTP: the bearer token is read from the Authorization header and the request runs
 * the gateway's admission chain (authenticate once, one normal-bucket point per tools/call and per
 * initialize, refusals audited) before the SDK sees it, so that a refusal can be a 401 or a 429.
 */
import type Koa from "koa";
import type { AdmittedCall } from "../../context.js";
import type { Gateway } from "../../gateway.js";
import type { McpState } from "./state.js";

/**
 * The credential of an Authorization header: the token of `Bearer <token>`; anything else is passed
 * on whole, for the authenticator to refuse as malformed (with its reason, like every 401).
 */
export function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : header;
}

/** Methods that take a point of the token's normal bucket: each call, and each session opened. */
export const CHARGED = new Set(["tools/call", "initialize"]);

/** Runs admission for each `/mcp` request and puts the principal in `ctx.state`. */
export function admission(gateway: Gateway): Koa.Middleware<McpState> {
  return async function admit(ctx, next) {
    // A 2026-07-28 request was admitted from its headers already.
    if (ctx.state.principal) return next();
    const calls: AdmittedCall[] = [];
    for (const m of ctx.state.messages) {
      if (!m.method || !CHARGED.has(m.method) || m.id === undefined || m.id === null) continue;
      calls.push({ id: m.id, name: m.method === "initialize" ? "initialize" : String(m.params?.name), args: m.params?.arguments });
    }
    const request = { transport: "http" as const, sessionId: ctx.get("mcp-session-id") || undefined, request: `${ctx.method} /mcp`, calls, source: ctx.ip };
    const credential = bearer(ctx.get("authorization") || undefined);
    ctx.state.credential = credential;
    ctx.state.principal = await gateway.admit({ ...request, credential });
    await next();
  };
}
