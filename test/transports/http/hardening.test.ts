/**
 * Findings of the adversarial battery against the HTTP transport, one test each: what a request
 * that can't run costs (nothing), what every refusal says, how sessions are shared between tokens,
 * what the probes reveal, and what a client that goes away leaves behind.
 */
import { rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type HttpHandle } from "../../../src/transports/http/index.js";
import { isLoopback } from "../../../src/transports/http/probes.js";
import { tokenShare } from "../../../src/transports/http/sessions.js";
import { startAppHarness, type AppHarness } from "../../app-harness.js";

const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

function post(url: string, token: string | undefined, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { ...MCP_HEADERS, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const init = (id: number) => ({ jsonrpc: "2.0", id, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "battery", version: "1" } } });
const call = (id: number, name: unknown, args?: unknown) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, ...(args === undefined ? {} : { arguments: args }) } });

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("stateless HTTP under bad input", () => {
  let h: AppHarness;
  let server: HttpHandle;
  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_STATELESS: "true", COUNTERSIGN_RATE_NORMAL: "5" } });
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it("an empty batch is -32600 Invalid Request, never 202", async () => {
    const res = await post(server.url, h.token, []);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32600, message: expect.stringContaining("empty batch") } });
  });

  it("a batch over the size limit is refused before any rate-limit point is taken", async () => {
    const token = await h.mint({ id: "tok_batch" });
    const big = Array.from({ length: 500 }, (_, i) => call(i + 1, "get_item", { item_id: String(i) }));
    const res = await post(server.url, token, big);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32600, message: expect.stringContaining("must not exceed 100") } });
    const again = await post(server.url, token, Array.from({ length: 1001 }, (_, i) => call(i + 1, "get_item", { item_id: "x" })));
    expect(again.status).toBe(400);
    // The bucket (5 a minute) is untouched: five calls still go through.
    for (let i = 0; i < 5; i++) {
      const ok = await post(server.url, token, call(1, "get_item", { item_id: `ok${i}` }));
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { result: { isError?: boolean } }).result.isError).toBeFalsy();
    }
    expect((await post(server.url, token, call(1, "get_item", { item_id: "six" }))).status).toBe(429);
    expect(h.upstream.requests.filter((r) => r.url.includes("/items/x"))).toHaveLength(0);
  });

  it("arguments that are not an object, or a name that is not a string, are -32602 with a readable message", async () => {
    const token = await h.mint({ id: "tok_shapes" });
    for (const [body, pattern] of [
      [call(7, "get_item", "item_id=1"), /arguments must be an object.*not string/],
      [call(8, "get_item", [1, 2]), /arguments must be an object.*not an array/],
      [call(9, 42, {}), /params\.name must be a string/],
    ] as const) {
      const res = await post(server.url, token, body);
      expect(res.status).toBe(400);
      const answer = (await res.json()) as { id: number; error: { code: number; message: string } };
      expect(answer.id).toBe(body.id);
      expect(answer.error.code).toBe(-32602);
      expect(answer.error.message).toMatch(pattern);
      expect(answer.error.message).not.toMatch(/zod|invalid_type|ZodError/i);
    }
  });

  it("every 401 carries data.reason", async () => {
    for (const authorization of ["Basic dXNlcjpwYXNz", "Bearer ", "Bearer csk_one csk_two", "csk_no_scheme"]) {
      const res = await post(server.url, undefined, call(1, "get_item", { item_id: "1" }), { authorization });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(await res.json()).toMatchObject({ error: { code: -32001, data: { code: "unauthorized", reason: "malformed" } } });
    }
    const missing = await post(server.url, undefined, call(1, "get_item", { item_id: "1" }));
    expect(await missing.json()).toMatchObject({ error: { data: { reason: "missing" } } });
  });

  it("a client that disconnects mid-call aborts the upstream request", async () => {
    const token = await h.mint({ id: "tok_gone" });
    h.upstream.reset();
    const body = JSON.stringify(call(1, "get_slow", { ms: 3000 }));
    const req = httpRequest(server.url, { method: "POST", headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, "content-length": Buffer.byteLength(body) } });
    req.on("error", () => undefined);
    req.end(body);
    await until(() => h.upstream.requests.some((r) => r.url.includes("/slow")));
    req.destroy();
    await until(() => h.upstream.aborted.some((r) => r.url.includes("/slow")), 2_000);
    expect(h.upstream.aborted.filter((r) => r.url.includes("/slow"))).toHaveLength(1);
  });
});

