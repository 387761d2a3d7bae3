/**
 * The authorization server over HTTP: discovery, registration, /authorize and /token on the
 * gateway's Koa router, each behind the transport's Host/Origin guard and a per-IP limit (and, at
 * /authorize and /token, a per-client one). Consent itself happens in the console.
 */
import type Koa from "koa";
import type Router from "@koa/router";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { Gateway } from "../gateway.js";
import { hostGuard } from "../transports/http/guards.js";
import { registerClient } from "./clients.js";
import { OAuthError } from "./errors.js";
import { authorizationServerMetadata, issuerOf, PATHS, protectedResourceMetadata, resourceMetadataUrl, resourceOf } from "./metadata.js";

const MAX_BODY = 16 * 1024;

/** The console page a held request is decided on. */
export function consentPath(requestId: string): string {
  return `/console/#/consent?request=${encodeURIComponent(requestId)}`;
}

async function readBody(ctx: Koa.Context): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new OAuthError("invalid_request", `the body exceeds ${MAX_BODY} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A form body (RFC 6749 §4.1.3): each parameter once. */
async function readForm(ctx: Koa.Context): Promise<Record<string, string>> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(ctx.get("content-type"))) {
    throw new OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded");
  }
  const form = new URLSearchParams(await readBody(ctx));
  const out: Record<string, string> = {};
  for (const [k, v] of form) {
    if (k in out) throw new OAuthError("invalid_request", `parameter ${k} is repeated`);
    out[k] = v;
  }
  return out;
}

function answer(ctx: Koa.Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.set("Cache-Control", "no-store");
  ctx.set("Access-Control-Allow-Origin", "*");
  ctx.body = body;
}

/** Adds the OAuth endpoints, and the pointer a 401 on /mcp carries, to the gateway's router. */
export function addOAuthRoutes(router: Router, gateway: Gateway): void {
  const authority = gateway.deps.oauth;
  if (!authority) return;
  const { config } = gateway.deps;
  const trustProxy = config.console.trustProxy;
  const guard = hostGuard(config.http);
  const perIp = new RateLimiterMemory({ points: config.oauth.ipRequestsPerMinute, duration: 60 });
  const perClient = new RateLimiterMemory({ points: config.oauth.clientRequestsPerMinute, duration: 60 });

  async function limit(limiter: RateLimiterMemory, key: string, what: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const seconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new OAuthError("temporarily_unavailable", `too many requests from this ${what}: retry in ${seconds} s`, 429, seconds);
    }
  }

  /** Renders an OAuthError as RFC 6749's JSON; everything else is the gateway's error middleware's. */
  const oauthErrors: Koa.Middleware = async function answerOAuthErrors(ctx, next) {
    try {
      await limit(perIp, ctx.ip, "address");
      await next();
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      if (err.retryAfterSeconds !== undefined) ctx.set("Retry-After", String(err.retryAfterSeconds));
      answer(ctx, err.status, err.body());
    }
  };

  // Browser-based clients (the Inspector) read the metadata and call /register and /token from
  // another origin: these answer CORS preflights. No cookie is ever read here, so `*` is safe.
  const preflight: Koa.Middleware = async function answerPreflight(ctx) {
    ctx.status = 204;
    ctx.set("Access-Control-Allow-Origin", "*");
    ctx.set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    ctx.set("Access-Control-Allow-Headers", "content-type, mcp-protocol-version");
    ctx.set("Access-Control-Max-Age", "600");
  };
  for (const path of [PATHS.protectedResource, `${PATHS.protectedResource}/mcp`, PATHS.authorizationServer, PATHS.register, PATHS.token]) {
    router.options(path, guard, preflight);
  }

  const metadata = (build: (issuer: string) => unknown): Koa.Middleware => async function serveMetadata(ctx) {
    answer(ctx, 200, build(issuerOf(ctx, trustProxy)));
    ctx.set("Cache-Control", "public, max-age=300");
  };
  for (const path of [PATHS.protectedResource, `${PATHS.protectedResource}/mcp`]) {
    router.get(path, guard, oauthErrors, metadata(protectedResourceMetadata));
  }
  router.get(PATHS.authorizationServer, guard, oauthErrors, metadata((issuer) => authorizationServerMetadata(issuer, config.oauth)));

  router.post(PATHS.register, guard, oauthErrors, async function register(ctx) {
    if (!config.oauth.registration) {
      throw new OAuthError("invalid_client_metadata", "Dynamic Client Registration is turned off on this gateway (oauth.registration); use a Client ID Metadata Document (an HTTPS URL as client_id)", 403);
    }
    if (!/^application\/json\b/i.test(ctx.get("content-type"))) throw new OAuthError("invalid_client_metadata", "send the client metadata as application/json");
    let meta: unknown;
    try {
      meta = JSON.parse(await readBody(ctx));
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      throw new OAuthError("invalid_client_metadata", "the body is not valid JSON");
    }
    if (!meta || typeof meta !== "object" || Array.isArray(meta)) throw new OAuthError("invalid_client_metadata", "the body must be a JSON object");
    const client = await registerClient(authority.store, meta as Record<string, unknown>, new Date(gateway.deps.now()));
    await authority.registered(client, ctx.ip);
    answer(ctx, 201, { client_id: client.clientId, client_id_issued_at: Math.floor(Date.parse(client.registeredAt) / 1000), client_name: client.clientName, redirect_uris: client.redirectUris, grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" });
  });

  router.get(PATHS.authorize, guard, oauthErrors, async function authorize(ctx) {
    const params: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(ctx.query)) {
      if (Array.isArray(v)) throw new OAuthError("invalid_request", `parameter ${k} is repeated`);
      params[k] = v;
    }
    if (params.client_id) await limit(perClient, params.client_id, "client");
    const issuer = issuerOf(ctx, trustProxy);
    const outcome = await authority.authorize(params, resourceOf(issuer));
    if (outcome.ok) return ctx.redirect(consentPath(outcome.request.id));
    if (outcome.redirect) return ctx.redirect(outcome.redirect);
    // Not safe to send anywhere (unknown client, unregistered redirect): the person sees why.
    ctx.status = outcome.error.status;
    ctx.set("Cache-Control", "no-store");
    ctx.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.type = "text/plain; charset=utf-8";
    ctx.body = `This sign-in request cannot continue: ${outcome.error.error}: ${outcome.error.message}\n`;
  });

  router.post(PATHS.token, guard, oauthErrors, async function token(ctx) {
    const form = await readForm(ctx);
    if (form.client_id) await limit(perClient, form.client_id, "client");
    answer(ctx, 200, await authority.token(form));
    ctx.set("Pragma", "no-cache");
  });
}

/** On /mcp: where a 401 points clients (the protected-resource metadata URL). */
export function resourceMetadataPointer(gateway: Gateway): Koa.Middleware {
  const trustProxy = gateway.deps.config.console.trustProxy;
  return async function pointToMetadata(ctx, next) {
    if (gateway.deps.oauth) (ctx.state as { resourceMetadata?: string }).resourceMetadata = resourceMetadataUrl(issuerOf(ctx, trustProxy));
    await next();
  };
}
