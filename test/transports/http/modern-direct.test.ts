/**
 * A plain 2026-07-28 tools/call or tools/list is answered directly (modern-direct.ts), not by a
 * server the SDK builds per request. Each answer must be what the SDK's handler gives: the same
 * request with a trace context in `_meta` (which the direct path leaves to the SDK) is the reference.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CallRequest, Gateway } from "../../../src/app.js";
import { startHttpServer, type HttpHandle } from "../../../src/transports/http/index.js";
import { plainRequest } from "../../../src/transports/http/modern-direct.js";
import { startAppHarness, type AppHarness } from "../../app-harness.js";

const MODERN = "2026-07-28";
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "direct-test", version: "1" },
};
/** A `_meta` key the direct path does not handle: the request then goes through the SDK's handler. */
const VIA_SDK = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };

interface Answer {
  status: number;
  contentType: string | undefined;
  body: { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string } };
}

function post(url: string, headers: Record<string, string>, body: unknown, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, contentType: res.headers["content-type"], body: JSON.parse(Buffer.concat(chunks).toString()) as Answer["body"] }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

function headers(token: string, method: string, name?: string): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    authorization: `Bearer ${token}`,
    "mcp-protocol-version": MODERN,
    "mcp-method": method,
    ...(name !== undefined ? { "mcp-name": name } : {}),
  };
}

describe("plain 2026-07-28 requests answered directly", () => {
  let h: AppHarness;
  let server: HttpHandle;
  const calls: CallRequest[] = [];

  beforeAll(async () => {
    h = await startAppHarness();
    const g = h.gateway;
    const observed: Gateway = Object.create(g, { call: { value: (req: CallRequest) => (calls.push(req), g.call(req)) } });
    server = await startHttpServer(observed, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });
  beforeEach(() => {
    h.upstream.reset();
    calls.length = 0;
  });

  /** A tools/call sent plain, then through the SDK; both answers. */
  async function callBoth(name: string, args: unknown): Promise<[Answer, Answer]> {
    const plain = await post(server.url, headers(h.token, "tools/call", name), { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args, _meta: ENVELOPE } });
    const sdk = await post(server.url, headers(h.token, "tools/call", name), { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args, _meta: { ...ENVELOPE, ...VIA_SDK } } });
    return [plain, sdk];
  }

  it("answers a read exactly as the SDK's handler does, and runs it once", async () => {
    const [plain, sdk] = await callBoth("get_item", { item_id: "42" });
    expect(plain).toEqual(sdk);
    expect(plain.status).toBe(200);
    expect(plain.contentType).toBe("application/json");
    expect(plain.body.result).toMatchObject({ structuredContent: { id: "42", name: "Widget" }, resultType: "complete", _meta: { "io.modelcontextprotocol/serverInfo": { name: "countersign" } } });
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ name: "get_item", transport: "http", sessionId: undefined });
    expect(h.upstream.requests).toHaveLength(2);
  });

  it("answers tools/list exactly as the SDK's handler does, cache hints included", async () => {
    const list = (meta: Record<string, unknown>) => post(server.url, headers(h.token, "tools/list"), { jsonrpc: "2.0", id: "l", method: "tools/list", params: { _meta: meta } });
    const plain = await list(ENVELOPE);
    expect(plain).toEqual(await list({ ...ENVELOPE, ...VIA_SDK }));
    expect(plain.body.result).toMatchObject({ ttlMs: 60_000, cacheScope: "private", resultType: "complete" });
    expect((plain.body.result!.tools as { name: string }[]).map((t) => t.name)).toContain("get_item");
  });

  it("answers bad input as the SDK's handler does: arguments the tool refuses, an unknown tool", async () => {
    const [badPlain, badSdk] = await callBoth("get_item", { item_id: 42, extra: true });
    expect(badPlain).toEqual(badSdk);
    expect(badPlain.body.result).toMatchObject({ isError: true });
    const [unknownPlain, unknownSdk] = await callBoth("no_such_tool", {});
    expect(unknownPlain).toEqual(unknownSdk);
    expect(JSON.stringify(unknownPlain.body)).toMatch(/no_such_tool/);
    expect(h.upstream.requests).toHaveLength(0);
  });

  it("a write answered directly is pending, as through the SDK; it runs once, when confirmed, and a replayed confirmation does not run it again", async () => {
    const [plain, sdk] = await callBoth("create_item", { project_id: 1, name: "x" });
    const shape = (a: Answer) => JSON.stringify(a).replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>").replace(/[A-Za-z0-9_-]{16,}/g, "<id>");
    expect(shape(plain)).toEqual(shape(sdk));
    expect(h.upstream.requests).toHaveLength(0);
    const pending = plain.body.result!.structuredContent as { action_id?: string; confirm_token?: string; actionId?: string };
    expect(pending).toBeDefined();
    const confirmArgs = Object.fromEntries(Object.entries(pending).filter(([k]) => /action_?id|confirm_?token/i.test(k)));
    expect(Object.keys(confirmArgs).length).toBeGreaterThan(0);
    const confirm = () => post(server.url, headers(h.token, "tools/call", "confirm_action"), { jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "confirm_action", arguments: confirmArgs, _meta: ENVELOPE } });
    const first = await confirm();
    expect(first.body.result?.isError, JSON.stringify(first.body)).toBeFalsy();
    expect(h.upstream.requests).toHaveLength(1);
    const again = await confirm();
    expect(again.body.result?.structuredContent).toMatchObject({ status: "already_executed" });
    expect(h.upstream.requests).toHaveLength(1);
  });

  it("refuses another token's confirmation of a write it answered", async () => {
    const plain = await post(server.url, headers(h.token, "tools/call", "create_item"), { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "create_item", arguments: { project_id: 1, name: "y" }, _meta: ENVELOPE } });
    const pending = plain.body.result!.structuredContent as Record<string, unknown>;
    const confirmArgs = Object.fromEntries(Object.entries(pending).filter(([k]) => /action_?id|confirm_?token/i.test(k)));
    const res = await post(server.url, headers(h.otherToken, "tools/call", "confirm_action"), { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "confirm_action", arguments: confirmArgs, _meta: ENVELOPE } });
    expect(res.body.result?.isError ?? res.body.error, JSON.stringify(res.body)).toBeTruthy();
    expect(h.upstream.requests).toHaveLength(0);
  });

  it("aborts the upstream request when the client goes away mid-call", async () => {
    const ac = new AbortController();
    const pending = post(server.url, headers(h.token, "tools/call", "get_slow"), { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "get_slow", arguments: { ms: 10_000 }, _meta: ENVELOPE } }, ac.signal);
    await expect.poll(() => h.upstream.requests.length).toBe(1);
    ac.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(() => h.upstream.aborted.length, { timeout: 5000 }).toBe(1);
  });
});

