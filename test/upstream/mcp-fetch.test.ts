import { randomUUID } from "node:crypto";
import { getEventListeners } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { mcpFetch } from "../../src/upstream/mcp-fetch.js";

/** An MCP server (SDK 1.x) answering in JSON at /json and as event streams at /sse, plus plain routes. */
function startServer(): Promise<{ server: Server; base: string; hanging: () => number; closed: () => number }> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let closedSockets = 0;
  let hanging = 0;
  const server = createServer(async (req, res) => {
    if (req.url === "/gzip") return res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(gzipSync('{"packed":true}'));
    if (req.url === "/moved") return res.writeHead(302, { location: "/elsewhere" }).end();
    if (req.url === "/refused") return res.writeHead(403, "Nope", { "www-authenticate": 'Bearer error="insufficient_scope"' }).end("no");
    if (req.url === "/hang") {
      hanging++;
      req.socket.once("close", () => closedSockets++);
      return;
    }
    if (req.url === "/echo") {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") }));
    }
    const json = req.url === "/json";
    const sid = req.headers["mcp-session-id"] as string | undefined;
    let transport = sid ? transports.get(sid) : undefined;
    if (!transport) {
      const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, enableJsonResponse: json, onsessioninitialized: (id: string) => void transports.set(id, t) });
      const mcp = new McpServer({ name: "echo", version: "1.0.0" });
      mcp.registerTool("echo", { description: "Echoes.", inputSchema: { message: z.string() } }, async ({ message }) => ({ content: [{ type: "text", text: `Echo: ${message}` }] }));
      await mcp.connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hanging: () => hanging, closed: () => closedSockets })));
}

describe("mcpFetch (an HTTP MCP backend's transport)", () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    srv.server.closeAllConnections();
    await new Promise((r) => srv.server.close(r));
  });

  for (const mode of ["json", "sse"] as const) {
    it(`carries the SDK client's calls to a server answering ${mode === "json" ? "in JSON" : "as event streams"}`, async () => {
      const client = new Client({ name: "t", version: "1" }, { capabilities: {} });
      const transport = new StreamableHTTPClientTransport(new URL(`${srv.base}/${mode}`), { fetch: mcpFetch });
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(["echo"]);
      for (let i = 0; i < 20; i++) {
        const r = await client.callTool({ name: "echo", arguments: { message: `m${i}` } });
        expect(r.content).toEqual([{ type: "text", text: `Echo: m${i}` }]);
      }
      await transport.terminateSession();
      await client.close();
    });
  }

  it("removes its listener from a long-lived signal once each exchange ends", async () => {
    const lifelong = new AbortController();
    for (let i = 0; i < 50; i++) {
      const res = await mcpFetch(`${srv.base}/echo`, { method: "POST", body: "{}", signal: lifelong.signal });
      await res.text();
    }
    expect(getEventListeners(lifelong.signal, "abort")).toHaveLength(0);
  });

  it("sends the method, headers (any form) and body, with the body's length", async () => {
    const res = await mcpFetch(new URL(`${srv.base}/echo`), { method: "POST", headers: new Headers({ "Mcp-Session-Id": "s1", "content-type": "application/json" }), body: '{"é":1}' });
    const seen = (await res.json()) as { method: string; headers: Record<string, string>; body: string };
    expect(seen).toMatchObject({ method: "POST", body: '{"é":1}', headers: { "mcp-session-id": "s1", "content-type": "application/json", "content-length": "8", "accept-encoding": "gzip, deflate, br", "user-agent": "countersign" } });
    const plain = await mcpFetch(`${srv.base}/echo`, { method: "DELETE", headers: { "X-A": "1" } });
    expect(((await plain.json()) as { headers: Record<string, string> }).headers["x-a"]).toBe("1");
  });

  it("decodes a gzip body, answers a redirect without following it, and gives a refusal's status and headers", async () => {
    const packed = await mcpFetch(`${srv.base}/gzip`);
    expect(packed.headers.get("content-type")).toBe("application/json");
    expect(await packed.json()).toEqual({ packed: true });
    const moved = await mcpFetch(`${srv.base}/moved`);
    expect([moved.status, moved.headers.get("location")]).toEqual([302, "/elsewhere"]);
    const refused = await mcpFetch(`${srv.base}/refused`);
    expect([refused.ok, refused.status, refused.statusText, refused.headers.get("WWW-Authenticate")]).toEqual([false, 403, "Nope", 'Bearer error="insufficient_scope"']);
    expect(await refused.text()).toBe("no");
    await expect(refused.text()).rejects.toThrow(/already been read/);
  });

  it("aborts a request in flight on its signal, closing the connection", async () => {
    const ac = new AbortController();
    const pending = mcpFetch(`${srv.base}/hang`, { method: "POST", body: "{}", signal: ac.signal });
    await expect.poll(() => srv.hanging()).toBe(1);
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    await expect.poll(() => srv.closed()).toBe(1);
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
    await expect(mcpFetch(`${srv.base}/echo`, { signal: ac.signal })).rejects.toMatchObject({ name: "AbortError" });
  });

  it("rejects a failed connection like fetch: a TypeError whose cause is the system error", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = (await mcpFetch(`http://127.0.0.1:${port}/mcp`, { method: "POST", body: "{}" }).catch((e: unknown) => e)) as TypeError & { cause: { code: string } };
    expect(err).toBeInstanceOf(TypeError);
    expect(err.cause.code).toBe("ECONNREFUSED");
  });

  it("refuses what it cannot send, naming it", async () => {
    await expect(mcpFetch("ftp://127.0.0.1/mcp")).rejects.toThrow("fetch failed: unsupported protocol ftp:");
    await expect(mcpFetch(`${srv.base}/echo`, { method: "POST", body: new FormData() })).rejects.toThrow("mcpFetch: only string and byte bodies are sent");
  });
});
