/**
 * The console's one security middleware: the gateway's Host/Origin allow-list, a strict
 * Content-Security-Policy (no inline script, no framing) and the headers that go with it, and the
 * refusal of cross-site requests to anything that changes state.
 */
import type Koa from "koa";
import type { HttpConfig } from "../config.js";
import { hostAllowed, originAllowed } from "../transports/http/guards.js";

/** The policy every console answer carries. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** The answer shape of every console API error. */
export function consoleError(ctx: Koa.Context, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.set("Cache-Control", "no-store");
  ctx.body = { error: { code, message } };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request is state-changing. */
export function isMutation(method: string): boolean {
  return !SAFE_METHODS.has(method);
}

/** Headers, Host/Origin checks and the cross-site refusal for everything under /console. */
export function consoleSecurity(http: HttpConfig): Koa.Middleware {
  return async function consoleSecurityHeaders(ctx, next) {
    ctx.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.set("X-Frame-Options", "DENY");
    ctx.set("Referrer-Policy", "no-referrer");
    ctx.set("Cross-Origin-Opener-Policy", "same-origin");
    ctx.set("Cross-Origin-Resource-Policy", "same-origin");
    if (!hostAllowed(http.allowedHosts, ctx.get("host") || undefined)) {
      return consoleError(ctx, 403, "forbidden", "Host header not allowed (DNS rebinding protection); add it to http.allowedHosts");
    }
    const origin = ctx.get("origin") || undefined;
    if (!originAllowed(http.allowedOrigins, origin)) {
      return consoleError(ctx, 403, "forbidden", "Origin not allowed; add it to http.allowedOrigins");
    }
    if (isMutation(ctx.method)) {
      // A browser marks a request sent by another site's page; such a request never changes state here.
      const site = ctx.get("sec-fetch-site");
      if (site === "cross-site" || site === "same-site") {
        return consoleError(ctx, 403, "forbidden", "Cross-site request refused: console changes are only accepted from the console's own pages");
      }
      if (origin !== undefined && origin !== "null") {
        let sameHost = false;
        try {
          sameHost = new URL(origin).host.toLowerCase() === (ctx.get("host") || "").toLowerCase();
        } catch {
          sameHost = false;
        }
        if (!sameHost) return consoleError(ctx, 403, "forbidden", `Cross-origin request refused (Origin ${origin} is not this console)`);
      } else if (origin === "null") {
        return consoleError(ctx, 403, "forbidden", "Cross-origin request refused (opaque Origin)");
      }
    }
    await next();
  };
}