describe("which 2026-07-28 requests are plain", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(() => h.close());

  const call = (params: Record<string, unknown>, meta: Record<string, unknown> = ENVELOPE) => ({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_item", arguments: {}, ...params, _meta: meta } });
  const plain = (body: unknown, hdrs: Record<string, string> = headers("t", "tools/call", "get_item")) =>
    plainRequest({ method: "POST", req: { headers: hdrs }, state: { body } } as never, h.gateway);

  it("takes a plain read and tools/list, and leaves everything else to the SDK's handler", () => {
    expect(plain(call({}))).toEqual({ id: 1, method: "tools/call", name: "get_item", args: {} });
    expect(plain({ jsonrpc: "2.0", id: 2, method: "tools/list", params: { _meta: ENVELOPE } }, headers("t", "tools/list"))).toEqual({ id: 2, method: "tools/list" });
    const sdk = [
      plain(call({}, { ...ENVELOPE, progressToken: 1 })),
      plain(call({}, { ...ENVELOPE, ...VIA_SDK })),
      plain(call({}, { ...ENVELOPE, "io.modelcontextprotocol/clientCapabilities": { elicitation: { form: {} } } })),
      plain(call({ requestState: "x" })),
      plain(call({ name: "confirm_action" }), headers("t", "tools/call", "confirm_action")),
      plain(call({}), headers("t", "tools/call", "get_text")),
      plain(call({}), { ...headers("t", "tools/call", "get_item"), "mcp-protocol-version": "2099-01-01" }),
      plain(call({ arguments: [1] })),
      plain([call({})]),
      plain({ jsonrpc: "2.0", id: 3, method: "tools/list", params: { cursor: "x", _meta: ENVELOPE } }, headers("t", "tools/list")),
    ];
    expect(sdk).toEqual(sdk.map(() => undefined));
  });
});