describe("stateful HTTP: sessions are shared between tokens", () => {
  let h: AppHarness;
  let server: HttpHandle;
  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_MAX_SESSIONS: "50" } });
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it("each token may hold a quarter of the cap (at least 8)", () => {
    expect(tokenShare(50)).toBe(12);
    expect(tokenShare(10)).toBe(8);
    expect(tokenShare(4)).toBe(4);
    expect(tokenShare(1000)).toBe(250);
  });

  it("one token opening 60 sessions never locks another token out; its own oldest idle sessions close first", async () => {
    const greedy = await h.mint({ id: "tok_greedy", readOnly: true });
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await post(server.url, greedy, init(1));
      expect(res.status).toBe(200);
      ids.push(res.headers.get("mcp-session-id")!);
      await res.text();
    }
    expect(server.sessionCount()).toBe(12);
    // The newest session works; the oldest was closed to make room.
    const newest = await post(server.url, greedy, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { "mcp-session-id": ids.at(-1)!, "mcp-protocol-version": "2025-06-18" });
    expect(newest.status).toBe(200);
    const oldest = await post(server.url, greedy, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { "mcp-session-id": ids[0]!, "mcp-protocol-version": "2025-06-18" });
    expect(oldest.status).toBe(404);
    expect(await oldest.json()).toMatchObject({ error: { code: -32004, data: { code: "session_not_found" } } });
    // Another token still gets a session.
    const other = await post(server.url, h.otherToken, init(1));
    expect(other.status).toBe(200);
    expect(other.headers.get("mcp-session-id")).toBeTruthy();
  });
});

describe("probes", () => {
  let h: AppHarness;
  let server: HttpHandle | undefined;
  afterEach(async () => {
    await server?.close();
    await h?.close();
    server = undefined;
  });

  it("knows which binds are loopback", () => {
    for (const host of ["127.0.0.1", "127.8.0.3", "::1", "[::1]", "localhost"]) expect(isLoopback(host)).toBe(true);
    for (const host of ["0.0.0.0", "::", "192.0.2.10", "example.com"]) expect(isLoopback(host)).toBe(false);
  });

  it("/metrics needs the metrics token when the gateway is bound beyond loopback", async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_HOST: "0.0.0.0", HOST: "0.0.0.0", COUNTERSIGN_METRICS_TOKEN: "m-secret-1", COUNTERSIGN_ALLOWED_HOSTS: "*" } });
    // Listening on loopback only for the test; the configured bind is what decides.
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
    const metrics = server.url.replace(/\/mcp$/, "/metrics");
    const none = await fetch(metrics);
    expect(none.status).toBe(401);
    expect(await none.text()).not.toContain("countersign_");
    expect((await fetch(metrics, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(metrics, { headers: { authorization: `Bearer ${h.token}` } })).status).toBe(401);
    const ok = await fetch(metrics, { headers: { authorization: "Bearer m-secret-1" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("countersign_");
  });

  it("/readyz says not ready, and why, when the data dir is gone", async () => {
    h = await startAppHarness();
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
    const readyz = server.url.replace(/\/mcp$/, "/readyz");
    const ready = await fetch(readyz);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: { dataDir: { ok: true } } });
    rmSync(h.gateway.deps.config.dataDir, { recursive: true, force: true });
    const gone = await fetch(readyz);
    expect(gone.status).toBe(503);
    expect(await gone.json()).toMatchObject({ status: "not_ready", checks: { dataDir: { ok: false, detail: expect.stringContaining("not writable") } } });
  });
});
