/**
 * The console, server side: one Koa middleware that owns every path under `/console`. Pages are
 * static files built from `console/` into `dist/console`; everything they show or change goes
 * through the JSON API under `/console/api/…` (docs/console-api.md), which an admin credential can
 * also call as a bearer for automation. Agent tokens are refused on every console route.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type Koa from "koa";
import type { Gateway } from "../gateway.js";
import type { AuditRecord } from "../context.js";
import { parseExpiry } from "../tokens/duration.js";
import { issueToken } from "../tokens/issue.js";
import { TOKEN_PREFIX } from "../tokens/format.js";
import { safeEqual } from "../tokens/safe-equal.js";
import { readSecretKey, SECRET_KEY_ENV } from "../tokens/sealed-credential.js";
import { ADMIN_PREFIX, createAdminFileStore, type Admin, type AdminStore } from "./admins.js";
import { auditFeed, createMemoryIndex, matchesFilter, type AuditFeed, type AuditIndex } from "./audit-feed.js";
import { createSqliteIndex } from "./audit-index-sqlite.js";
import { connectSnippets } from "./connect.js";
import { oauthConsentRoutes } from "./oauth-consent.js";
import { approvalRoutes } from "./approvals-api.js";
import { consoleError, consoleSecurity, isMutation } from "./security.js";
import { createSessionStore, type SessionStore } from "./sessions.js";
import { ApiError, type Who, CONTENT_TYPES, cookieValue, readJson, tokenView, activityView, str, activityFilter, modulesOf, upstreamsOf } from "./views.js";

/** The console API paths a member may use: their session, and OAuth consent and grants. */
const MEMBER_PATHS = /^\/(session|signout|oauth\/.*)$/;

/** The session cookie's name. */
export const SESSION_COOKIE = "countersign_console";

/** What the console is built from (tests pass their own stores and clock). */
export interface ConsoleOptions {
  readonly admins?: AdminStore;
  readonly sessions?: SessionStore;
  readonly feed?: AuditFeed;
  /** Folder of the built UI (default: dist/console in the repository). */
  readonly assetsDir?: string;
  readonly now?: () => number;
}

/** The console: its middleware and the stores behind it. */
export interface Console {
  readonly middleware: Koa.Middleware;
  readonly admins: AdminStore;
  readonly sessions: SessionStore;
  readonly feed: AuditFeed;
}

/** The repository root (where bin/countersign.js lives), from src/, dist/src/ or dist/bundle/. */
export function repoRoot(): string {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "bin", "countersign.js"))) return dir;
    dir = resolve(dir, "..");
  }
  return process.cwd();
}

