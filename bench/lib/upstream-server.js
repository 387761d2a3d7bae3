/**
 * The shared upstream for every contender: a plain node:http server that answers any path and
 * method with one small fixed JSON body, so the API behind the MCP servers costs the same for all.
 * Run as its own process; prints `listening <port>` on stdout once ready.
 *
 *   node bench/lib/upstream-server.js [--port N]
 */
import { createServer } from "node:http";

// Shaped so both bundled-spec reads (a project) and GitHub reads (a repository) look plausible.
const BODY = Buffer.from(
  JSON.stringify({
    id: "6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10",
    name: "bench",
    full_name: "bench/bench",
    status: "active",
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
  }),
);
const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
let served = 0;

const server = createServer((req, res) => {
  // Drain any request body before answering so keep-alive connections stay usable.
  req.resume();
  req.on("end", () => {
    served++;
    if (req.url === "/__count") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ served }));
      return;
    }
    res.writeHead(req.method === "POST" ? 201 : 200, {
      "content-type": "application/json",
      "content-length": BODY.length,
      etag: '"v1"',
    });
    res.end(BODY);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
