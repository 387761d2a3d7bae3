/**
 * Was the request delivered? A failure before the request was fully written is safe to retry; a
 * failure after it (timeout, reset, client abort) leaves the outcome unknown, and a write must not
 * be reported as retryable then: the upstream may have performed it.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config.js";
import { GatewayError } from "../../src/errors.js";
import { createUpstreamClient, deliveryOf } from "../../src/upstream/upstream-client.js";
import { fixtureTool } from "../fixtures/tools/index.js";

/** What the server does, chosen by the request's first path segment `m-<mode>`. */
type Mode = "late" | "reset" | "ok" | "reset-mid-body";

let server: Server;
let url: string;
/** Requests the server read completely, by method and path. */
const received: string[] = [];
const sockets = new Set<Socket>();

function handle(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on("end", () => {
    received.push(`${req.method} ${req.url}`);
    const mode = (/^\/m-([a-z-]+)\//.exec(req.url!)?.[1] ?? "ok") as Mode;
    if (mode === "late") {
      const t = setTimeout(() => res.writeHead(201, { "content-type": "application/json" }).end('{"id":"late"}'), 3000);
      res.on("close", () => clearTimeout(t));
    } else if (mode === "reset") req.socket.destroy();
    else if (mode === "reset-mid-body") {
      res.writeHead(201, { "content-type": "application/json", "content-length": "100" });
      res.write('{"id":');
      setImmediate(() => req.socket.destroy());
    } else res.writeHead(201, { "content-type": "application/json" }).end('{"id":"ok"}');
  });
}

beforeAll(async () => {
  server = createHttpServer(handle);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  received.length = 0;
});

function client(base = url, timeoutMs = 300) {
  const config = resolveConfig({ env: { COUNTERSIGN_UPSTREAM_URL: base, COUNTERSIGN_UPSTREAM_TIMEOUT_MS: String(timeoutMs) } });
  return createUpstreamClient(config.upstream);
}

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected a rejection");
}

// create_item is `POST /projects/{project_id}/items`, get_item `GET /items/{item_id}`; the base
// URL's path replaces the spec's server path, so it carries the mode.
const write = fixtureTool("create_item");
const read = fixtureTool("get_item");
const at = (mode: Mode) => `${url}/m-${mode}`;

describe("an answered call", () => {
  it("says it was answered", async () => {
    const out = await client(at("ok")).executeUpstream(write, { project_id: 1, name: "n" });
    expect(out.status).toBe(201);
    expect(out.delivery).toBe("answered");
  });
});

describe("a write whose request was sent but not answered", () => {
  it("times out as outcome unknown, not retryable, telling the caller to read before retrying", async () => {
    const err = await rejection(client(at("late"), 300).executeUpstream(write, { project_id: 1, name: "n" }));
    expect(received).toEqual(["POST /m-late/projects/1/items"]);
    expect(err.code).toBe("upstream_unavailable");
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({ outcome: "unknown", delivery: "sent", timeout_ms: 300 });
    expect(err.message).toMatch(/outcome is unknown/);
    expect(err.message).toMatch(/read the resource before trying again/i);
    expect(deliveryOf(err)).toBe("sent");
  });

  it("treats a connection reset after the request was written as outcome unknown", async () => {
    const err = await rejection(client(at("reset"), 2000).executeUpstream(write, { project_id: 1, name: "n" }));
    expect(received).toEqual(["POST /m-reset/projects/1/items"]);
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({ outcome: "unknown", delivery: "sent" });
    expect(deliveryOf(err)).toBe("sent");
  });

  it("treats a client abort after sending as outcome unknown", async () => {
    const ac = new AbortController();
    const p = client(at("late"), 5000).executeUpstream(write, { project_id: 1, name: "n" }, { signal: ac.signal });
    await expect.poll(() => received.length).toBe(1);
    ac.abort();
    const err = await rejection(p);
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({ outcome: "unknown", delivery: "sent" });
    expect(err.message).toMatch(/cancelled by the client/);
    expect(err.message).toMatch(/outcome is unknown/);
  });

  it("treats an answer cut off mid-body as answered, outcome unknown, not retryable", async () => {
    const err = await rejection(client(at("reset-mid-body"), 2000).executeUpstream(write, { project_id: 1, name: "n" }));
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({ outcome: "unknown", delivery: "answered", upstream_status: 201 });
    expect(deliveryOf(err)).toBe("answered");
  });
});

describe("a read whose request was sent but not answered", () => {
  it("stays retryable, but still says it was sent", async () => {
    const err = await rejection(client(at("late"), 300).executeUpstream(read, { item_id: "1" }));
    expect(err.retryable).toBe(true);
    expect(err.details).toMatchObject({ delivery: "sent", outcome: "unknown" });
    expect(err.message).not.toMatch(/read the resource/);
  });
});

describe("a request that was never sent", () => {
  it("reports a refused connection as not sent and retryable, even for a write", async () => {
    const dead = createNetServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const err = await rejection(client(`http://127.0.0.1:${port}`).executeUpstream(write, { project_id: 1, name: "n" }));
    expect(err.retryable).toBe(true);
    expect(err.details).toMatchObject({ delivery: "not_sent" });
    expect(err.details?.outcome).toBeUndefined();
    expect(deliveryOf(err)).toBe("not_sent");
  });

  it("reports a timeout before the request was fully written as not sent and retryable", async () => {
    // A server that accepts the connection and never reads: a large body cannot be written out.
    const stuck: NetServer = createNetServer((s) => {
      s.pause();
      sockets.add(s);
    });
    await new Promise<void>((r) => stuck.listen(0, "127.0.0.1", r));
    try {
      const base = `http://127.0.0.1:${(stuck.address() as AddressInfo).port}`;
      const err = await rejection(client(base, 500).executeUpstream(write, { project_id: 1, name: "x".repeat(64 * 1024 * 1024) }));
      expect(err.retryable).toBe(true);
      expect(err.details).toMatchObject({ delivery: "not_sent", timeout_ms: 500 });
      expect(err.message).toMatch(/nothing was sent|was not sent/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => stuck.close(r));
    }
  });

  it("reports a client cancellation before sending as not sent", async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await rejection(client(at("ok")).executeUpstream(write, { project_id: 1, name: "n" }, { signal: ac.signal }));
    expect(received).toEqual([]);
    expect(err.details).toMatchObject({ delivery: "not_sent" });
    expect(err.retryable).toBe(false);
  });
});

describe("invalid arguments", () => {
  it("refuses a lone surrogate before anything reaches the upstream", async () => {
    const err = await rejection(client(at("ok")).executeUpstream(read, { item_id: "\ud800" }));
    expect(err.code).toBe("invalid_arguments");
    expect(err.message).toMatch(/^item_id: contains a lone UTF-16 surrogate/);
    expect(received).toEqual([]);
  });
});
