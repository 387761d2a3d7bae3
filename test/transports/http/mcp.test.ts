import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AdmissionRequest, CallRequest, Gateway } from "../../../src/app.js";
import { GatewayError } from "../../../src/errors.js";
import { startHttpServer, type HttpHandle } from "../../../src/transports/http/index.js";
import { startAppHarness, type AppHarness } from "../../app-harness.js";
import { fixtureTools } from "../../fixtures/tools/index.js";

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: "http-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

/** A raw HTTP exchange, so tests control Host and every other header. */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "POST", headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

describe("stateful Streamable HTTP", () => {
  let h: AppHarness;
  let server: HttpHandle;
  const calls: CallRequest[] = [];
  const admissions: AdmissionRequest[] = [];
  let rateLimited = false;

  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_PAGE_SIZE: "5", COUNTERSIGN_MAX_BODY_BYTES: "2048", COUNTERSIGN_MAX_SESSIONS: "50" } });
    // Wrap the real gateway to observe what the transport hands over and to force a 429.
    const g = h.gateway;
    const observed: Gateway = Object.create(g, {
      call: { value: (req: CallRequest) => (calls.push(req), g.call(req)) },
      admit: {
        value: async (req: AdmissionRequest) => {
          if (rateLimited && req.calls?.some((c) => c.name !== "initialize")) throw Object.assign(new GatewayError("rate_limited", "Rate limit exceeded for the normal bucket", { retryAfterSeconds: 12, details: { bucket: "normal" } }), { rpcId: req.calls[0]!.id });
          admissions.push(req);
          return g.admit(req);
        },
      },
    });
    server = await startHttpServer(observed, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });
  beforeEach(() => {
    h.upstream.reset();
    calls.length = 0;
    admissions.length = 0;
    rateLimited = false;
  });

  it("answers as docs/http.md's Answers paragraph says: initialize as a short SSE stream, the session's tools/list as one JSON body", async () => {
    const init = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${h.token}` }, body: INIT });
    expect(init.status).toBe(200);
    expect(init.headers["content-type"]).toMatch(/^text\/event-stream/);
    const sessionId = init.headers["mcp-session-id"] as string;
    expect(sessionId).toBeTruthy();
    const data = init.body.split("\n").filter((l) => l.startsWith("data: "));
    expect(data).toHaveLength(1);
    expect(JSON.parse(data[0]!.slice(6))).toMatchObject({ jsonrpc: "2.0", id: 1, result: { serverInfo: expect.any(Object) } });
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${h.token}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" };
    await raw(server.url, { headers, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
    const list = await raw(server.url, { headers, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) });
    expect(list.headers["content-type"]).toMatch(/^application\/json/);
    expect((JSON.parse(list.body) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
    const readme = readFileSync(new URL("../../../docs/http.md", import.meta.url), "utf8").replace(/\s+/g, " ");
    expect(readme).toContain("One exception: a stateful `initialize` opens the session");
    expect(readme).toContain("answers as a short SSE stream");
    await raw(server.url, { method: "DELETE", headers });
  });

  it("lists tools across pages, without excluded operations", async () => {
    const client = await connect(server.url, h.token);
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      expect(page.tools.length).toBeLessThanOrEqual(5);
      names.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(1);
    expect(names).toContain("get_item");
    expect(names).toContain("stream_chat");
    expect(names).not.toContain("pay_invoice");
    expect(new Set(names).size).toBe(names.length);
    await expect(client.listTools({ cursor: "garbage" })).rejects.toThrow(/Invalid cursor/);
    await client.close();
  });

  it("calls a tool through the chain and returns structured content, after admitting the request once", async () => {
    const client = await connect(server.url, h.token);
    const result = await client.callTool({ name: "get_item", arguments: { item_id: "42" } });
    expect(result.structuredContent).toEqual({ id: "42", name: "Widget" });
    expect(h.upstream.requests.map((r) => r.url)).toEqual(["/v1/items/42"]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ name: "get_item", transport: "http", principal: { tokenId: expect.any(String) } });
    expect(admissions.filter((a) => a.calls?.some((c) => c.name === "get_item"))).toEqual([expect.objectContaining({ transport: "http", credential: h.token, request: "POST /mcp" })]);
    expect(calls[0]!.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    // Output schemas are not listed by default, so an error keeps its details in structuredContent.
    const invalid = await client.callTool({ name: "get_item", arguments: {} });
    expect(invalid.structuredContent).toMatchObject({ error: { code: "invalid_arguments" } });
    // The MCP client's own headers never reach the upstream.
    expect(JSON.stringify(h.upstream.requests[0]!.headers)).not.toContain(h.token);
    await client.close();
  });

  it("relays upstream server-sent events as progress notifications", async () => {
    const client = await connect(server.url, h.token);
    const progress: { progress: number; message?: string }[] = [];
    const result = await client.callTool({ name: "stream_chat", arguments: { message: "hi" } }, undefined, { onprogress: (p) => progress.push(p) });
    expect(progress.map((p) => p.message)).toEqual(['{"text":"Hello"}', '{"text":"from"}', '{"text":"the stream"}', "[DONE]"]);
    expect(progress.map((p) => p.progress)).toEqual([1, 2, 3, 4]);
    expect((result.content as { text: string }[])[0]!.text).toContain("the stream");
    await client.close();
  });

  it("relays upstream events as log messages to a client that asked for logs", async () => {
    const client = await connect(server.url, h.token);
    const logs: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params);
    });
    await client.callTool({ name: "stream_chat", arguments: { message: "hi" } });
    expect(logs).toEqual([]);
    await client.setLoggingLevel("info");
    await client.callTool({ name: "stream_chat", arguments: { message: "hi" } });
    expect(logs).toHaveLength(4);
    expect(logs[0]).toEqual({ level: "info", logger: "upstream", data: '{"text":"Hello"}' });
    await client.close();
  });

  it("answers a plain POST as one JSON body, and streams only when something may come before the answer", async () => {
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${h.token}` };
    const init = await fetch(server.url, { method: "POST", headers, body: INIT });
    const sessionId = init.headers.get("mcp-session-id")!;
    await init.text();
    const s = { ...headers, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" };
    const post = (body: unknown, extra: Record<string, string> = {}) => fetch(server.url, { method: "POST", headers: { ...s, ...extra }, body: JSON.stringify(body) });
    const call = (id: number, meta?: Record<string, unknown>) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "get_item", arguments: { item_id: String(id) }, ...(meta ? { _meta: meta } : {}) } });

    const initialized = await post({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(initialized.status).toBe(202);

    const plain = await post(call(7));
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toBe("application/json");
    expect(plain.headers.get("mcp-session-id")).toBe(sessionId);
    expect(await plain.json()).toMatchObject({ jsonrpc: "2.0", id: 7, result: { structuredContent: { id: "7", name: "Widget" } } });

    const batch = await post([call(8), { jsonrpc: "2.0", id: 9, method: "tools/list" }]);
    const answers = (await batch.json()) as { id: number; result: Record<string, unknown> }[];
    expect(answers.map((a) => a.id)).toEqual([8, 9]);
    expect(answers[1]!.result.tools).toBeInstanceOf(Array);
    // The batch was admitted once, charging its one tools/call (tools/list is not charged).
    expect(admissions.at(-1)?.calls).toEqual([{ id: 8, name: "get_item", args: expect.anything() }]);

    const progress = await post(call(10, { progressToken: "p" }));
    expect(progress.headers.get("content-type")).toBe("text/event-stream");
    expect(await progress.text()).toContain('"structuredContent":{"id":"10","name":"Widget"}');

    // Malformed requests keep the SDK's own answers.
    const notAcceptable = await post(call(11), { accept: "application/json" });
    expect(notAcceptable.status).toBe(406);
    const badVersion = await post(call(12), { "mcp-protocol-version": "1999-01-01" });
    expect(badVersion.status).toBe(400);
    expect(await badVersion.text()).toContain("Unsupported protocol version");
    const notRpc = await post({ hello: "world" });
    expect(notRpc.status).toBe(400);
    // A batch repeating an id is the SDK transport's to answer (one answer per id, as a stream).
    const repeated = await post([{ jsonrpc: "2.0", id: 20, method: "tools/list" }, { jsonrpc: "2.0", id: 20, method: "tools/list" }]);
    expect(repeated.status).toBe(200);
    expect(repeated.headers.get("content-type")).toBe("text/event-stream");
    await repeated.text();
    expect(h.upstream.requests.map((r) => r.url)).toEqual(["/v1/items/7", "/v1/items/8", "/v1/items/10"]);

    // A client that asked for logs gets streams from then on (upstream events may be relayed).
    expect((await post({ jsonrpc: "2.0", id: 13, method: "logging/setLevel", params: { level: "info" } })).headers.get("content-type")).toBe("application/json");
    const afterLogs = await post(call(14));
    expect(afterLogs.headers.get("content-type")).toBe("text/event-stream");
    await afterLogs.text();
    await fetch(server.url, { method: "DELETE", headers: s });
  });

  it("aborts the upstream call when the client cancels", async () => {
    const client = await connect(server.url, h.token);
    const ac = new AbortController();
    const pending = client.callTool({ name: "get_slow", arguments: { ms: 10_000 } }, undefined, { signal: ac.signal });
    await expect.poll(() => h.upstream.requests.length).toBe(1);
    ac.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(() => h.upstream.aborted.length, { timeout: 5000 }).toBe(1);
    await client.close();
  });

  it("answers 429 with Retry-After before the SDK sees a rate-limited call", async () => {
    const client = await connect(server.url, h.token);
    rateLimited = true;
    await expect(client.callTool({ name: "get_item", arguments: { item_id: "1" } })).rejects.toThrow(/429|Rate limit/);
    expect(h.upstream.requests).toHaveLength(0);
    expect(calls).toHaveLength(0);
    await client.close();

    const init = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${h.token}` }, body: INIT });
    const sid = init.headers["mcp-session-id"] as string;
    const res = await raw(server.url, {
      headers: { ...MCP_HEADERS, authorization: `Bearer ${h.token}`, "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "get_item", arguments: { item_id: "1" } } }),
    });
    expect(res.status).toBe(429);
    expect(res.headers["retry-after"]).toBe("12");
    expect(JSON.parse(res.body)).toEqual({
      jsonrpc: "2.0",
      id: 9,
      error: { code: -32029, message: "Rate limit exceeded for the normal bucket", data: { code: "rate_limited", bucket: "normal", retry_after_seconds: 12 } },
    });
  });

  it("refuses a missing or malformed bearer with 401, WWW-Authenticate and a JSON-RPC error", async () => {
    const missing = await raw(server.url, { headers: MCP_HEADERS, body: INIT });
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toMatch(/^Bearer realm="countersign", error="invalid_token"/);
    // The refusal answers the request it refuses: the initialize's id.
    expect(JSON.parse(missing.body)).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: -32001, data: { code: "unauthorized" } } });
    const malformed = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: "Basic abc" }, body: INIT });
    expect(malformed.status).toBe(401);
    expect(JSON.parse(malformed.body).error.message).toMatch(/malformed/i);
  });

  it("checks Host and Origin against DNS rebinding", async () => {
    const auth = { ...MCP_HEADERS, authorization: `Bearer ${h.token}` };
    const badHost = await raw(server.url, { headers: { ...auth, host: "evil.example:80" }, body: INIT });
    expect(badHost.status).toBe(403);
    expect(JSON.parse(badHost.body).error.message).toMatch(/Host header not allowed/);
    const badOrigin = await raw(server.url, { headers: { ...auth, origin: "http://evil.example" }, body: INIT });
    expect(badOrigin.status).toBe(403);
    const goodOrigin = await raw(server.url, { headers: { ...auth, origin: "http://localhost:3000" }, body: INIT });
    expect(goodOrigin.status).toBe(200);
  });

  it("refuses an oversized body with a clear 413", async () => {
    const res = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${h.token}` }, body: JSON.stringify({ pad: "x".repeat(5000) }) });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.message).toBe("Request body exceeds the limit of 2048 bytes");
  });

  it("binds a session to its token: unknown ids and other tokens get 404", async () => {
    const init = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${h.token}` }, body: INIT });
    const sid = init.headers["mcp-session-id"] as string;
    expect(sid).toBeTruthy();
    const list = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    const headers = { ...MCP_HEADERS, "mcp-protocol-version": "2025-06-18" };
    const other = await raw(server.url, { headers: { ...headers, authorization: `Bearer ${h.otherToken}`, "mcp-session-id": sid }, body: list });
    expect(other.status).toBe(404);
    const unknown = await raw(server.url, { headers: { ...headers, authorization: `Bearer ${h.token}`, "mcp-session-id": "no-such-session" }, body: list });
    expect(unknown.status).toBe(404);
    const own = await raw(server.url, { headers: { ...headers, authorization: `Bearer ${h.token}`, "mcp-session-id": sid }, body: list });
    expect(own.status).toBe(200);
    const del = await raw(server.url, { method: "DELETE", headers: { ...headers, authorization: `Bearer ${h.token}`, "mcp-session-id": sid } });
    expect(del.status).toBe(200);
    const after = await raw(server.url, { headers: { ...headers, authorization: `Bearer ${h.token}`, "mcp-session-id": sid }, body: list });
    expect(after.status).toBe(404);
  });

  it("serves /healthz and /readyz", async () => {
    const base = server.url.replace(/\/mcp$/, "");
    expect(JSON.parse((await raw(`${base}/healthz`, { method: "GET" })).body)).toEqual({ status: "ok" });
    expect(JSON.parse((await raw(`${base}/readyz`, { method: "GET" })).body)).toMatchObject({ status: "ready", tools: fixtureTools().length });
  });
});

describe("session limits", () => {
  let h: AppHarness;
  let server: HttpHandle;
  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_MAX_SESSIONS: "2", COUNTERSIGN_SESSION_IDLE_MS: "1000" } });
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it("caps open sessions (a token at the cap recycles its own oldest idle session, never another's) and reaps idle ones", async () => {
    const auth = { ...MCP_HEADERS, authorization: `Bearer ${h.token}` };
    const first = await raw(server.url, { headers: auth, body: INIT });
    expect(first.status).toBe(200);
    expect((await raw(server.url, { headers: auth, body: INIT })).status).toBe(200);
    const other = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${h.otherToken}` }, body: INIT });
    expect(other.status).toBe(503);
    expect(other.headers["retry-after"]).toBe("5");
    const third = await raw(server.url, { headers: auth, body: INIT });
    expect(third.status).toBe(200);
    expect(server.sessionCount()).toBe(2);
    const gone = await raw(server.url, { headers: { ...auth, "mcp-session-id": first.headers["mcp-session-id"] as string, "mcp-protocol-version": "2025-06-18" }, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) });
    expect(gone.status).toBe(404);
    await expect.poll(() => server.sessionCount(), { timeout: 5000, interval: 100 }).toBe(0);
    expect((await raw(server.url, { headers: auth, body: INIT })).status).toBe(200);
  });
});

