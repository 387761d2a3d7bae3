/**
 * The SDK v2 minimal server for MCP 2026-07-28: one tool with raw JSON Schema on the low-level
 * Server, served by `createMcpHandler` (a fresh server per request) through `toNodeHandler`, one
 * `fetch` per call. What the SDK itself costs on the stateless path, with nothing of a gateway.
 *
 *   node bench/peers/floor-v2.js --upstream URL --path /v1/projects/{project_id} [--tool NAME] [--port N]
 *
 * Prints `listening <port>` on stderr when ready.
 */
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, Server } from "@modelcontextprotocol/server";

const { values } = parseArgs({ options: { upstream: { type: "string" }, path: { type: "string" }, tool: { type: "string", default: "get_resource" }, port: { type: "string", default: "0" } } });
const upstream = values.upstream.replace(/\/+$/, "");
const template = values.path;
const params = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
const TOOL = {
  name: values.tool,
  description: "Reads one resource from the upstream API.",
  inputSchema: { type: "object", properties: Object.fromEntries(params.map((p) => [p, { type: "string" }])), required: params },
};

function makeServer() {
  const server = new Server({ name: "floor-v2", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler("tools/list", async () => ({ tools: [TOOL] }));
  server.setRequestHandler("tools/call", async (req) => {
    const args = req.params.arguments ?? {};
    const path = template.replace(/\{([^}]+)\}/g, (_, k) => encodeURIComponent(String(args[k] ?? "")));
    const res = await fetch(upstream + path);
    return { content: [{ type: "text", text: await res.text() }], isError: !res.ok };
  });
  return server;
}

const handle = toNodeHandler(createMcpHandler(makeServer, { legacy: "reject" }));
const http = createServer((req, res) => void handle(req, res));
http.keepAliveTimeout = 60_000;
http.listen(Number(values.port), "127.0.0.1", () => process.stderr.write(`listening ${http.address().port}\n`));
process.on("SIGTERM", () => process.exit(0));
