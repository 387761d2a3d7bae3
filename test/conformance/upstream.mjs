// The upstream behind the conformance fixture spec (spec.yaml): each route answers what the
// matching conformance scenario expects the tool to return once the gateway has mapped it.
import { createServer } from "node:http";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
  "base64",
);
// A 44-byte WAV header with no samples: the smallest valid audio/wav.
const WAV = Buffer.from("UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=", "base64");

function stream(res, events, gapMs) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  let i = 0;
  const tick = () => {
    if (i === events.length) return res.end();
    res.write(`data: ${events[i++]}\n\n`);
    setTimeout(tick, gapMs);
  };
  tick();
}

const routes = {
  "GET /api/simple-text": (res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("This is a simple text response for testing.");
  },
  "GET /api/image": (res) => {
    res.writeHead(200, { "content-type": "image/png" });
    res.end(PNG);
  },
  "GET /api/audio": (res) => {
    res.writeHead(200, { "content-type": "audio/wav" });
    res.end(WAV);
  },
  "GET /api/resource": (res) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(Buffer.from("This is an embedded resource content."));
  },
  "GET /api/mixed": (res) => {
    const b = "conformance";
    res.writeHead(200, { "content-type": `multipart/mixed; boundary=${b}` });
    res.end(
      Buffer.concat([
        Buffer.from(`--${b}\r\ncontent-type: text/plain\r\n\r\nMultiple content types test:\r\n`),
        Buffer.from(`--${b}\r\ncontent-type: image/png\r\n\r\n`),
        PNG,
        Buffer.from(`\r\n--${b}\r\ncontent-type: application/json\r\n\r\n{"test":"data","value":123}\r\n`),
        Buffer.from(`--${b}\r\ncontent-type: application/octet-stream\r\n\r\nmixed resource\r\n--${b}--\r\n`),
      ]),
    );
  },
  "GET /api/logging": (res) => stream(res, ["Tool execution started", "Tool processing data", "Tool execution completed"], 50),
  "GET /api/progress": (res) => stream(res, ["0 of 100", "50 of 100", "100 of 100"], 50),
  "GET /api/error": (res) => {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ message: "This tool intentionally returns an error for testing" }));
  },
  "GET /api/reconnection": (res) => {
    setTimeout(() => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("Reconnection test completed");
    }, 1500);
  },
  "POST /api/sampling": (res) => {
    res.writeHead(501, { "content-type": "application/json" });
    res.end(JSON.stringify({ message: "sampling needs the client's model; an HTTP upstream cannot ask for it" }));
  },
  "POST /api/elicitation": (res, body) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ recorded: JSON.parse(body || "{}").message ?? "" }));
  },
  "POST /api/input-required/request-state": (res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("state-ok: the change ran after the person confirmed it");
  },
  "POST /api/input-required/tampered-state": (res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("recorded");
  },
  "GET /api/routed": (res, _body, url) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`served in region ${url.searchParams.get("region")}`);
  },
  "POST /api/json-schema": (res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true }));
  },
  // The tasks scenarios.
  "GET /api/greet": (res, _body, url) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`Hello, ${url.searchParams.get("name")}!`);
  },
  "GET /api/compute": (res, _body, url) => {
    const seconds = Number(url.searchParams.get("seconds") ?? "0");
    const timer = setTimeout(() => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`computed ${url.searchParams.get("label") ?? ""} in ${seconds} s`);
    }, seconds * 1000);
    // A cancelled task aborts the gateway's request: stop computing.
    res.on("close", () => clearTimeout(timer));
  },
  "GET /api/jobs/failing": (res) => {
    setTimeout(() => {
      res.writeHead(422, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "the job failed" }));
    }, 1000);
  },
};

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const url = new URL(req.url, "http://x");
    // DELETE /api/files/<name>: the one route with a path parameter.
    if (req.method === "DELETE" && url.pathname.startsWith("/api/files/")) {
      res.writeHead(200, { "content-type": "text/plain" });
      return res.end(`deleted ${decodeURIComponent(url.pathname.slice("/api/files/".length))}`);
    }
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) {
      res.writeHead(404, { "content-type": "application/json" });
      return res.end(JSON.stringify({ message: "no such route" }));
    }
    route(res, Buffer.concat(chunks).toString("utf8"), url);
  });
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}\n`);
});
