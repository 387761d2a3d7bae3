#!/usr/bin/env node
/**
 * The floor of what any gateway adds in front of an HTTP MCP server, for bench/upstreams.js: a
 * stdio MCP server that does nothing but forward each `tools/call` to the backend, as raw JSON-RPC
 * over one keep-alive connection, and write back its answer. No SDK, no token, no limits, no audit,
 * no validation, no namespacing beyond stripping `PREFIX_`. Not a product: a measuring stick.
 *
 *   node bench/lib/mcp-passthrough.js BACKEND_URL PREFIX
 */
import { Agent, request } from "node:http";
import { createInterface } from "node:readline";

const [url, prefix] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
let session;
let version = "2025-11-25";
let nextId = 1;

function post(message) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(message);
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", "content-length": Buffer.byteLength(body), "mcp-protocol-version": version };
    if (session) headers["mcp-session-id"] = session;
    const req = request(url, { method: "POST", agent, headers }, (res) => {
      session ??= res.headers["mcp-session-id"];
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const init = await post({ jsonrpc: "2.0", id: nextId++, method: "initialize", params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "passthrough", version: "1" } } });
version = init.result.protocolVersion;
await post({ jsonrpc: "2.0", method: "notifications/initialized" });

const write = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);
createInterface({ input: process.stdin }).on("line", async (line) => {
  const m = JSON.parse(line);
  if (m.id === undefined) return;
  if (m.method === "initialize") return write({ jsonrpc: "2.0", id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "passthrough", version: "1" } } });
  if (m.method !== "tools/call") return write({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "Method not found" } });
  const answer = await post({ jsonrpc: "2.0", id: nextId++, method: "tools/call", params: { ...m.params, name: m.params.name.slice(prefix.length + 1) } });
  write({ ...answer, id: m.id });
});
