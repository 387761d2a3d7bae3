import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { nodeFetch, type UpstreamResponse } from "../../src/upstream/node-fetch.js";

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function text(res: UpstreamResponse): Promise<string> {
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    chunks.push(r.value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function headersOf(res: UpstreamResponse): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => (out[k] = v));
  return out;
}

describe("nodeFetch (the upstream's HTTP client)", () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        if (req.url === "/gzip") {
          res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(gzipSync('{"packed":true}'));
        } else if (req.url === "/moved") {
          res.writeHead(302, { location: "/elsewhere" }).end();
        } else if (req.url === "/slow") {
          setTimeout(() => res.writeHead(200).end("late"), 2000).unref();
        } else if (req.url === "/cookies") {
          res.setHeader("set-cookie", ["a=1", "b=2"]);
          res.writeHead(201, "Made", { "x-multi": "yes" }).end("");
        } else {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, path: req.url }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it("sends method, headers and a string body with its byte length, and reads the answer", async () => {
    const res = await nodeFetch(`${base}/v1/items?q=%C3%A9`, { method: "POST", headers: { "Content-Type": "application/json", "X-Trace": "t1" }, body: '{"name":"é"}' });
    expect(res.status).toBe(200);
    expect(JSON.parse(await text(res))).toEqual({ ok: true, path: "/v1/items?q=%C3%A9" });
    expect(seen[0]).toMatchObject({ method: "POST", url: "/v1/items?q=%C3%A9", body: '{"name":"é"}' });
    expect(seen[0]!.headers).toMatchObject({ "content-type": "application/json", "x-trace": "t1", "content-length": "13", accept: "*/*" });
    expect(seen[0]!.headers["transfer-encoding"]).toBeUndefined();
  });

  it("keeps the connection alive between calls", async () => {
    const ports = new Set<number>();
    server.on("connection", (s) => ports.add(s.remotePort!));
    for (let i = 0; i < 5; i++) await text(await nodeFetch(`${base}/x`, { method: "GET", headers: {} }));
    expect(ports.size).toBeLessThanOrEqual(1);
  });

  it("decodes a gzip answer", async () => {
    const res = await nodeFetch(`${base}/gzip`, { method: "GET", headers: {} });
    expect(seen[0]!.headers["accept-encoding"]).toContain("gzip");
    expect(JSON.parse(await text(res))).toEqual({ packed: true });
  });

  it("answers a redirect instead of following it, and keeps status text and repeated headers", async () => {
    const moved = await nodeFetch(`${base}/moved`, { method: "GET", headers: {} });
    expect(moved.status).toBe(302);
    expect(headersOf(moved).location).toBe("/elsewhere");
    expect(seen).toHaveLength(1);
    const made = await nodeFetch(`${base}/cookies`, { method: "GET", headers: {} });
    expect(made.statusText).toBe("Made");
    expect(headersOf(made)).toMatchObject({ "set-cookie": "a=1, b=2", "x-multi": "yes" });
  });

  it("sends a multipart body (through fetch, which encodes it)", async () => {
    const form = new FormData();
    form.append("note", "hello");
    const res = await nodeFetch(`${base}/upload`, { method: "POST", headers: {}, body: form });
    expect(res.status).toBe(200);
    expect(seen[0]!.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen[0]!.body).toContain('name="note"');
  });

  it("rejects with a TypeError carrying the system error when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await nodeFetch(`http://127.0.0.1:${port}/`, { method: "GET", headers: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
  });

  it("aborts through the signal", async () => {
    const abort = new AbortController();
    const pending = nodeFetch(`${base}/slow`, { method: "GET", headers: {}, signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    await expect(pending).rejects.toThrow();
  });

  it("refuses a scheme it does not speak", async () => {
    await expect(nodeFetch("ftp://example.test/x", { method: "GET", headers: {} })).rejects.toThrow(/unsupported protocol ftp:/);
  });
});