describe("stateless Streamable HTTP", () => {
  let h: AppHarness;
  let server: HttpHandle;
  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_STATELESS: "true" } });
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });
  afterEach(() => h.upstream.reset());

  it("serves list and call without sessions", async () => {
    const client = await connect(server.url, h.token);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("get_item");
    const result = await client.callTool({ name: "get_item", arguments: { item_id: "9" } });
    expect(result.structuredContent).toEqual({ id: "9", name: "Widget" });
    expect(server.sessionCount()).toBe(0);
    const get = await raw(server.url, { method: "GET", headers: { accept: "text/event-stream", authorization: `Bearer ${h.token}` } });
    expect(get.status).toBe(405);
    await client.close();
  });

  it("answers initialize as plain JSON, as docs/http.md says for --stateless", async () => {
    const init = await raw(server.url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${h.token}` }, body: INIT });
    expect(init.status).toBe(200);
    expect(init.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(init.body)).toMatchObject({ id: 1, result: { serverInfo: expect.any(Object) } });
  });

  it("answers plain JSON unless the call asks for progress, which needs SSE", async () => {
    const post = (meta?: Record<string, unknown>) =>
      fetch(server.url, {
        method: "POST",
        headers: { accept: "application/json, text/event-stream", "content-type": "application/json", authorization: `Bearer ${h.token}` },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_item", arguments: { item_id: "9" }, ...(meta ? { _meta: meta } : {}) } }),
      });
    const plain = await post();
    expect(plain.headers.get("content-type")).toMatch(/^application\/json/);
    expect((await plain.json()).result.structuredContent).toEqual({ id: "9", name: "Widget" });
    const streamed = await post({ progressToken: "p1" });
    expect(streamed.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(await streamed.text()).toContain('"structuredContent":{"id":"9","name":"Widget"}');
  });

  it("reuses servers across requests without carrying one request's token or parameters into the next", async () => {
    const readOnly = await h.mint({ readOnly: true, modules: ["items"] });
    const post = (token: string, body: unknown, query = "") =>
      fetch(server.url + query, {
        method: "POST",
        headers: { accept: "application/json, text/event-stream", "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ id: number; result?: { tools?: { name: string }[]; isError?: boolean; structuredContent?: Record<string, unknown> } }>);
    const names = (r: Awaited<ReturnType<typeof post>>) => r.result!.tools!.map((t) => t.name);
    const list = { jsonrpc: "2.0", id: 1, method: "tools/list" };
    const create = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "create_item", arguments: { project_id: 1, name: "x" } } };
    for (let round = 0; round < 3; round++) {
      const full = names(await post(h.token, list));
      const narrow = names(await post(readOnly, list));
      expect(full).toContain("get_status");
      expect(narrow).not.toContain("get_status");
      const refused = await post(readOnly, create);
      expect(refused.result).toMatchObject({ isError: true });
      const pending = await post(h.token, create);
      expect(pending.result?.structuredContent).toMatchObject({ status: "pending_confirmation" });
      // A query parameter of one request (the dynamic surface) does not stay with its server.
      expect(names(await post(h.token, list, "?mode=dynamic"))).not.toContain("get_status");
    }
    // Concurrent requests each get their own answer.
    const ids = Array.from({ length: 12 }, (_, i) => String(100 + i));
    const answers = await Promise.all(ids.map((id, i) => post(h.token, { jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "get_item", arguments: { item_id: id } } })));
    expect(answers.map((a) => a.result?.structuredContent?.id)).toEqual(ids);
    expect(h.upstream.requests.filter((r) => r.method === "POST")).toHaveLength(0);
  });
});

describe("long calls switch to polling", () => {
  let h: AppHarness;
  let server: HttpHandle;
  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_POLL_AFTER_MS: "200", COUNTERSIGN_SSE_RETRY_MS: "50" } });
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it("closes the stream of a slow call and delivers the result when the client resumes", async () => {
    const resumed: string[] = [];
    server.server.on("request", (req) => {
      const id = req.headers["last-event-id"];
      if (req.method === "GET" && typeof id === "string") resumed.push(id);
    });
    const client = await connect(server.url, h.token);
    const result = await client.callTool({ name: "get_slow", arguments: { ms: 1000 } });
    expect((result.content as { text: string }[])[0]!.text).toBe('{"slept":1000}');
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    expect(h.upstream.requests.filter((r) => r.url.startsWith("/v1/slow"))).toHaveLength(1);
    await client.close();
  });
});
