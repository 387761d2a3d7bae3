import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config.js";
import { GatewayError } from "../../src/errors.js";
import { createUpstreamClient } from "../../src/upstream/upstream-client.js";
import { fixtureTool } from "../fixtures/tools/index.js";
import { startFixtureUpstream, type FixtureUpstream } from "../fixtures/upstream/server.mjs";

let up: FixtureUpstream;
beforeAll(async () => {
  up = await startFixtureUpstream();
});
afterAll(() => up.close());
beforeEach(() => up.reset());

function client(env: Record<string, string> = {}) {
  const config = resolveConfig({ env: { COUNTERSIGN_UPSTREAM_URL: up.url, ...env } });
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

describe("requests on the wire", () => {
  it("delivers an encoded traversal attempt as one path segment", async () => {
    await client().executeUpstream(fixtureTool("get_item"), { item_id: "../../secret" });
    expect(up.requests[0]!.url).toBe("/v1/items/..%2F..%2Fsecret");
  });

  it("sends a multipart upload the server can read", async () => {
    await client().executeUpstream(fixtureTool("upload_file"), { file: Buffer.from("PNGDATA").toString("base64"), description: "logo" });
    const req = up.requests[0]!;
    expect(req.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    const parsed = await new Response(new Uint8Array(req.body), { headers: { "content-type": String(req.headers["content-type"]) } }).formData();
    expect(await (parsed.get("file") as File).text()).toBe("PNGDATA");
    expect(parsed.get("description")).toBe("logo");
  });

  it("sends text file parts as text", async () => {
    await client().executeUpstream(fixtureTool("upload_note"), { body: { note: "remember the milk", title: "todo" } });
    const req = up.requests[0]!;
    const parsed = await new Response(new Uint8Array(req.body), { headers: { "content-type": String(req.headers["content-type"]) } }).formData();
    expect(await (parsed.get("note") as File).text()).toBe("remember the milk");
  });

  it("sends form bodies with deepObject encoding", async () => {
    await client().executeUpstream(fixtureTool("create_charge"), { amount: 5, metadata: { k: "v w" } });
    expect(up.requests[0]!.body.toString()).toBe("amount=5&metadata[k]=v%20w");
  });

  it("uses the service token and never anything else", async () => {
    await client({ COUNTERSIGN_UPSTREAM_TOKEN: "svc-token" }).executeUpstream(fixtureTool("get_bearer"), {});
    expect(up.requests[0]!.headers.authorization).toBe("Bearer svc-token");
  });

  it("prefers the token's own upstream credential", async () => {
    await client({ COUNTERSIGN_UPSTREAM_TOKEN: "svc-token" }).executeUpstream(fixtureTool("get_key_header"), {}, { credential: "own-key" });
    expect(up.requests[0]!.headers["x-api-key"]).toBe("own-key");
  });

  it("carries Idempotency-Key and If-Match when asked", async () => {
    await client().executeUpstream(fixtureTool("create_item"), { project_id: 1, name: "n" }, { idempotencyKey: "act_1", ifMatch: '"v1"' });
    expect(up.requests[0]!.headers["idempotency-key"]).toBe("act_1");
    expect(up.requests[0]!.headers["if-match"]).toBe('"v1"');
  });
});

describe("responses", () => {
  it("turns JSON into structuredContent (with an outputSchema) plus text", async () => {
    const out = await client().executeUpstream(fixtureTool("get_item"), { item_id: "7" });
    expect(out.status).toBe(200);
    expect(out.result.structuredContent).toEqual({ id: "7", name: "Widget" });
    expect(JSON.parse((out.result.content[0] as { text: string }).text)).toEqual({ id: "7", name: "Widget" });
  });

  it("returns text, image, audio and embedded binary content", async () => {
    const c = client();
    expect((await c.executeUpstream(fixtureTool("get_text"), {})).result.content).toEqual([{ type: "text", text: "plain words" }]);
    const image = (await c.executeUpstream(fixtureTool("get_image"), {})).result.content[0]!;
    expect(image).toMatchObject({ type: "image", mimeType: "image/png" });
    expect(Buffer.from((image as { data: string }).data, "base64").subarray(1, 4).toString()).toBe("PNG");
    expect((await c.executeUpstream(fixtureTool("get_audio"), {})).result.content[0]).toMatchObject({ type: "audio", mimeType: "audio/wav" });
    const pdf = (await c.executeUpstream(fixtureTool("get_binary"), {})).result.content[0] as { type: string; resource: { blob: string; mimeType: string; uri: string } };
    expect(pdf.type).toBe("resource");
    expect(pdf.resource.mimeType).toBe("application/pdf");
    expect(Buffer.from(pdf.resource.blob, "base64").toString()).toBe("%PDF-1.4 fixture");
  });

  it("turns a multipart answer into one content block per part", async () => {
    const out = await client().executeUpstream(fixtureTool("get_mixed"), {});
    expect(out.result.content.map((c) => c.type)).toEqual(["text", "image", "resource"]);
    expect(out.result.content[0]).toEqual({ type: "text", text: "three parts" });
    expect(Buffer.from((out.result.content[1] as { data: string }).data, "base64").subarray(1, 4).toString()).toBe("PNG");
    const pdf = out.result.content[2] as { resource: { uri: string; blob: string; mimeType: string } };
    expect(pdf.resource.mimeType).toBe("application/pdf");
    expect(pdf.resource.uri).toBe(`${up.url}/v1/mixed#part-3`);
    expect(Buffer.from(pdf.resource.blob, "base64").toString()).toBe("%PDF-1.4 part");
  });

  it("truncates bodies over the cap with a note", async () => {
    const out = await client({ COUNTERSIGN_MAX_RESPONSE_BYTES: "4096" }).executeUpstream(fixtureTool("get_big"), { bytes: 100_000 });
    expect(out.truncated).toBe(true);
    expect((out.result.content[0] as { text: string }).text).toHaveLength(4096);
    expect((out.result.content[1] as { text: string }).text).toMatch(/truncated.*4096 bytes/);
  });

  it("survives a body that claims JSON but is not", async () => {
    const out = await client().executeUpstream(fixtureTool("get_weird"), {});
    expect(out.error).toBeUndefined();
    expect(out.result.content[0]).toEqual({ type: "text", text: "{not json" });
  });

  it("relays an event stream as progress and returns the collected events", async () => {
    const seen: string[] = [];
    const out = await client().executeUpstream(fixtureTool("stream_chat"), { message: "hi" }, { progress: (m) => seen.push(m) });
    expect(seen).toEqual(['{"text":"Hello"}', '{"text":"from"}', '{"text":"the stream"}', "[DONE]"]);
    expect(out.result.structuredContent).toEqual({
      events: [
        { event: "token", id: "1", data: { text: "Hello" } },
        { event: "token", id: "2", data: { text: "from" } },
        { event: "token", id: "3", data: { text: "the stream" } },
        { data: "[DONE]" },
      ],
    });
    expect((out.result.content[0] as { text: string }).text).toContain('[token] {"text":"the stream"}');
  });
});

describe("failures", () => {
  it("maps 4xx to a non-retryable upstream_error carrying status and message", async () => {
    const out = await client().executeUpstream(fixtureTool("get_status"), { code: 404 });
    expect(out.error?.code).toBe("upstream_error");
    expect(out.error?.retryable).toBe(false);
    expect(out.error?.message).toBe("Upstream answered HTTP 404 Not Found: fixture says 404");
    expect(out.result.isError).toBe(true);
    expect(out.result.structuredContent).toMatchObject({ error: { code: "upstream_error", upstream_status: 404 } });
  });

  it("maps 5xx to a retryable upstream_unavailable, keeping Retry-After", async () => {
    const out = await client().executeUpstream(fixtureTool("get_status"), { code: 503 });
    expect(out.error?.code).toBe("upstream_unavailable");
    expect(out.error?.retryable).toBe(true);
    expect(out.error?.retryAfterSeconds).toBe(7);
  });

  it("times out, aborting the upstream request", async () => {
    const err = await rejection(client({ COUNTERSIGN_UPSTREAM_TIMEOUT_MS: "100" }).executeUpstream(fixtureTool("get_slow"), { ms: 5000 }));
    expect(err.code).toBe("upstream_unavailable");
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/within 100 ms/);
    await expect.poll(() => up.aborted.length).toBe(1);
  });

  it("aborts the upstream request when the caller cancels", async () => {
    const ac = new AbortController();
    const p = client().executeUpstream(fixtureTool("get_slow"), { ms: 5000 }, { signal: ac.signal });
    await expect.poll(() => up.requests.length).toBe(1);
    ac.abort();
    const err = await rejection(p);
    expect(err.message).toMatch(/cancelled by the client/);
    await expect.poll(() => up.aborted.length).toBe(1);
  });

  it("sends nothing when the caller cancelled before the call", async () => {
    const ac = new AbortController();
    ac.abort();
    const before = up.requests.length;
    const err = await rejection(client().executeUpstream(fixtureTool("get_slow"), { ms: 5000 }, { signal: ac.signal }));
    expect(err.message).toMatch(/cancelled by the client/);
    expect(up.requests.length).toBe(before);
  });

  it("leaves no listener on the caller's signal once the call is over", async () => {
    const ac = new AbortController();
    const { EventEmitter } = await import("node:events");
    await client().executeUpstream(fixtureTool("get_text"), {}, { signal: ac.signal });
    await rejection(client({ COUNTERSIGN_UPSTREAM_TIMEOUT_MS: "100" }).executeUpstream(fixtureTool("get_slow"), { ms: 5000 }, { signal: ac.signal }));
    expect(EventEmitter.getEventListeners(ac.signal, "abort")).toHaveLength(0);
  });

  it("reports a connection dropped mid-body as retryable instead of failing the process", async () => {
    const err = await rejection(client().executeUpstream(fixtureTool("get_hangup"), {}));
    expect(err.code).toBe("upstream_unavailable");
    expect(err.retryable).toBe(true);
  });

  it("reports a refused connection as retryable", async () => {
    const dead = await startFixtureUpstream();
    await dead.close();
    const config = resolveConfig({ env: { COUNTERSIGN_UPSTREAM_URL: dead.url } });
    const err = await rejection(createUpstreamClient(config.upstream).executeUpstream(fixtureTool("get_text"), {}));
    expect(err.code).toBe("upstream_unavailable");
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });
});
