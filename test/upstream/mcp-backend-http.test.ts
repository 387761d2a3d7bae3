/**
 * An HTTP MCP backend's tools/call (src/upstream/mcp-backend.ts): one POST in the SDK client's
 * session, against a scripted Streamable HTTP server that records what reaches it. Timeouts and
 * cancellations are told to the server, its own requests are declined, a malformed or refused
 * answer is the caller's error without taking the backend down, and an expired session is
 * replaced by a new one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { createLog } from "../../src/log.js";
import { createMcpBackend } from "../../src/upstream/mcp-backend.js";
import type { McpBackend } from "../../src/upstreams/backend.js";

type Msg = { jsonrpc: "2.0"; id?: string | number; method?: string; params?: any; result?: any; error?: any };
let server: Server;
let url: string;
let sessions = 0;
let live = new Set<string>();
const received: { headers: IncomingMessage["headers"]; body: Msg }[] = [];
const waiting = new Map<string | number, (m: Msg) => void>();

const json = (res: ServerResponse, m: unknown, headers: Record<string, string> = {}) => res.writeHead(200, { "content-type": "application/json", ...headers }).end(JSON.stringify(m));
const event = (res: ServerResponse, m: unknown) => res.write(`event: message\ndata: ${JSON.stringify(m)}\n\n`);

function onCall(body: Msg, res: ServerResponse): void {
  const id = body.id!;
  const text = (t: string) => ({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text: t }] } });
  switch (body.params.name) {
    case "echo":
      return void json(res, text(`echo: ${body.params.arguments.message}`));
    case "slow":
      res.writeHead(200, { "content-type": "text/event-stream" }).write(": working\n\n");
      return;
    case "progress":
      res.writeHead(200, { "content-type": "text/event-stream" });
      event(res, { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: body.params._meta?.progressToken, progress: 1, total: 2, message: "half" } });
      event(res, { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "someone-else", progress: 9 } });
      event(res, text("done"));
      return void res.end();
    case "ask":
      res.writeHead(200, { "content-type": "text/event-stream" });
      waiting.set("roots-1", (answer) => {
        event(res, text(`the client said ${JSON.stringify(answer.error ?? answer.result)}`));
        res.end();
      });
      return void event(res, { jsonrpc: "2.0", id: "roots-1", method: "roots/list" });
    case "broken":
      return void json(res, { jsonrpc: "2.0", id, result: { content: "not a list" } });
    case "refuse":
      return void json(res, { jsonrpc: "2.0", id, error: { code: -32602, message: "bad arguments" } });
    case "expire":
      live.clear();
      return void res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } }));
    default:
      return void json(res, { jsonrpc: "2.0", id, error: { code: -32601, message: "no such tool" } });
  }
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    if (req.method !== "POST") return void res.writeHead(405).end();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Msg;
    received.push({ headers: req.headers, body });
    if (req.headers.authorization !== "Bearer backend-secret") return void res.writeHead(401).end();
    if (body.method === "initialize") {
      const sid = `session-${++sessions}`;
      live.add(sid);
      return void json(res, { jsonrpc: "2.0", id: body.id, result: { protocolVersion: body.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "scripted", version: "1" } } }, { "mcp-session-id": sid });
    }
    if (!live.has(req.headers["mcp-session-id"] as string)) return void res.writeHead(404).end("Session not found");
    if (body.method === undefined && body.id !== undefined) {
      waiting.get(body.id)?.(body);
      return void res.writeHead(202).end();
    }
    if (body.id === undefined) return void res.writeHead(202).end();
    if (body.method === "tools/list") return json(res, { jsonrpc: "2.0", id: body.id, result: { tools: ["echo", "slow", "progress", "ask", "broken", "refuse", "expire"].map((name) => ({ name, inputSchema: { type: "object" } })) } });
    if (body.method === "ping") return json(res, { jsonrpc: "2.0", id: body.id, result: {} });
    if (body.method === "tools/call") return onCall(body, res);
    json(res, { jsonrpc: "2.0", id: body.id, error: { code: -32601, message: "unknown method" } });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const backends: McpBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});

async function start(timeoutMs = 5_000): Promise<McpBackend> {
  const b = createMcpBackend(
    { kind: "mcp", name: "scripted", prefix: "scripted", args: [], env: {}, url, headers: { Authorization: { env: "SCRIPTED_AUTH" } }, readOnly: [], write: [] },
    { log: createLog("silent"), env: { SCRIPTED_AUTH: "Bearer backend-secret" }, timeoutMs, healthIntervalMs: 0, backoffMs: 10 },
  );
  backends.push(b);
  await b.start();
  return b;
}

const calls = (name: string) => received.filter((r) => r.body.method === "tools/call" && r.body.params.name === name);
const cancels = () => received.filter((r) => r.body.method === "notifications/cancelled").map((r) => r.body.params);
const failure = (p: Promise<unknown>) => p.then(() => expect.fail("the call should have failed"), (e: unknown) => e as GatewayError);

describe("an HTTP MCP backend's tools/call", () => {
  it("is one POST in the session: its id, its protocol version, the configured headers, a string id", async () => {
    const b = await start();
    expect(await b.call("echo", { message: "hi" })).toEqual({ content: [{ type: "text", text: "echo: hi" }] });
    const sent = calls("echo").at(-1)!;
    expect(sent.headers).toMatchObject({ "mcp-session-id": `session-${sessions}`, "mcp-protocol-version": expect.stringMatching(/^\d{4}-\d\d-\d\d$/), authorization: "Bearer backend-secret" });
    expect(sent.body).toEqual({ jsonrpc: "2.0", id: expect.stringMatching(/^cs-\d+$/), method: "tools/call", params: { name: "echo", arguments: { message: "hi" } } });
  });

  it("relays its progress (only the call's own) when the caller asks for it", async () => {
    const b = await start();
    const seen: unknown[] = [];
    const r = await b.call("progress", {}, { progress: (message, progress, total) => seen.push({ message, progress, total }) });
    expect(r.content).toEqual([{ type: "text", text: "done" }]);
    expect(seen).toEqual([{ message: "half", progress: 1, total: 2 }]);
    expect(calls("progress").at(-1)!.body.params._meta).toEqual({ progressToken: calls("progress").at(-1)!.body.id });
  });

  it("a timeout is the caller's error, and the server is told to stop", async () => {
    const b = await start(300);
    const err = await failure(b.call("slow", {}));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: "upstream_unavailable", message: "MCP upstream 'scripted' did not answer within 300 ms" });
    const id = calls("slow").at(-1)!.body.id;
    await expect.poll(cancels).toContainEqual({ requestId: id, reason: "no answer within 300 ms" });
    expect(b.status().up).toBe(true);
  });

  it("a caller's cancellation ends the call and reaches the server", async () => {
    const b = await start();
    const stop = new AbortController();
    const pending = failure(b.call("slow", {}, { signal: stop.signal }));
    await expect.poll(() => calls("slow").length).toBeGreaterThan(0);
    const id = calls("slow").at(-1)!.body.id;
    stop.abort();
    expect(await pending).toMatchObject({ code: "upstream_unavailable", message: "The call to MCP upstream 'scripted' was cancelled" });
    await expect.poll(cancels).toContainEqual({ requestId: id, reason: "cancelled by the client" });
  });

  it("a request of the server's during the call is declined, and the call completes", async () => {
    const b = await start();
    const r = await b.call("ask", {});
    expect(r.content[0]).toEqual({ type: "text", text: 'the client said {"code":-32601,"message":"Method not found: roots/list"}' });
  });

  it("a malformed result or an error answer is the caller's upstream_error; the backend stays up", async () => {
    const b = await start();
    expect(await failure(b.call("broken", {}))).toMatchObject({ code: "upstream_error", message: "MCP upstream 'scripted' answered with a malformed result: 'content' is not an array" });
    expect(await failure(b.call("refuse", {}))).toMatchObject({ code: "upstream_error", message: "MCP upstream 'scripted' refused the call: MCP error -32602: bad arguments" });
    expect(b.status().up).toBe(true);
    expect((await b.call("echo", { message: "still" })).content).toEqual([{ type: "text", text: "echo: still" }]);
  });

  it("an expired session: the call ran nothing and says so, and the next call runs in a new session", async () => {
    const b = await start();
    const before = sessions;
    const err = await failure(b.call("expire", {}));
    expect(err).toMatchObject({ code: "upstream_unavailable", details: { upstream: "scripted", delivery: "not_sent" } });
    expect(err.message).toMatch(/^MCP upstream 'scripted' is down \(HTTP 404: Session not found\)/);
    await expect.poll(() => b.status().up, { timeout: 5_000 }).toBe(true);
    expect((await b.call("echo", { message: "again" })).content).toEqual([{ type: "text", text: "echo: again" }]);
    expect(sessions).toBe(before + 1);
    expect(calls("echo").at(-1)!.headers["mcp-session-id"]).toBe(`session-${sessions}`);
  });
});
