// The conformance suite cannot send an Authorization header, and the gateway refuses requests
// without one. This proxy adds the bearer and forwards everything else untouched (Host and
// Origin included, so the gateway's DNS-rebinding checks still see what the suite sent).
import { createServer, request } from "node:http";

const [, , listenPort, target, token] = process.argv;
const upstream = new URL(target);

const server = createServer((req, res) => {
  const headers = { ...req.headers, authorization: `Bearer ${token}` };
  const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  res.on("close", () => out.destroy());
  req.pipe(out);
});
server.listen(Number(listenPort), "127.0.0.1", () => {
  process.stdout.write(`http://localhost:${server.address().port}/mcp\n`);
});
