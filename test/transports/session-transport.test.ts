/**
 * The session transport on its own: which POSTs it answers directly, how their answers are
 * written, and what a closed session or a departed client gets.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { directMessages, SessionTransport } from "../../src/transports/session-transport.js";

const JSON_HEADERS = { accept: "application/json, text/event-stream", "content-type": "application/json" };

function fakeReq(headers: Record<string, string>, method = "POST"): IncomingMessage {
  return { method, headers } as unknown as IncomingMessage;
}

describe("directMessages", () => {
  const req = (id: number, method = "tools/list") => ({ jsonrpc: "2.0", id, method });

  it("answers plain JSON-RPC POSTs directly", () => {
    expect(directMessages(fakeReq(JSON_HEADERS), req(1))).toHaveLength(1);
    expect(directMessages(fakeReq(JSON_HEADERS), [req(1), req(2), { jsonrpc: "2.0", method: "notifications/initialized" }])).toHaveLength(3);
  });

  it("leaves to the SDK what it must answer its own way", () => {
    expect(directMessages(fakeReq(JSON_HEADERS, "GET"), req(1))).toBeUndefined();
    expect(directMessages(fakeReq({ ...JSON_HEADERS, accept: "application/json" }), req(1))).toBeUndefined();
    expect(directMessages(fakeReq({ ...JSON_HEADERS, "content-type": "text/plain" }), req(1))).toBeUndefined();
    expect(directMessages(fakeReq({ ...JSON_HEADERS, "mcp-protocol-version": "1999-01-01" }), req(1))).toBeUndefined();
    expect(directMessages(fakeReq(JSON_HEADERS), [])).toBeUndefined();
    expect(directMessages(fakeReq(JSON_HEADERS), { jsonrpc: "2.0", id: 1 })).toBeUndefined();
    expect(directMessages(fakeReq(JSON_HEADERS), req(1, "initialize"))).toBeUndefined();
    // A repeated id would wait for an answer that never comes apart.
    expect(directMessages(fakeReq(JSON_HEADERS), [req(1), req(1)])).toBeUndefined();
  });
});

describe("SessionTransport.answer", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** One HTTP server whose requests are answered by `transport`. */
  async function serve(transport: SessionTransport, messages: (req: IncomingMessage) => JSONRPCMessage[]): Promise<string> {
    server = createServer((req: IncomingMessage, res: ServerResponse) => transport.answer(res, messages(req)));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  it("writes the answers of a batch as one JSON body, in request order", async () => {
    const transport = new SessionTransport();
    transport.onmessage = (m) => {
      // Answer out of order: the body still follows the requests.
      const msg = m as { id: number };
      setTimeout(() => void transport.send({ jsonrpc: "2.0", id: msg.id, result: { n: msg.id } }), msg.id === 1 ? 30 : 0);
    };
    const url = await serve(transport, () => [{ jsonrpc: "2.0", id: 1, method: "a" }, { jsonrpc: "2.0", id: 2, method: "b" }]);
    const res = await fetch(url, { method: "POST" });
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual([{ jsonrpc: "2.0", id: 1, result: { n: 1 } }, { jsonrpc: "2.0", id: 2, result: { n: 2 } }]);
  });

  it("answers a POST of notifications only with 202", async () => {
    const seen: unknown[] = [];
    const transport = new SessionTransport();
    transport.onmessage = (m) => void seen.push(m);
    const url = await serve(transport, () => [{ jsonrpc: "2.0", method: "notifications/initialized" }]);
    const res = await fetch(url, { method: "POST" });
    expect(res.status).toBe(202);
    expect(seen).toHaveLength(1);
  });

  it("answers a closed session with 404 session_not_found", async () => {
    const transport = new SessionTransport();
    await transport.close();
    const url = await serve(transport, () => [{ jsonrpc: "2.0", id: 1, method: "tools/list" }]);
    const res = await fetch(url, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32004, data: { code: "session_not_found" } } });
  });

  it("cancels what a client asked when it goes away before the answer", async () => {
    const seen: { method?: string; params?: Record<string, unknown> }[] = [];
    const transport = new SessionTransport();
    transport.onmessage = (m) => void seen.push(m as never);
    const url = await serve(transport, () => [{ jsonrpc: "2.0", id: 41, method: "tools/call" }]);
    const req = request(url, { method: "POST" });
    req.on("error", () => undefined);
    req.end();
    const end = Date.now() + 5_000;
    while (!seen.some((m) => m.method === "tools/call")) {
      if (Date.now() > end) throw new Error("the request never arrived");
      await new Promise((r) => setTimeout(r, 5));
    }
    req.destroy();
    while (!seen.some((m) => m.method === "notifications/cancelled")) {
      if (Date.now() > end) throw new Error("no cancellation");
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(seen.find((m) => m.method === "notifications/cancelled")?.params).toMatchObject({ requestId: 41, reason: "the client disconnected" });
    // A late answer for the cancelled request goes nowhere and breaks nothing.
    await transport.send({ jsonrpc: "2.0", id: 41, result: {} });
  });
});
