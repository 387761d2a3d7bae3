/**
 * The physical floor for a Node gateway: a plain node:http JSON-RPC handler, no MCP SDK at all.
 * It reads the POST body, answers tools/call with the text of the same single upstream request
 * every contender makes, and anything else with an empty result. No validation, no sessions.
 *
 *   node bench/peers/raw-floor.js --upstream URL --path /v1/projects/{project_id} [--port N]
 *
 * Prints `listening <port>` on stderr when ready.
 */
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { upstream: { type: "string" }, path: { type: "string" }, tool: { type: "string" }, port: { type: "string", default: "0" } } });
const upstream = values.upstream.replace(/\/+$/, "");
const template = values.path;

const http = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const msg = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    let result = {};
    if (msg.method === "tools/call") {
      const args = msg.params?.arguments ?? {};
      const path = template.replace(/\{([^}]+)\}/g, (_, k) => encodeURIComponent(String(args[k] ?? "")));
      const up = await fetch(upstream + path);
      result = { content: [{ type: "text", text: await up.text() }], isError: !up.ok };
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result }));
  });
});
http.keepAliveTimeout = 60_000;
http.listen(Number(values.port), "127.0.0.1", () => process.stderr.write(`listening ${http.address().port}\n`));
process.on("SIGTERM", () => process.exit(0));
