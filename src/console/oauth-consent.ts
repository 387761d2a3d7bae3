/**
 * The console API of OAuth consent (docs/oauth.md): the held authorization request the consent
 * page shows, the signed-in person's decision on it, and the grants people gave, to list and
 * revoke. Mounted by the console, so its session, CSRF and security headers apply.
 */
import type Koa from "koa";
import type { Gateway } from "../gateway.js";
import { issuerOf } from "../oauth/metadata.js";
import type { Grant, GrantScope } from "../oauth/contract.js";
import { parseExpiry } from "../tokens/duration.js";
import type { MemberLimits } from "./admins.js";
import { ApiError, modulesOf, readJson, type Who } from "./views.js";

/** How long a grant lasts when the person keeps the default. */
export const DEFAULT_GRANT_EXPIRY = "30d";

type Handler = (ctx: Koa.Context, caller: Who, params: Record<string, string>) => Promise<unknown>;

/** A grant as the API shows it. */
function grantView(g: Grant, now: number) {
  const status = g.revokedAt ? "revoked" : Date.parse(g.scope.expiresAt) <= now ? "expired" : "active";
  return { id: g.id, clientId: g.clientId, clientName: g.clientName, user: g.userName, modules: g.scope.modules, readOnly: g.scope.readOnly, expiresAt: g.scope.expiresAt, createdAt: g.createdAt, revokedAt: g.revokedAt ?? null, revokedWhy: g.revokedWhy ?? null, status };
}

/** The routes, for the console's router (paths under /console/api). */
export function oauthConsentRoutes(gateway: Gateway, now: () => number): { method: string; path: string; handler: Handler }[] {
  const trustProxy = gateway.deps.config.console.trustProxy;
  function authority() {
    const a = gateway.deps.oauth;
    if (!a) throw new ApiError(404, "not_found", "OAuth is turned off on this gateway (oauth.enabled)");
    return a;
  }

  /** Refuses a scope beyond a member's limits, saying which limit. */
  function withinLimits(scope: GrantScope, limits: MemberLimits | undefined): GrantScope {
    if (!limits) return scope;
    if (limits.modules !== "all") {
      const allowed = new Set(limits.modules);
      const beyond = scope.modules === "all" ? ["all"] : scope.modules.filter((m) => !allowed.has(m));
      if (beyond.length > 0) throw new ApiError(403, "forbidden", `You may allow only the modules ${limits.modules.join(", ")} (not ${beyond.join(", ")}); ask an admin for more`);
    }
    if (limits.readOnly && !scope.readOnly) throw new ApiError(403, "forbidden", "You may allow read-only access only; tick Read-only, or ask an admin");
    const longest = now() + limits.maxExpiryDays * 86_400_000;
    if (Date.parse(scope.expiresAt) > longest) throw new ApiError(403, "forbidden", `You may allow access for at most ${limits.maxExpiryDays} days`);
    return scope;
  }

  /** Whether the caller may see and revoke a grant: admins all, members their own. */
  const mine = (g: Grant, caller: Who) => caller.admin.role !== "member" || g.userId === caller.admin.id;

  function scopeOf(body: Record<string, unknown>): GrantScope {
    const modules = modulesOf(body.modules, gateway.registry.modules.map((m) => m.name));
    if (body.readOnly !== undefined && typeof body.readOnly !== "boolean") throw new ApiError(400, "invalid_arguments", "readOnly must be true or false");
    const expires = body.expires ?? DEFAULT_GRANT_EXPIRY;
    if (typeof expires !== "string") throw new ApiError(400, "invalid_arguments", "expires must be a duration like 30d or an ISO date");
    const parsed = parseExpiry(expires, new Date(now()));
    if (!parsed.ok) throw new ApiError(400, "invalid_arguments", parsed.reason.replace("--expires", "expires"));
    return { modules, readOnly: body.readOnly === true, expiresAt: parsed.expiresAt.toISOString() };
  }

  return [
    {
      method: "GET",
      path: "/oauth/requests/:id",
      handler: async (_ctx, caller, params) => {
        const a = authority();
        const request = await a.store.getRequest(params.id!);
        if (!request) throw new ApiError(404, "not_found", "This sign-in request is unknown, already decided or expired (10 minutes): start again from the client");
        let client;
        try {
          client = await a.clients.resolve(request.clientId);
        } catch (err) {
          throw new ApiError(400, "invalid_client", (err as Error).message);
        }
        const limits = caller.admin.limits;
        return {
          ...(limits ? { limits } : {}),
          request: { id: request.id, resource: request.resource },
          client: { id: client.clientId, name: client.clientName, via: client.via, redirectHost: new URL(request.redirectUri).host || new URL(request.redirectUri).protocol },
          modules: gateway.registry.modules.filter((m) => !limits || limits.modules === "all" || limits.modules.includes(m.name)).map((m) => ({ name: m.name, description: m.description })),
          defaults: { modules: "all", readOnly: limits?.readOnly ?? false, expires: limits && limits.maxExpiryDays < 30 ? `${limits.maxExpiryDays}d` : DEFAULT_GRANT_EXPIRY },
        };
      },
    },
    {
      method: "POST",
      path: "/oauth/requests/:id/decision",
      handler: async (ctx, caller, params) => {
        const a = authority();
        const body = await readJson(ctx);
        if (typeof body.approve !== "boolean") throw new ApiError(400, "invalid_arguments", "approve must be true or false");
        const user = { id: caller.admin.id, name: caller.admin.name };
        const decision = body.approve ? { approve: true as const, scope: withinLimits(scopeOf(body), caller.admin.limits) } : { approve: false as const };
        try {
          return { redirect: await a.decide(params.id!, user, decision, issuerOf(ctx, trustProxy)) };
        } catch (err) {
          if (err instanceof Error && err.name === "OAuthError") throw new ApiError(404, "not_found", err.message);
          throw err;
        }
      },
    },
    {
      method: "GET",
      path: "/oauth/grants",
      handler: async (_ctx, caller) => {
        const at = now();
        const grants = (await authority().store.listGrants()).filter((g) => mine(g, caller));
        return { grants: grants.map((g) => grantView(g, at)).reverse() };
      },
    },
    {
      method: "POST",
      path: "/oauth/grants/:id/revoke",
      handler: async (_ctx, caller, params) => {
        const existing = await authority().store.getGrant(params.id!);
        // A member's view has only their own grants: another's is as unknown as a missing one.
        if (!existing || !mine(existing, caller)) throw new ApiError(404, "not_found", `No grant ${params.id}`);
        const grant = await authority().revoke(params.id!, `${caller.admin.role === "member" ? "member" : "admin"}:${caller.admin.name}`);
        if (!grant) throw new ApiError(404, "not_found", `No grant ${params.id}`);
        return { grant: grantView(grant, now()) };
      },
    },
  ];
}
