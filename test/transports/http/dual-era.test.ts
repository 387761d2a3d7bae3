/**
 * One /mcp, two protocol generations: the SDK v2 client pinned to 2026-07-28 and in auto mode, the
 * v2 client in legacy mode and the 1.x client, against one running gateway; admission of 2026-07-28
 * requests from the Mcp-Method / Mcp-Name headers, and refusals that carry the request's id.
 */
import { request as httpRequest } from "node:http";
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AdmissionRequest, CallRequest, Gateway } from "../../../src/app.js";
import { startHttpServer, type HttpHandle } from "../../../src/transports/http/index.js";
import { startAppHarness, type AppHarness } from "../../app-harness.js";

const MODERN = "2026-07-28";

function auth(token: string) {
  return { requestInit: { headers: { Authorization: `Bearer ${token}` } } };
}

async function connectV2(url: string, token: string, mode: "auto" | "legacy" | { pin: string }): Promise<ClientV2> {
  const client = new ClientV2({ name: "dual-era-test", version: "1.0.0" }, { versionNegotiation: { mode } });
  await client.connect(new TransportV2(new URL(url), auth(token)));
  return client;
}

/** A raw HTTP exchange, so a test controls every header and the body. */
function raw(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A 2026-07-28 tools/call as the wire carries it: the `_meta` envelope in the body, the standard headers beside it. */
function modernCall(id: number, name: string, args: Record<string, unknown>) {
  return {
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: {
      name,
      arguments: args,
      _meta: {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
      },
    },
  };
}

function modernHeaders(token: string | undefined, method: string, name?: string): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": MODERN,
    "mcp-method": method,
    ...(name ? { "mcp-name": name } : {}),
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}

