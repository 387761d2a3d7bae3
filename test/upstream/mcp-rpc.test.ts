/**
 * An HTTP MCP backend's tools/call as one plain POST (src/upstream/mcp-rpc.ts), and the check of
 * what it answers (src/upstream/mcp-result.ts): against a scripted server, every way an answer
 * can come (JSON, a batch, an event stream split anywhere, gzip) and every way it can fail to.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toolResultOf } from "../../src/upstream/mcp-result.js";
import { endpoint, ExchangeError, exchange, send, type JsonRpcMessage } from "../../src/upstream/mcp-rpc.js";

type Handler = (req: IncomingMessage, body: JsonRpcMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
const routes = new Map<string, Handler>();
const seen: { url: string; headers: IncomingMessage["headers"]; body: JsonRpcMessage }[] = [];
const closedEarly: string[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as JsonRpcMessage;
    seen.push({ url: req.url!, headers: req.headers, body });
    res.once("close", () => !res.writableFinished && closedEarly.push(req.url!));
    routes.get(req.url!)!(req, body, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const call = (id: string) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { message: "hi" } } });
const ok = (id: unknown, text = "hi") => ({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text }] } });
const route = (path: string, handler: Handler) => {
  routes.set(path, handler);
  return endpoint(new URL(path, base));
};

describe("exchange: one JSON-RPC request as a POST", () => {
  it("reads a JSON answer, sending the session's headers and the request as JSON", async () => {
    // Header names in any case, parameters after the media type.
    const url = route("/json", (_req, body, res) => res.writeHead(200, { "Content-Type": "Application/JSON; charset=utf-8" }).end(JSON.stringify(ok(body.id))));
    const answer = await exchange(url, { "mcp-session-id": "s1", authorization: "Bearer b" }, call("a1")).answer;
    expect(answer).toEqual(ok("a1"));
    const req = seen.find((s) => s.url === "/json")!;
    expect(req.headers).toMatchObject({ "mcp-session-id": "s1", authorization: "Bearer b", "content-type": "application/json", accept: "application/json, text/event-stream" });
    expect(req.body).toEqual(call("a1"));
  });

  it("finds its response in a batch, passing the other messages on, and reads a gzip body", async () => {
    const url = route("/batch", (_req, body, res) =>
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(gzipSync(JSON.stringify([{ jsonrpc: "2.0", method: "notifications/message", params: { data: "x" } }, ok("other"), ok(body.id, "mine")]))),
    );
    const others: JsonRpcMessage[] = [];
    const answer = await exchange(url, {}, call("b1"), { onMessage: (m) => others.push(m) }).answer;
    expect(answer).toEqual(ok("b1", "mine"));
    expect(others.map((m) => m.method ?? m.id)).toEqual(["notifications/message", "other"]);
  });

  it("reads an event stream split anywhere, CRLF and all, passing progress on before the response", async () => {
    const url = route("/sse", (_req, body, res) => {
      const progress = JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: body.id, progress: 1, total: 2 } });
      const answer = JSON.stringify(ok(body.id, "streamed"));
      // The response's JSON over two data lines (joined with a newline, still JSON), the packets
      // cut between a CR and its LF, and elsewhere every 7 characters.
      const cut = answer.indexOf(",") + 1;
      const parts = [`: comment\r\nevent: message\r\nid: 1\r\ndata: ${progress}\r\n\r\ndata: ${answer.slice(0, cut)}\r`, `\ndata: ${answer.slice(cut)}\r\n\r\n`].flatMap((p) => p.match(/[\s\S]{1,7}/g)!);
      res.writeHead(200, { "content-type": "text/event-stream" });
      const next = () => (parts.length ? res.write(parts.shift()!, () => setImmediate(next)) : res.end());
      next();
    });
    const others: JsonRpcMessage[] = [];
    const answer = await exchange(url, {}, call("c1"), { onMessage: (m) => others.push(m) }).answer;
    expect(answer).toEqual(ok("c1", "streamed"));
    expect(others).toEqual([{ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "c1", progress: 1, total: 2 } }]);
  });

  it("an error answer is an answer", async () => {
    const url = route("/error", (_req, body, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: body.id, error: { code: -32602, message: "bad arguments" } })));
    expect(await exchange(url, {}, call("d1")).answer).toEqual({ jsonrpc: "2.0", id: "d1", error: { code: -32602, message: "bad arguments" } });
  });

  it.each([
    ["an HTTP error, with its body", "/404", (_r: IncomingMessage, _b: JsonRpcMessage, res: ServerResponse) => res.writeHead(404).end("Session not found"), /^HTTP 404: Session not found$/, 404],
    ["an HTTP error with a JSON-RPC error, by its message", "/400", (_r: IncomingMessage, _b: JsonRpcMessage, res: ServerResponse) => res.writeHead(400, { "content-type": "application/json" }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Mcp-Session-Id header is required"}}'), /^HTTP 400: Bad Request: Mcp-Session-Id header is required$/, 400],
    ["a body that is not JSON", "/html", (_r: IncomingMessage, _b: JsonRpcMessage, res: ServerResponse) => res.writeHead(200, { "content-type": "text/html" }).end("<html>"), /the answer is not JSON \(HTTP 200, text\/html\)/, 200],
    ["a JSON answer without the response", "/nothing", (_r: IncomingMessage, _b: JsonRpcMessage, res: ServerResponse) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(ok("not-mine"))), /held no response/, 200],
    ["an event stream that ends first", "/short", (_r: IncomingMessage, _b: JsonRpcMessage, res: ServerResponse) => res.writeHead(200, { "content-type": "text/event-stream" }).end("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\n"), /ended before the answer/, 200],
    ["an event that is not JSON", "/garbage", (_r: IncomingMessage, _b: JsonRpcMessage, res: ServerResponse) => res.writeHead(200, { "content-type": "text/event-stream" }).end("data: {oops\n\n"), /not JSON: \{oops/, 200],
    ["an encoding it cannot read", "/zstd", (_r: IncomingMessage, _b: JsonRpcMessage, res: ServerResponse) => res.writeHead(200, { "content-type": "application/json", "content-encoding": "zstd" }).end("x"), /encoded as zstd/, 200],
  ])("%s is an ExchangeError saying so", async (_what, path, handler, message, status) => {
    const err = await exchange(route(path, handler), {}, call("e1")).answer.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeError);
    expect((err as Error).message).toMatch(message);
    expect((err as ExchangeError).status).toBe(status);
  });

  it("a refused connection is an ExchangeError with the system error under it", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = (await exchange(endpoint(new URL(`http://127.0.0.1:${port}/mcp`)), {}, call("f1")).answer.catch((e: unknown) => e)) as ExchangeError;
    expect(err).toBeInstanceOf(ExchangeError);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.status).toBeUndefined();
    expect((err.cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("abort rejects the answer with its reason and closes the exchange; after the answer it changes nothing", async () => {
    const url = route("/hang", (_req, _body, res) => res.writeHead(200, { "content-type": "text/event-stream" }).write(": waiting\n\n"));
    const pending = exchange(url, {}, call("g1"));
    await expect.poll(() => seen.some((s) => s.url === "/hang")).toBe(true);
    pending.abort(new Error("stop now"));
    await expect(pending.answer).rejects.toThrow("stop now");
    await expect.poll(() => closedEarly).toContain("/hang");
    const done = exchange(route("/json", (_req, body, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(ok(body.id)))), {}, call("g2"));
    expect(await done.answer).toEqual(ok("g2"));
    done.abort(new Error("too late"));
    await expect(done.answer).resolves.toEqual(ok("g2"));
  });

  it("send: a notification accepted with 202 resolves; a refused one rejects with the status", async () => {
    const accepted = route("/accept", (_req, _body, res) => res.writeHead(202).end());
    await expect(send(accepted, {}, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "h1" } })).resolves.toBeUndefined();
    expect(seen.at(-1)!.body).toEqual({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "h1" } });
    expect(seen.at(-1)!.headers["content-length"]).toBe(String(Buffer.byteLength(JSON.stringify(seen.at(-1)!.body))));
    const refused = route("/refuse", (_req, _body, res) => res.writeHead(400).end("no"));
    await expect(send(refused, {}, { jsonrpc: "2.0", method: "notifications/cancelled" })).rejects.toMatchObject({ status: 400 });
  });
});

describe("endpoint: a URL split once into its pool's origin and the request's path", () => {
  it.each([
    ["http://127.0.0.1:9000/mcp", { origin: "http://127.0.0.1:9000", path: "/mcp" }],
    ["https://search.example/mcp/v1?tenant=a", { origin: "https://search.example", path: "/mcp/v1?tenant=a" }],
    ["http://[::1]:80/mcp", { origin: "http://[::1]", path: "/mcp" }],
  ])("%s", (url, expected) => {
    expect(endpoint(new URL(url))).toMatchObject(expected);
  });
});

describe("toolResultOf: what a backend's tools/call answered", () => {
  it("keeps the five content kinds, structured content and isError, and drops the rest", () => {
    const content = [
      { type: "text", text: "t" },
      { type: "image", data: "AA==", mimeType: "image/png" },
      { type: "audio", data: "AA==", mimeType: "audio/wav" },
      { type: "resource_link", uri: "file:///a", name: "a" },
      { type: "resource", resource: { uri: "file:///b", text: "b" } },
    ];
    expect(toolResultOf({ content, structuredContent: { n: 1 }, isError: true, _meta: { x: 1 }, extra: 2 })).toEqual({ content, structuredContent: { n: 1 }, isError: true });
    expect(toolResultOf({})).toEqual({ content: [] });
    expect(toolResultOf({ content: [], isError: false })).toEqual({ content: [] });
  });

  it.each([
    [null, "the result is not an object"],
    [[], "the result is not an object"],
    [{ content: "text" }, "'content' is not an array"],
    [{ content: [{ type: "text", text: "ok" }, "x"] }, "content[1] is not an object"],
    [{ content: [{ type: "text" }] }, "content[0] (text) has no string 'text'"],
    [{ content: [{ type: "image", data: "AA==" }] }, "content[0] (image) needs string 'data' and 'mimeType'"],
    [{ content: [{ type: "resource_link", uri: "u" }] }, "content[0] (resource_link) needs string 'uri' and 'name'"],
    [{ content: [{ type: "resource", resource: {} }] }, "content[0] (resource) needs a 'resource' with a string 'uri'"],
    [{ content: [{ type: "video" }] }, 'content[0] has an unknown type "video"'],
    [{ content: [], structuredContent: [1] }, "'structuredContent' is not an object"],
    [{ content: [], isError: "yes" }, "'isError' is not a boolean"],
  ])("%j: %s", (result, problem) => {
    expect(toolResultOf(result)).toBe(problem);
  });
});
