/**
 * Property test of JSON-RPC input over HTTP: any JSON value as a request or a batch, and calls with
 * arguments of any shape the tool's schema refuses. The gateway never answers `internal` (HTTP 500
 * or -32603) and never calls the upstream for input it could not run.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type HttpHandle } from "../../../src/transports/http/index.js";
import { startAppHarness, type AppHarness } from "../../app-harness.js";

const RUNS = Number(process.env.COUNTERSIGN_PROPERTY_RUNS ?? 60);
const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/** A JSON-RPC-ish message: sometimes well formed, often not. */
const message = fc.oneof(
  fc.jsonValue(),
  fc.record({
    jsonrpc: fc.oneof(fc.constant("2.0"), fc.jsonValue()),
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.jsonValue()),
    method: fc.oneof(fc.constantFrom("tools/call", "tools/list", "initialize", "ping", "notifications/cancelled"), fc.string()),
    params: fc.jsonValue(),
  }, { requiredKeys: [] }),
  // A tools/call of a real tool with arguments its schema refuses (wrong type, unknown keys, not an object).
  fc.record({
    jsonrpc: fc.constant("2.0"),
    id: fc.integer({ min: 1, max: 1_000_000 }),
    method: fc.constant("tools/call"),
    params: fc.record({
      name: fc.oneof(fc.constant("get_item"), fc.jsonValue()),
      arguments: fc.oneof(
        fc.record({ item_id: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string())) }),
        fc.record({ item_id: fc.string(), [`x_${"extra"}`]: fc.jsonValue() }),
        fc.jsonValue().filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
      ),
    }),
  }),
);

const body = fc.oneof(message, fc.array(message, { maxLength: 5 }), fc.string().map((s) => ({ raw: s })));

describe("JSON-RPC input, any shape", () => {
  let h: AppHarness;
  let server: HttpHandle;
  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_STATELESS: "true" } });
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it("never answers internal and never reaches the upstream", async () => {
    h.upstream.reset();
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const text = typeof b === "object" && b !== null && !Array.isArray(b) && "raw" in b ? String((b as { raw: string }).raw) : JSON.stringify(b);
        const res = await fetch(server.url, { method: "POST", headers: { ...HEADERS, authorization: `Bearer ${h.token}` }, body: text });
        const answer = await res.text();
        expect(res.status, answer).toBeLessThan(500);
        expect(answer).not.toContain("-32603");
        expect(answer).not.toMatch(/Internal gateway error|ZodError|invalid_type/);
      }),
      { numRuns: RUNS },
    );
    expect(h.upstream.requests).toEqual([]);
  }, 120_000);
});
