/**
 * The floor: the least an MCP server can do to put one upstream read behind a tool. One tool,
 * raw JSON Schema, the SDK's low-level Server, one `fetch` per call; no validation, no policy,
 * no logging. Every contender is measured beside it.
 *
 *   node bench/peers/floor.js --upstream URL --path /v1/projects/{project_id} [--transport stdio|http] [--port N] [--json-response]
 *
 * Over HTTP it keeps stateful Streamable HTTP sessions (one Server + transport per session), as
 * the SDK documents; it prints `listening <port>` on stderr when ready.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";

const { values } = parseArgs({
  options: {
    upstream: { type: "string" },
    path: { type: "string" },
    transport: { type: "string", default: "stdio" },
    port: { type: "string", default: "0" },
    tool: { type: "string", default: "get_resource" },
    // Answer POSTs with application/json instead of an SSE stream (to measure what SSE framing costs).
    "json-response": { type: "boolean", default: false },
  },
});
if (!values.upstream || !values.path) {
  process.stderr.write("floor: --upstream URL and --path TEMPLATE are required\n");
  process.exit(2);
}
const upstream = values.upstream.replace(/\/+$/, "");
const template = values.path;
const params = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);

const TOOL = {
  name: values.tool,
  description: "Reads one resource from the upstream API.",
  inputSchema: {
    type: "object",
    properties: Object.fromEntries(params.map((p) => [p, { type: "string" }])),
    required: params,
  },
};

function makeServer() {
  const server = new Server({ name: "floor", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [TOOL] }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const args = req.params.arguments ?? {};
    const path = template.replace(/\{([^}]+)\}/g, (_, k) => encodeURIComponent(String(args[k] ?? "")));
    const res = await fetch(upstream + path);
    const text = await res.text();
    return { content: [{ type: "text", text }], isError: !res.ok };
  });
  return server;
}

if (values.transport === "stdio") {
  await makeServer().connect(new StdioServerTransport());
} else if (values.transport === "http") {
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    if (!req.url?.startsWith("/mcp")) {
      res.writeHead(404).end();
      return;
    }
    const id = req.headers["mcp-session-id"];
    let body;
    if (req.method === "POST") {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    }
    let transport = typeof id === "string" ? sessions.get(id) : undefined;
    if (!transport) {
      if (req.method !== "POST" || !isInitializeRequest(body)) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }));
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: values["json-response"],
        onsessioninitialized: (sid) => sessions.set(sid, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await makeServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  http.keepAliveTimeout = 60_000;
  http.listen(Number(values.port), "127.0.0.1", () => process.stderr.write(`listening ${http.address().port}\n`));
  process.on("SIGTERM", () => process.exit(0));
} else {
  process.stderr.write(`floor: --transport must be stdio or http, got ${values.transport}\n`);
  process.exit(2);
}