describe("2026-07-28 beside 2025-11-25 on one /mcp", () => {
  let h: AppHarness;
  let server: HttpHandle;
  const calls: CallRequest[] = [];
  const admissions: AdmissionRequest[] = [];

  beforeAll(async () => {
    h = await startAppHarness();
    const g = h.gateway;
    const observed: Gateway = Object.create(g, {
      call: { value: (req: CallRequest) => (calls.push(req), g.call(req)) },
      admit: { value: (req: AdmissionRequest) => (admissions.push(req), g.admit(req)) },
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
  });

  it("serves the v2 client pinned to 2026-07-28 without a session", async () => {
    const client = await connectV2(server.url, h.token, { pin: MODERN });
    expect(client.getProtocolEra()).toBe("modern");
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("get_item");
    const result = await client.callTool({ name: "get_item", arguments: { item_id: "42" } });
    expect(result.structuredContent).toEqual({ id: "42", name: "Widget" });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ name: "get_item", transport: "http", sessionId: undefined });
    expect(server.sessionCount()).toBe(0);
    // Admitted from the headers: the call's point was taken under the tool's name, before the body was read.
    expect(admissions.find((a) => a.calls?.length)?.calls).toEqual([{ name: "get_item" }]);
    await client.close();
  });

  it("relays upstream events as progress to a 2026-07-28 client (the answer becomes a stream)", async () => {
    const client = await connectV2(server.url, h.token, { pin: MODERN });
    const progress: { progress: number; message?: string }[] = [];
    const result = await client.callTool({ name: "stream_chat", arguments: { message: "hi" } }, { onprogress: (p) => progress.push(p) });
    expect(progress.map((p) => p.message)).toEqual(['{"text":"Hello"}', '{"text":"from"}', '{"text":"the stream"}', "[DONE]"]);
    expect(progress.map((p) => p.progress)).toEqual([1, 2, 3, 4]);
    expect((result.content as { text: string }[])[0]!.text).toContain("the stream");
    await client.close();
  });

  it("tells a 2026-07-28 client that listens when the tool list changed (hot reload)", async () => {
    const client = await connectV2(server.url, h.token, { pin: MODERN });
    let changed!: () => void;
    const notified = new Promise<void>((resolve) => (changed = resolve));
    client.setNotificationHandler("notifications/tools/list_changed", async () => changed());
    const subscription = await client.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter).toMatchObject({ toolsListChanged: true });
    await server.notifyToolsChanged();
    await notified;
    await subscription.close();
    await client.close();
  });

  it("aborts the upstream call when a 2026-07-28 client cancels", async () => {
    const client = await connectV2(server.url, h.token, { pin: MODERN });
    const ac = new AbortController();
    const pending = client.callTool({ name: "get_slow", arguments: { ms: 10_000 } }, { signal: ac.signal });
    await expect.poll(() => h.upstream.requests.length).toBe(1);
    ac.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(() => h.upstream.aborted.length, { timeout: 5000 }).toBe(1);
    await client.close();
  });

  it("the v2 client in auto mode lands on 2026-07-28; in legacy mode, and the 1.x client, on a 2025 session", async () => {
    const auto = await connectV2(server.url, h.token, "auto");
    expect(auto.getProtocolEra()).toBe("modern");
    expect((await auto.callTool({ name: "get_item", arguments: { item_id: "1" } })).structuredContent).toEqual({ id: "1", name: "Widget" });
    await auto.close();

    const legacy = await connectV2(server.url, h.token, "legacy");
    expect(legacy.getProtocolEra()).toBe("legacy");
    expect((await legacy.callTool({ name: "get_item", arguments: { item_id: "2" } })).structuredContent).toEqual({ id: "2", name: "Widget" });
    expect(server.sessionCount()).toBe(1);
    await legacy.close();

    const v1 = new ClientV1({ name: "v1", version: "1.0.0" });
    const transport = new TransportV1(new URL(server.url), auth(h.token));
    await v1.connect(transport);
    expect(transport.sessionId).toEqual(expect.any(String));
    expect((await v1.callTool({ name: "get_item", arguments: { item_id: "3" } })).structuredContent).toEqual({ id: "3", name: "Widget" });
    await transport.terminateSession();
    await v1.close();
    expect(calls.map((c) => c.sessionId === undefined)).toEqual([true, false, false]);
  });

  it("refuses a bad token from the headers, with the request's id, and nothing runs", async () => {
    const res = await raw(server.url, modernHeaders("csk_not_a_real_token", "tools/call", "get_item"), JSON.stringify(modernCall(71, "get_item", { item_id: "1" })));
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/Bearer/);
    expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: "2.0", id: 71, error: { code: -32001, data: { code: "unauthorized" } } });
    const none = await raw(server.url, modernHeaders(undefined, "tools/call", "get_item"), JSON.stringify(modernCall(72, "get_item", { item_id: "1" })));
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).id).toBe(72);
    expect(calls).toHaveLength(0);
    expect(h.upstream.requests).toHaveLength(0);
  });

  it("refuses a Mcp-Name that disagrees with the body, and never runs either tool", async () => {
    const res = await raw(server.url, modernHeaders(h.token, "tools/call", "get_text"), JSON.stringify(modernCall(73, "get_item", { item_id: "1" })));
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(body.id).toBe(73);
    expect(body.error.code).toBe(-32020);
    expect(calls).toHaveLength(0);
    expect(h.upstream.requests).toHaveLength(0);
  });

  it("refuses malformed 2026-07-28 requests with their id, before any tool runs", async () => {
    const badArgs = { ...modernCall(78, "get_item", {}), params: { ...modernCall(78, "get_item", {}).params, arguments: ["not", "an", "object"] } };
    const res = await raw(server.url, modernHeaders(h.token, "tools/call", "get_item"), JSON.stringify(badArgs));
    expect(JSON.parse(res.body), res.body).toMatchObject({ id: 78, error: { code: -32602 } });
    // The envelope names a revision this endpoint does not serve.
    const future = modernCall(79, "get_item", { item_id: "1" });
    future.params._meta["io.modelcontextprotocol/protocolVersion"] = "2099-01-01";
    const unsupported = await raw(server.url, { ...modernHeaders(h.token, "tools/call", "get_item"), "mcp-protocol-version": "2099-01-01" }, JSON.stringify(future));
    expect(unsupported.status).toBe(400);
    expect(JSON.parse(unsupported.body)).toMatchObject({ id: 79, error: { code: -32022 } });
    // A removed method (initialize) with the 2026-07-28 envelope.
    const removed = await raw(server.url, modernHeaders(h.token, "initialize"), JSON.stringify({ jsonrpc: "2.0", id: 80, method: "initialize", params: { _meta: modernCall(0, "", {}).params._meta } }));
    expect(removed.status).toBe(404);
    expect(JSON.parse(removed.body)).toMatchObject({ id: 80, error: { code: -32601 } });
    expect(calls).toHaveLength(0);
  });

  it("refuses a Mcp-Method that disagrees with the body", async () => {
    const res = await raw(server.url, modernHeaders(h.token, "tools/list"), JSON.stringify(modernCall(74, "get_item", { item_id: "1" })));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ id: 74, error: { code: -32020 } });
    expect(calls).toHaveLength(0);
  });

  it("a replayed 2026-07-28 read is simply a second read: each is admitted and charged on its own", async () => {
    const body = JSON.stringify(modernCall(75, "get_item", { item_id: "5" }));
    for (let i = 0; i < 2; i++) {
      const res = await raw(server.url, modernHeaders(h.token, "tools/call", "get_item"), body);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ id: 75, result: { structuredContent: { id: "5", name: "Widget" } } });
    }
    expect(admissions.filter((a) => a.calls?.length)).toHaveLength(2);
    expect(calls).toHaveLength(2);
  });

  it("tools/list says how long it may be cached, privately, and lists the same tools in the same order each time", async () => {
    const list = () =>
      raw(
        server.url,
        modernHeaders(h.token, "tools/list"),
        JSON.stringify({ jsonrpc: "2.0", id: 77, method: "tools/list", params: { _meta: modernCall(0, "", {}).params._meta } }),
      );
    const first = JSON.parse((await list()).body);
    expect(first.result).toMatchObject({ ttlMs: 60_000, cacheScope: "private" });
    const second = JSON.parse((await list()).body);
    expect(second.result.tools.map((t: { name: string }) => t.name)).toEqual(first.result.tools.map((t: { name: string }) => t.name));
    // A 2025 session's list carries no cache hints.
    const legacy = await connectV2(server.url, h.token, "legacy");
    const listed = (await legacy.listTools()) as Record<string, unknown>;
    expect(listed.ttlMs).toBeUndefined();
    await legacy.close();
  });

  it("a 2026-07-28 client in dynamic mode enables modules into a handle (no session holds them; test/transports/http/state-handle.test.ts) and can use call_tool", async () => {
    const client = await connectV2(`${server.url}?mode=dynamic`, h.token, { pin: MODERN });
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["enable_modules", "call_tool"]));
    const enabled = await client.callTool({ name: "enable_modules", arguments: { modules: ["items"] } });
    expect(enabled.isError).toBeFalsy();
    expect(enabled.structuredContent).toMatchObject({ enabled: ["items"], state: expect.stringMatching(/^st1\./) });
    const viaCallTool = await client.callTool({ name: "call_tool", arguments: { name: "get_item", arguments: { item_id: "8" } } });
    expect(JSON.stringify(viaCallTool)).toContain("Widget");
    await client.close();
  });

  it("a 2025 request refused for want of a session answers with its id", async () => {
    const res = await raw(
      server.url,
      { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${h.token}` },
      JSON.stringify({ jsonrpc: "2.0", id: 76, method: "tools/list", params: {} }),
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ id: 76, error: { data: { code: "bad_request" } } });
  });
});