/** Builds the console for a gateway. */
export function createConsole(gateway: Gateway, options: ConsoleOptions = {}): Console {
  const { config } = gateway.deps;
  const now = options.now ?? Date.now;
  const admins = options.admins ?? createAdminFileStore({ dir: config.dataDir, now });
  const sessions = options.sessions ?? createSessionStore({ idleMs: config.console.idleMinutes * 60_000, now });
  const feed = options.feed ?? auditFeed(gateway.deps.auditSink, openIndex);
  const index = feed.index;

  /** The embedded SQLite index in the data dir; memory when configured so or when SQLite cannot load. */
  function openIndex(): AuditIndex {
    if (config.console.auditIndex === "memory") return createMemoryIndex();
    try {
      return createSqliteIndex({ file: join(config.dataDir, "console", "audit-index.sqlite") });
    } catch (err) {
      gateway.deps.log.warn({ err }, "console: the SQLite audit index could not be opened; keeping the newest 100,000 records in memory instead");
      return createMemoryIndex();
    }
  }
  const root = repoRoot();
  const assetsDir = options.assetsDir ?? join(root, "dist", "console");
  const security = consoleSecurity(config.http);

  function secure(ctx: Koa.Context): boolean {
    if ((ctx.req.socket as { encrypted?: boolean }).encrypted) return true;
    return config.console.trustProxy && (ctx.get("x-forwarded-proto").split(",")[0] ?? "").trim().toLowerCase() === "https";
  }

  function setCookie(ctx: Koa.Context, value: string, maxAgeSeconds?: number): void {
    const parts = [`${SESSION_COOKIE}=${value}`, "Path=/console", "HttpOnly", "SameSite=Strict"];
    if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
    if (secure(ctx)) parts.push("Secure");
    ctx.append("Set-Cookie", parts.join("; "));
  }

  /** Who is calling the API, or an ApiError saying why nobody is. */
  async function who(ctx: Koa.Context): Promise<Who> {
    const header = ctx.get("authorization");
    if (header) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw new ApiError(401, "unauthorized", "Malformed Authorization header (expected 'Bearer <admin credential>')");
      const credential = m[1]!;
      if (credential.startsWith(TOKEN_PREFIX)) {
        throw new ApiError(401, "agent_token", "Agent tokens (csk_…) cannot use the console; sign in as an admin (countersign admins link) or send an admin credential (csa_…)");
      }
      if (!credential.startsWith(ADMIN_PREFIX)) throw new ApiError(401, "unauthorized", "Not an admin credential (expected csa_…; create one with: countersign admins create --name NAME)");
      const admin = await admins.authenticate(credential);
      if (!admin) throw new ApiError(401, "unauthorized", "Unknown admin credential");
      return { admin, via: "bearer" };
    }
    const sessionId = cookieValue(ctx.get("cookie"), SESSION_COOKIE);
    const session = sessionId ? sessions.get(sessionId) : undefined;
    if (!session || !sessionId) {
      throw new ApiError(401, "unauthorized", sessionId ? "Your console session ended (signed out or idle too long): sign in again with a link from `countersign admins link`" : "Not signed in: open a sign-in link from `countersign admins link`");
    }
    if (isMutation(ctx.method)) {
      const presented = ctx.get("x-csrf-token");
      if (!presented || !safeEqual(presented, session.csrf)) {
        throw new ApiError(403, "csrf", "Missing or wrong CSRF token (X-CSRF-Token): reload the console page and try again");
      }
    }
    return { admin: session.admin, via: "cookie", session, sessionId };
  }

  /** Writes an admin action into the audit trail, named after the admin. */
  async function auditAdmin(admin: Admin, action: string, summary: string, args: Record<string, unknown>): Promise<void> {
    const record: AuditRecord = {
      ts: new Date(now()).toISOString(),
      requestId: randomUUID(),
      transport: "http",
      subject: `admin:${admin.name}`,
      tool: `console.${action}`,
      module: "console",
      type: "admin",
      outcome: "ok",
      summary,
      args,
    };
    await gateway.deps.auditSink.write(record);
  }

  function startOfToday(): number {
    const d = new Date(now());
    d.setHours(0, 0, 0, 0);
    return d.getTime();
  }

  // ── the API ──────────────────────────────────────────────────────────────────────────────
  type Handler = (ctx: Koa.Context, caller: Who, params: Record<string, string>) => Promise<unknown>;
  const routes: { method: string; pattern: RegExp; keys: string[]; handler: Handler }[] = [];
  function route(method: string, path: string, handler: Handler): void {
    const keys: string[] = [];
    const pattern = new RegExp(`^${path.replace(/:([a-zA-Z]+)/g, (_, k: string) => (keys.push(k), "([^/]+)"))}$`);
    routes.push({ method, pattern, keys, handler });
  }

  route("GET", "/session", async (_ctx, caller) => ({
    admin: { name: caller.admin.name, role: caller.admin.role ?? "admin", ...(caller.admin.limits ? { limits: caller.admin.limits } : {}) },
    csrf: caller.via === "cookie" ? caller.session.csrf : null,
    idleMinutes: config.console.idleMinutes,
  }));

  route("POST", "/signout", async (ctx, caller) => {
    if (caller.via === "cookie") {
      sessions.end(caller.sessionId);
      setCookie(ctx, "", 0);
    }
    return { signedOut: true };
  });

  route("GET", "/modules", async () => {
    const exclusions = config.exclusions;
    return {
      modules: gateway.registry.modules.map((m) => {
        const usable = m.tools.filter((t) => !t.policy.excluded && !exclusions.some((e) => e.module === m.name || e.tool === t.name));
        return { name: m.name, description: m.description, tools: usable.length, writes: usable.filter((t) => t.policy.write).length };
      }),
      tiers: Object.keys(config.rateLimits.tiers),
      upstreams: config.upstreams.map((u) => u.name),
      upstreamCredentials: readSecretKey({ [SECRET_KEY_ENV]: config.secretKey }).ok,
    };
  });

  route("GET", "/tokens", async () => {
    const at = now();
    const counts = index.countsSince(startOfToday());
    const list = await gateway.deps.tokens.list();
    return { tokens: list.map((r) => tokenView(r, at, counts.get(r.id) ?? 0)).reverse() };
  });

  route("POST", "/tokens", async (ctx, caller) => {
    const body = await readJson(ctx);
    const name = typeof body.name === "string" ? body.name.trim() : "";
    if (!name) throw new ApiError(400, "invalid_arguments", "name is required: who or what will hold the token (e.g. 'laptop claude')");
    if (name.length > 100) throw new ApiError(400, "invalid_arguments", "name is at most 100 characters");
    const modules = modulesOf(body.modules, gateway.registry.modules.map((m) => m.name));
    const upstreams = upstreamsOf(body.upstreams, config.upstreams.map((u) => u.name));
    if (body.readOnly !== undefined && typeof body.readOnly !== "boolean") throw new ApiError(400, "invalid_arguments", "readOnly must be true or false");
    if (body.needsPerson !== undefined && typeof body.needsPerson !== "boolean") throw new ApiError(400, "invalid_arguments", "needsPerson must be true or false");
    const tier = body.tier === undefined ? "default" : body.tier;
    if (typeof tier !== "string" || !(tier in config.rateLimits.tiers)) {
      throw new ApiError(400, "invalid_arguments", `tier must be one of ${Object.keys(config.rateLimits.tiers).join(", ")}`);
    }
    let expiresAt: Date | undefined;
    if (body.expires !== undefined && body.expires !== null && body.expires !== "") {
      if (typeof body.expires !== "string") throw new ApiError(400, "invalid_arguments", "expires must be a duration like 30d or an ISO date");
      const parsed = parseExpiry(body.expires, new Date(now()));
      if (!parsed.ok) throw new ApiError(400, "invalid_arguments", parsed.reason.replace("--expires", "expires"));
      expiresAt = parsed.expiresAt;
    }
    let upstreamCredential: string | undefined;
    const secretKey = readSecretKey({ [SECRET_KEY_ENV]: config.secretKey });
    const given = body.upstreamCredential;
    if (given !== undefined && given !== null && given !== "") {
      if (typeof given !== "string") throw new ApiError(400, "invalid_arguments", "upstreamCredential must be a string");
      if (!secretKey.ok) throw new ApiError(400, "invalid_arguments", `upstreamCredential needs the gateway's encryption key: ${secretKey.reason}`);
      upstreamCredential = given;
    }
    const { token, record } = await issueToken(gateway.deps.tokens, {
      name,
      modules,
      ...(upstreams ? { upstreams } : {}),
      readOnly: body.readOnly === true,
      tier,
      now: new Date(now()),
      createdBy: caller.admin.id,
      needsPerson: body.needsPerson === true,
      ...(expiresAt ? { expiresAt } : {}),
      ...(upstreamCredential !== undefined ? { upstreamCredential, secretKey } : {}),
    });
    await auditAdmin(caller.admin, "token_created", `${caller.admin.name} created token ${record.id} (${name})`, { tokenId: record.id, name, modules, upstreams: upstreams ?? "all", readOnly: record.readOnly, tier, expiresAt: record.expiresAt ?? null });
    const mcpUrl = `${ctx.protocol === "https" || secure(ctx) ? "https" : "http"}://${ctx.get("host")}/mcp`;
    ctx.status = 201;
    return {
      token: tokenView(record, now(), 0),
      secret: token,
      mcpUrl,
      connect: connectSnippets({ mcpUrl, token, bin: join(root, "bin", "countersign.js"), config }),
    };
  });

  route("POST", "/tokens/:id/revoke", async (_ctx, caller, params) => {
    const id = params.id!;
    const existing = await gateway.deps.tokens.get(id);
    if (!existing) throw new ApiError(404, "not_found", `No token ${id}`);
    const revoked = await gateway.deps.tokens.revoke(id, new Date(now()));
    if (!revoked) throw new ApiError(404, "not_found", `No token ${id}`);
    if (!existing.revokedAt) await auditAdmin(caller.admin, "token_revoked", `${caller.admin.name} revoked token ${id} (${existing.name})`, { tokenId: id, name: existing.name });
    return { token: tokenView(revoked, now(), 0) };
  });

  // The upstreams as configured now (`serve --watch` may change them).
  const upstreamNames = () => (gateway.registry.upstreams ?? []).map((u) => u.name);

  route("GET", "/activity", async (ctx) => {
    const entries = index.query(activityFilter(ctx.query as Record<string, unknown>, upstreamNames()));
    return { entries: entries.map((e) => activityView(e)), retained: index.size(), upstreams: upstreamNames() };
  });

  route("GET", "/activity/:id", async (_ctx, _caller, params) => {
    const entry = index.get(Number(params.id));
    if (!entry) throw new ApiError(404, "not_found", `No activity entry ${params.id} (it may have aged out of the console's window)`);
    return { entry: activityView(entry, true) };
  });

  route("GET", "/analytics", async (ctx) => {
    const range = str((ctx.query as Record<string, unknown>).range) ?? "hour";
    if (!["hour", "day", "week"].includes(range)) throw new ApiError(400, "bad_request", "range must be hour, day or week");
    const result = index.analytics(range as "hour" | "day" | "week", now());
    // Token names as they are now (a token's records may carry an older name, or none).
    const names = new Map((await gateway.deps.tokens.list()).map((t) => [t.id, t.name]));
    // The per-upstream breakdown only means something on a gateway of several; each of its upstreams has a row.
    const known = upstreamNames();
    const upstreams = known.length > 1 ? [...result.upstreams, ...known.filter((u) => !result.upstreams.some((r) => r.upstream === u)).map((upstream) => ({ upstream, calls: 0, errors: 0, rateLimited: 0 }))] : [];
    return { ...result, upstreams, tokens: result.tokens.map((t) => ({ ...t, subject: names.get(t.tokenId) ?? t.subject })) };
  });

  route("GET", "/tools", async () => {
    const exclusions = config.exclusions;
    return {
      modules: gateway.registry.modules.map((m) => ({
        name: m.name,
        description: m.description,
        tools: m.tools.map((t) => {
          const rule = exclusions.find((e) => e.tool === t.name || e.module === m.name || (e.operationId !== undefined && e.operationId === t.operationId));
          const excluded = t.policy.excluded || (rule ? (rule.reason ?? "excluded by the gateway's configuration") : false);
          return {
            name: t.name,
            title: t.title,
            description: t.description,
            method: t.binding.method,
            path: t.binding.path,
            write: t.policy.write,
            sensitive: t.policy.sensitive,
            excluded,
          };
        }),
      })),
      excludedOperations: gateway.registry.manifest?.excluded ?? [],
    };
  });

  route("GET", "/pending", async () => {
    const tokens = await gateway.deps.tokens.list();
    const actions = [];
    for (const t of tokens) {
      if (t.revokedAt) continue;
      for (const a of await gateway.deps.pendingActions.list(t.id)) {
        const upstream = gateway.registry.upstreamOf?.(a.tool)?.name;
        actions.push({ id: a.id, tokenId: a.tokenId, tokenName: t.name, tool: a.tool, ...(upstream ? { upstream } : {}), state: a.state, createdAt: new Date(a.createdAt).toISOString(), expiresAt: new Date(a.expiresAt).toISOString(), preview: a.preview });
      }
    }
    actions.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
    return { actions };
  });

  for (const r of oauthConsentRoutes(gateway, now)) route(r.method, r.path, r.handler);
  approvalRoutes(gateway, route, now);

  /** GET /console/api/events: the live activity stream (Server-Sent Events), filtered like /activity. */
  async function events(ctx: Koa.Context, caller: Who): Promise<void> {
    const filter = activityFilter(ctx.query as Record<string, unknown>, upstreamNames());
    ctx.respond = false;
    const res = ctx.res;
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
      "Content-Security-Policy": ctx.response.get("Content-Security-Policy") as string,
      "X-Content-Type-Options": "nosniff",
    });
    res.write("retry: 1000\n\n");
    const live = { ...filter, since: undefined, until: undefined };
    const unsubscribe = feed.subscribe((e) => {
      if (!matchesFilter(e.record, live)) return;
      res.write(`event: activity\nid: ${e.seq}\ndata: ${JSON.stringify(activityView(e))}\n\n`);
    });
    const heartbeat = setInterval(() => {
      // A signed-out or idle session loses its stream too; an open stream alone is not activity.
      if (caller.via === "cookie" && !sessions.alive(caller.sessionId)) return res.end();
      res.write(": keep-alive\n\n");
    }, 15_000);
    heartbeat.unref();
    res.on("close", () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  }

  async function api(ctx: Koa.Context, path: string): Promise<void> {
    ctx.set("Cache-Control", "no-store");
    try {
      const caller = await who(ctx);
      if (caller.admin.role === "member" && !MEMBER_PATHS.test(path)) {
        throw new ApiError(403, "forbidden", "Members may only allow OAuth clients and manage their own connections; ask an admin for the rest");
      }
      if (path === "/events" && ctx.method === "GET") return await events(ctx, caller);
      let allowed = false;
      for (const r of routes) {
        const m = r.pattern.exec(path);
        if (!m) continue;
        allowed = true;
        if (r.method !== ctx.method) continue;
        const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
        const body = await r.handler(ctx, caller, params);
        ctx.body = body;
        return;
      }
      if (allowed) return consoleError(ctx, 405, "method_not_allowed", `${ctx.method} is not allowed on /console/api${path}`);
      return consoleError(ctx, 404, "not_found", `No console API route ${ctx.method} /console/api${path} (see docs/console-api.md)`);
    } catch (err) {
      if (err instanceof ApiError) return consoleError(ctx, err.status, err.code, err.message);
      gateway.deps.log.error({ err }, "console API failed");
      return consoleError(ctx, 500, "internal", "The console API failed; the gateway's log has the details");
    }
  }

  /** GET /console/signin?t=csl_…: spends a one-time link and opens a session. */
  async function signIn(ctx: Koa.Context): Promise<void> {
    ctx.set("Cache-Control", "no-store");
    const secret = typeof ctx.query.t === "string" ? ctx.query.t : "";
    const result = await admins.consumeLink(secret);
    if (!result.ok) {
      ctx.status = 303;
      ctx.redirect(`/console/?signin=${result.reason.includes("malformed") ? "malformed" : "used"}`);
      return;
    }
    const { id } = sessions.open(result.admin);
    setCookie(ctx, id);
    await auditAdmin(result.admin, "signed_in", `${result.admin.name} signed in to the console`, {});
    ctx.status = 303;
    ctx.redirect("/console/");
  }

  function serveStatic(ctx: Koa.Context, path: string): void {
    const rel = path === "/" || path === "" || !extname(path) ? "/index.html" : path;
    const file = normalize(join(assetsDir, rel));
    if (!file.startsWith(assetsDir + sep)) return consoleError(ctx, 404, "not_found", "Not found");
    let stat;
    try {
      stat = statSync(file);
    } catch {
      if (rel === "/index.html") return consoleError(ctx, 503, "unavailable", "The console UI is not built: run `make build`");
      return consoleError(ctx, 404, "not_found", `No console file ${path}`);
    }
    if (!stat.isFile()) return consoleError(ctx, 404, "not_found", `No console file ${path}`);
    ctx.type = CONTENT_TYPES[extname(file)] ?? "application/octet-stream";
    ctx.set("Cache-Control", rel.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-store");
    ctx.body = readFileSync(file);
  }

  const middleware: Koa.Middleware = async function consoleRoutes(ctx, next) {
    const path = ctx.path;
    if (path !== "/console" && !path.startsWith("/console/")) return next();
    await security(ctx, async () => {
      if (path === "/console") return ctx.redirect("/console/");
      const rest = path.slice("/console".length);
      if (rest === "/api" || rest.startsWith("/api/")) return api(ctx, rest.slice(4));
      if (rest === "/signin" && ctx.method === "GET") return signIn(ctx);
      if (ctx.method !== "GET" && ctx.method !== "HEAD") return consoleError(ctx, 405, "method_not_allowed", `${ctx.method} is not allowed on ${path}`);
      serveStatic(ctx, rest);
    });
  };

  return { middleware, admins, sessions, feed };
}
