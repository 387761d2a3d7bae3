/**
 * DNS-rebinding protection: the Host and Origin allow-lists, checked before anything else.
 */
import type Koa from "koa";
import { GatewayError } from "../../errors.js";

export function hostAllowed(allowed: readonly string[], host: string | undefined): boolean {
  if (allowed.includes("*")) return true;
  if (!host) return false;
  const h = host.toLowerCase();
  const hostname = h.startsWith("[") ? h.slice(0, h.indexOf("]") + 1) : h.split(":")[0]!;
  return allowed.some((a) => a.toLowerCase() === h || a.toLowerCase() === hostname);
}

export function originAllowed(allowed: readonly string[], origin: string | undefined): boolean {
  if (origin === undefined || allowed.includes("*")) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return allowed.some((a) => a.toLowerCase() === origin.toLowerCase() || a.toLowerCase() === url.hostname.toLowerCase() || a.toLowerCase() === url.host.toLowerCase());
}

/** Refuses a request whose Host or Origin is outside the allow-lists. */
export function hostGuard(config: { allowedHosts: readonly string[]; allowedOrigins: readonly string[] }): Koa.Middleware {
  return async function guardHost(ctx, next) {
    if (!hostAllowed(config.allowedHosts, ctx.get("host") || undefined)) {
      throw new GatewayError("forbidden", "Host header not allowed (DNS rebinding protection); add it to http.allowedHosts");
    }
    if (!originAllowed(config.allowedOrigins, ctx.get("origin") || undefined)) {
      throw new GatewayError("forbidden", "Origin not allowed (DNS rebinding protection); add it to http.allowedOrigins");
    }
    await next();
  };
}

/** Refuses methods the route does not serve, with an Allow header. */
export function methods(allowed: readonly string[]): Koa.Middleware {
  return async function allowMethods(ctx, next) {
    if (!allowed.includes(ctx.method)) {
      throw new GatewayError("method_not_allowed", `Method ${ctx.method} is not allowed on ${ctx.path}${allowed.length === 1 ? `: only ${allowed[0]} is supported` : ""}`, { details: { allow: allowed.join(", ") } });
    }
    await next();
  };
}
