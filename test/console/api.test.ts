/**
 * The console's JSON API over a real gateway on a real port: sign-in links, sessions and CSRF,
 * admin credentials as bearers, agent tokens refused everywhere, tokens created and revoked, the
 * activity feed and its event stream.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { createAdminFileStore, type AdminStore } from "../../src/console/admins.js";
import { SESSION_COOKIE } from "../../src/console/server.js";

let h: AppHarness;
let http: HttpHandle;
let base: string;
let admins: AdminStore;
let adminCredential: string;

beforeAll(async () => {
  h = await startAppHarness();
  http = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${http.port}`;
  admins = createAdminFileStore({ dir: h.gateway.deps.config.dataDir });
  adminCredential = (await admins.create("alice")).credential;
});

afterAll(async () => {
  await http?.close();
  await h?.close();
});

async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const { secret } = await admins.createLink("alice");
  const res = await fetch(`${base}/console/signin?t=${secret}`, { redirect: "manual" });
  expect(res.status).toBe(303);
  const setCookie = res.headers.get("set-cookie")!;
  const cookie = setCookie.split(";")[0]!;
  const session = await fetch(`${base}/console/api/session`, { headers: { cookie } });
  expect(session.status).toBe(200);
  const { csrf } = (await session.json()) as { csrf: string };
  return { cookie, csrf };
}

const bearer = () => ({ authorization: `Bearer ${adminCredential}` });

describe("sign-in", () => {
  it("a one-time link opens a session with a strict cookie, and works only once", async () => {
    const { secret } = await admins.createLink("alice");
    const first = await fetch(`${base}/console/signin?t=${secret}`, { redirect: "manual" });
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/console/");
    const cookie = first.headers.get("set-cookie")!;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; `));
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/console");
    expect(cookie).not.toContain("Secure");
    const second = await fetch(`${base}/console/signin?t=${secret}`, { redirect: "manual" });
    expect(second.status).toBe(303);
    expect(second.headers.get("location")).toBe("/console/?signin=used");
    expect(second.headers.get("set-cookie")).toBeNull();
  });

  it("a malformed link is refused", async () => {
    const res = await fetch(`${base}/console/signin?t=nope`, { redirect: "manual" });
    expect(res.headers.get("location")).toBe("/console/?signin=malformed");
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("sign-out ends the session", async () => {
    const { cookie, csrf } = await signIn();
    const out = await fetch(`${base}/console/api/signout`, { method: "POST", headers: { cookie, "x-csrf-token": csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    const after = await fetch(`${base}/console/api/session`, { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { message: string } }).error.message).toMatch(/session ended/);
  });

  it("without a session or credential the API answers 401 saying how to sign in", async () => {
    const res = await fetch(`${base}/console/api/tokens`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/countersign admins link/);
  });
});

describe("CSRF and cross-site requests", () => {
  it("a cookie-authenticated mutation without the CSRF token is refused", async () => {
    const { cookie } = await signIn();
    const res = await fetch(`${base}/console/api/tokens`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "x" }) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("csrf");
  });

  it("a cross-site form post is refused before anything runs", async () => {
    const { cookie } = await signIn();
    const before = (await h.gateway.deps.tokens.list()).length;
    const res = await fetch(`${base}/console/api/tokens`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example", "sec-fetch-site": "cross-site" },
      body: "name=evil",
    });
    expect(res.status).toBe(403);
    expect((await h.gateway.deps.tokens.list()).length).toBe(before);
  });

  it("every console answer carries a strict CSP without inline script", async () => {
    const res = await fetch(`${base}/console/api/session`, { headers: bearer() });
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  it("the Host allow-list applies", async () => {
    // fetch cannot set Host; a raw request can (as a DNS-rebinding page's would arrive).
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: http.port, path: "/console/api/session", headers: { ...bearer(), host: "evil.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe("agent tokens", () => {
  const routes: [string, string][] = [
    ["GET", "/session"],
    ["POST", "/signout"],
    ["GET", "/modules"],
    ["GET", "/tokens"],
    ["POST", "/tokens"],
    ["POST", "/tokens/tok_test1/revoke"],
    ["GET", "/activity"],
    ["GET", "/activity/0"],
    ["GET", "/analytics"],
    ["GET", "/tools"],
    ["GET", "/pending"],
    ["GET", "/events"],
  ];
  it.each(routes)("%s %s refuses an agent token with 401", async (method, path) => {
    const res = await fetch(`${base}/console/api${path}`, { method, headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" }, ...(method === "POST" ? { body: "{}" } : {}) });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("agent_token");
  });

  it("an admin credential is refused on /mcp", async () => {
    const res = await fetch(`${base}/mcp`, { method: "POST", headers: { authorization: `Bearer ${adminCredential}`, "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    expect(res.status).toBe(401);
  });
});

describe("tokens", () => {
  it("an admin creates a token whose secret works over Streamable HTTP, then revokes it and the client gets 401", async () => {
    const created = await fetch(`${base}/console/api/tokens`, {
      method: "POST",
      headers: { ...bearer(), "content-type": "application/json" },
      body: JSON.stringify({ name: "ci agent", modules: "all", readOnly: true, tier: "default", expires: "30d" }),
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { secret: string; token: { id: string; readOnly: boolean; status: string; expiresAt: string }; connect: { id: string; text: string }[] };
    expect(body.secret).toMatch(/^csk_/);
    expect(body.token).toMatchObject({ readOnly: true, status: "active" });
    expect(Date.parse(body.token.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(body.connect.map((c) => c.id)).toEqual(["claude-desktop", "connect", "mcp-remote", "curl", "typescript"]);
    for (const c of body.connect) expect(c.text).toContain(body.secret);

    const client = new Client({ name: "console-test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${body.secret}` } } }));
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);

    const list = (await (await fetch(`${base}/console/api/tokens`, { headers: bearer() })).json()) as { tokens: { id: string; name: string }[] };
    expect(list.tokens.find((t) => t.id === body.token.id)?.name).toBe("ci agent");

    const revoked = await fetch(`${base}/console/api/tokens/${body.token.id}/revoke`, { method: "POST", headers: bearer() });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { token: { status: string } }).token.status).toBe("revoked");
    await expect(client.listTools()).rejects.toThrow(/401|revoked/i);
    await client.close().catch(() => undefined);

    const trail = (await (await fetch(`${base}/console/api/activity?module=console`, { headers: bearer() })).json()) as { entries: { tool: string; subject: string }[] };
    expect(trail.entries.map((e) => e.tool)).toEqual(expect.arrayContaining(["console.token_created", "console.token_revoked"]));
    expect(trail.entries.find((e) => e.tool === "console.token_revoked")?.subject).toBe("admin:alice");
  });

  it("bad input gets a clear error naming the field", async () => {
    const post = (body: unknown) => fetch(`${base}/console/api/tokens`, { method: "POST", headers: { ...bearer(), "content-type": "application/json" }, body: JSON.stringify(body) });
    const cases: [unknown, RegExp][] = [
      [{}, /name is required/],
      [{ name: "a", modules: ["nope"] }, /unknown module nope/],
      [{ name: "a", tier: "gold" }, /tier must be one of default/],
      [{ name: "a", expires: "soon" }, /expires soon/],
      [{ name: "a", readOnly: "yes" }, /readOnly/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    const unknown = await fetch(`${base}/console/api/tokens/tok_nope/revoke`, { method: "POST", headers: bearer() });
    expect(unknown.status).toBe(404);
  });

  it("the modules picker lists each module with its tool count", async () => {
    const res = (await (await fetch(`${base}/console/api/modules`, { headers: bearer() })).json()) as { modules: { name: string; tools: number }[]; tiers: string[] };
    expect(res.modules.length).toBeGreaterThan(0);
    const total = res.modules.reduce((n, m) => n + m.tools, 0);
    expect(total).toBe(h.gateway.registry.tools.filter((t) => !t.policy.excluded).length);
    expect(res.tiers).toContain("default");
  });
});

describe("activity", () => {
  it("an agent's call reaches the event stream and the activity list", async () => {
    const controller = new AbortController();
    const stream = await fetch(`${base}/console/api/events`, { headers: bearer(), signal: controller.signal });
    expect(stream.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = stream.body!.getReader();
    const client = new Client({ name: "console-activity", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${h.token}` } } }));
    const tool = (await client.listTools()).tools.find((t) => t.name !== "confirm_action" && t.annotations?.readOnlyHint)!;
    const started = Date.now();
    await client.callTool({ name: tool.name, arguments: {} }).catch(() => undefined);
    let text = "";
    while (!text.includes(`"tool":"${tool.name}"`)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain("event: activity");
    expect(Date.now() - started).toBeLessThan(1000);
    controller.abort();
    await client.close();
    const list = (await (await fetch(`${base}/console/api/activity?tool=${tool.name}`, { headers: bearer() })).json()) as { entries: { id: number; tokenId: string }[] };
    expect(list.entries[0]?.tokenId).toBe("tok_test1");
    const detail = await fetch(`${base}/console/api/activity/${list.entries[0]!.id}`, { headers: bearer() });
    expect(((await detail.json()) as { entry: { transport: string } }).entry.transport).toBe("http");
  });

  it("a bad filter is refused naming it", async () => {
    const res = await fetch(`${base}/console/api/activity?since=yesterday`, { headers: bearer() });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/since must be/);
  });
});

describe("cookies behind a proxy, and turning the console off", () => {
  async function gatewayWith(env: Record<string, string>) {
    const harness = await startAppHarness({ env });
    const server = await startHttpServer(harness.gateway, { port: 0, host: "127.0.0.1" });
    const store = createAdminFileStore({ dir: harness.gateway.deps.config.dataDir });
    await store.create("bob");
    return { harness, server, store, url: `http://127.0.0.1:${server.port}` };
  }

  it("the cookie is Secure behind X-Forwarded-Proto: https only when the proxy is trusted", async () => {
    for (const [trust, expected] of [["on", true], ["off", false]] as const) {
      const g = await gatewayWith({ COUNTERSIGN_TRUST_PROXY: trust });
      try {
        const { secret } = await g.store.createLink();
        const res = await fetch(`${g.url}/console/signin?t=${secret}`, { redirect: "manual", headers: { "x-forwarded-proto": "https" } });
        expect(res.headers.get("set-cookie")!.includes("; Secure")).toBe(expected);
      } finally {
        await g.server.close();
        await g.harness.close();
      }
    }
  });

  it("COUNTERSIGN_CONSOLE=off serves no console at all", async () => {
    const g = await gatewayWith({ COUNTERSIGN_CONSOLE: "off" });
    try {
      expect((await fetch(`${g.url}/console/api/session`, { headers: { authorization: "Bearer x" } })).status).toBe(404);
      expect((await fetch(`${g.url}/console/`)).status).toBe(404);
      expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    } finally {
      await g.server.close();
      await g.harness.close();
    }
  });
});

describe("pages", () => {
  it("the console page is served with the CSP and loads only its own scripts", async () => {
    const res = await fetch(`${base}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(body!.trim()).toBe(""); // no inline script
      expect(attrs).toMatch(/src="\/console\/assets\//);
    }
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${base}${asset}`);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(js.headers.get("cache-control")).toContain("immutable");
  });

  it("/console redirects to /console/, and paths outside the built files are not served", async () => {
    const res = await fetch(`${base}/console`, { redirect: "manual" });
    expect(res.headers.get("location")).toBe("/console/");
    expect((await fetch(`${base}/console/assets/..%2f..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${base}/console/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/console/`, { method: "POST" })).status).toBe(405);
  });
});
