import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { LoggingMessageNotificationSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

const TOKEN = "csk_bridge_test_token";

/** A small Streamable HTTP MCP server that checks the bearer and records what it saw. */
async function startRemote() {
  const seen: { auth?: string; session?: string; method?: string }[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    seen.push({ auth: req.headers.authorization, session: req.headers["mcp-session-id"] as string | undefined, method: req.method });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { "WWW-Authenticate": "Bearer" }).end(JSON.stringify({ error: "unauthorized" }));
      return;
    }
    let parsed: unknown;
    if (req.method === "POST") {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const msg = parsed as { id?: number; method?: string; params?: { name?: string } };
      // Like the gateway: a call over its rate limit is refused at the HTTP level with a JSON-RPC error.
      if (msg.method === "tools/call" && msg.params?.name === "limited") {
        res.writeHead(429, { "Retry-After": "7", "Content-Type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", id: msg.id, error: { code: -32029, message: "rate limited: retry in 7 s", data: { retry_after_seconds: 7 } } }));
        return;
      }
    }
    const sid = req.headers["mcp-session-id"] as string | undefined;
    let transport = sid ? transports.get(sid) : undefined;
    if (!transport) {
      transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void transports.set(id, transport!) });
      const mcp = new McpServer({ name: "remote", version: "1.0.0" }, { capabilities: { logging: {}, tools: { listChanged: true } } });
      mcp.registerTool("echo", { description: "echo", inputSchema: { text: z.string() } }, async ({ text }, extra) => {
        await extra.sendNotification({ method: "notifications/message", params: { level: "info", data: `echoing ${text}` } });
        return { content: [{ type: "text", text: `echo: ${text}` }] };
      });
      mcp.registerTool("change_tools", { description: "announces a tool list change" }, async () => {
        mcp.sendToolListChanged();
        return { content: [{ type: "text", text: "changed" }] };
      });
      await mcp.connect(transport);
    }
    await transport.handleRequest(req, res, parsed);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  return { url, seen, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function bridge(url: string, token: string) {
  return new StdioClientTransport({ command: process.execPath, args: ["bin/countersign.js", "connect", url], env: { ...process.env, MCP_TOKEN: token } as Record<string, string>, stderr: "pipe" });
}

describe("countersign connect (stdio ↔ Streamable HTTP bridge)", () => {
  let remote: Awaited<ReturnType<typeof startRemote>>;
  beforeAll(async () => {
    remote = await startRemote();
  });
  afterAll(async () => {
    await remote?.close();
  });

  it("forwards requests with the bearer, keeps one session and relays server notifications", async () => {
    const client = new Client({ name: "bridge-test", version: "1.0.0" });
    const logs: string[] = [];
    let listChanged = 0;
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.data)));
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
    await client.connect(bridge(remote.url, TOKEN));
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(["change_tools", "echo"]);
    const result = await client.callTool({ name: "echo", arguments: { text: "hi" } });
    expect(result.content).toEqual([{ type: "text", text: "echo: hi" }]);
    await client.callTool({ name: "change_tools", arguments: {} });
    await expect.poll(() => listChanged, { timeout: 5000 }).toBeGreaterThan(0);
    expect(logs).toContain("echoing hi");
    // Every request carried the token, and all after initialize carried the same session id.
    expect(remote.seen.every((s) => s.auth === `Bearer ${TOKEN}`)).toBe(true);
    const sessions = new Set(remote.seen.slice(1).map((s) => s.session));
    expect(sessions.size).toBe(1);
    expect([...sessions][0]).toBeTruthy();
    await client.close();
    // Closing stdin ends the session on the server (DELETE).
    await expect.poll(() => remote.seen.some((s) => s.method === "DELETE"), { timeout: 5000 }).toBe(true);
  });

  it("passes the gateway's own JSON-RPC error through when it refuses a call (429)", async () => {
    const client = new Client({ name: "bridge-test", version: "1.0.0" });
    await client.connect(bridge(remote.url, TOKEN));
    const err = await client.callTool({ name: "limited", arguments: {} }).then(
      () => undefined,
      (e: unknown) => e as { code?: number; message: string; data?: unknown },
    );
    expect(err?.code).toBe(-32029);
    expect(err?.data).toEqual({ retry_after_seconds: 7 });
    // The session still works afterwards.
    expect((await client.callTool({ name: "echo", arguments: { text: "again" } })).content).toEqual([{ type: "text", text: "echo: again" }]);
    await client.close();
  });

  it("answers the client with an error naming the problem when the token is refused", async () => {
    const client = new Client({ name: "bridge-test", version: "1.0.0" });
    await expect(client.connect(bridge(remote.url, "wrong"))).rejects.toThrow(/401|token/);
    await client.close().catch(() => undefined);
  });

  it("exits 2 with a clear message without MCP_TOKEN", async () => {
    const { spawnSync } = await import("node:child_process");
    const env = { ...process.env };
    delete env.MCP_TOKEN;
    const out = spawnSync(process.execPath, ["bin/countersign.js", "connect", remote.url], { env, encoding: "utf8" });
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/MCP_TOKEN is not set/);
  });
});
