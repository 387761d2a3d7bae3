/**
 * OpenTelemetry end to end: `countersign serve` spawned with the standard OTEL_* variables pointing
 * at a local OTLP/HTTP receiver (JSON), called by the 1.x SDK client over Streamable HTTP. The
 * exported spans follow the MCP semantic conventions, nest call ▸ stages ▸ upstream request, take
 * the client's traceparent from `params._meta`, and the upstream receives the client span's
 * traceparent. Needs dist/ (built by test/global-setup.ts unless COUNTERSIGN_SKIP_BUILD=1).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureTools } from "../fixtures/tools/index.js";
import { writeGenerated } from "../support/generated.js";
import { startFixtureUpstream, type FixtureUpstream } from "../fixtures/upstream/server.mjs";

const CLI = join(process.cwd(), "bin/countersign.js");

interface OtlpValue { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: { key: string; value: OtlpValue }[]; status?: { code?: number } }
interface OtlpMetric { name: string; unit?: string; histogram?: { dataPoints: { count: string | number; attributes?: { key: string; value: OtlpValue }[] }[] } }

/** A local OTLP/HTTP receiver: keeps every span and metric it is sent (OTLP JSON). */
function startReceiver() {
  const spans: OtlpSpan[] = [];
  const metrics: OtlpMetric[] = [];
  const contentTypes = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      contentTypes.add(String(req.headers["content-type"]));
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, { scopeSpans?: { spans: OtlpSpan[] }[]; scopeMetrics?: { metrics: OtlpMetric[] }[] }[]>;
      if (req.url === "/v1/traces") for (const r of body.resourceSpans ?? []) for (const s of r.scopeSpans ?? []) spans.push(...s.spans);
      if (req.url === "/v1/metrics") for (const r of body.resourceMetrics ?? []) for (const s of r.scopeMetrics ?? []) metrics.push(...s.metrics);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return { spans, metrics, contentTypes, server };
}

function attrs(span: { attributes?: { key: string; value: OtlpValue }[] }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of span.attributes ?? []) out[a.key] = a.value.stringValue ?? (a.value.intValue !== undefined ? Number(a.value.intValue) : (a.value.doubleValue ?? a.value.boolValue));
  return out;
}

async function until<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let up: FixtureUpstream;
let receiver: ReturnType<typeof startReceiver>;
let serve: ChildProcess;
let url: string;
let token: string;
let stderr = "";

beforeAll(async () => {
  up = await startFixtureUpstream();
  receiver = startReceiver();
  await new Promise<void>((r) => receiver.server.listen(0, "127.0.0.1", r));
  const work = mkdtempSync(join(tmpdir(), "cs-otel-"));
  const generated = join(work, "generated");
  writeGenerated(generated, fixtureTools(), "fixture");
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    COUNTERSIGN_DATA_DIR: join(work, "data"),
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_SERVICE_NAME: "countersign-otel-test",
    OTEL_BSP_SCHEDULE_DELAY: "20",
    OTEL_METRIC_EXPORT_INTERVAL: "200",
    LOG_LEVEL: "debug",
  };
  const minted = spawnSync("node", [CLI, "tokens", "create", "--name", "otel", "--json"], { env, encoding: "utf8" });
  expect(minted.status, minted.stderr).toBe(0);
  token = (JSON.parse(minted.stdout) as { token: string }).token;
  serve = spawn("node", [CLI, "serve", "--port", "0", "--generated", generated, "--upstream", up.url], { env, stdio: ["ignore", "ignore", "pipe"] });
  url = await new Promise<string>((resolve, reject) => {
    serve.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    serve.once("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
});

afterAll(async () => {
  if (serve.exitCode === null) serve.kill("SIGKILL");
  await up.close();
  await new Promise((r) => receiver.server.close(r));
});

describe("OpenTelemetry over OTLP/HTTP", () => {
  it("exports a tools/call span with the MCP attributes, a span per stage and a client span whose traceparent reaches the upstream", async () => {
    const client = new Client({ name: "otel-agent", version: "1" });
    const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
    await client.connect(transport);
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parentId = "00f067aa0ba902b7";
    const before = up.requests.length;
    const result = await client.callTool({ name: "get_item", arguments: { item_id: "t1" }, _meta: { traceparent: `00-${traceId}-${parentId}-01` } });
    expect(result.structuredContent).toEqual({ id: "t1", name: "Widget" });

    const call = await until("the tools/call span", () => receiver.spans.find((s) => s.name === "tools/call get_item" && s.traceId === traceId));
    expect(call.kind).toBe(2); // SERVER
    expect(call.parentSpanId).toBe(parentId);
    expect(attrs(call)).toMatchObject({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "get_item",
      "gen_ai.operation.name": "execute_tool",
      "jsonrpc.request.id": expect.any(String),
      "mcp.protocol.version": expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      "mcp.session.id": transport.sessionId,
    });
    expect(attrs(call)["error.type"]).toBeUndefined();

    // Onion order: each stage's span is the child of the one before; the first is the call's child.
    const stages = ["audit", "meta", "resolve", "policy", "rateLimit", "validate", "confirmGate", "upstream"];
    const ofTrace = await until("every stage span and the client span", () => {
      const mine = receiver.spans.filter((s) => s.traceId === traceId);
      return mine.length >= stages.length + 2 ? mine : undefined;
    });
    let parent = call.spanId;
    for (const stage of stages) {
      const span = ofTrace.find((s) => s.name === `stage ${stage}`);
      expect(span, stage).toBeDefined();
      expect(span!.parentSpanId, stage).toBe(parent);
      parent = span!.spanId;
    }
    const http = ofTrace.find((s) => s.kind === 3)!; // CLIENT
    expect(http.name).toBe("GET");
    expect(http.parentSpanId).toBe(parent);
    expect(attrs(http)).toMatchObject({ "http.request.method": "GET", "http.response.status_code": 200, "url.full": `${up.url}/v1/items/t1` });

    // The upstream saw exactly one request, carrying the client span as its parent.
    const sent = up.requests.slice(before);
    expect(sent.map((r) => r.url)).toEqual(["/v1/items/t1"]);
    expect(sent[0]!.headers.traceparent).toBe(`00-${traceId}-${http.spanId}-01`);
    expect([...receiver.contentTypes].every((t) => t.startsWith("application/json"))).toBe(true);
    await client.close();
  });

  it("a call without a traceparent starts its own trace; a refused call carries error.type; the duration histogram is exported in seconds", async () => {
    const client = new Client({ name: "otel-agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const bad = await client.callTool({ name: "get_item", arguments: { item_id: 42 }, _meta: { traceparent: "not-a-traceparent" } });
    expect(bad.isError).toBe(true);
    const failed = await until("the failed call's span", () => receiver.spans.find((s) => s.name === "tools/call get_item" && attrs(s)["error.type"] !== undefined));
    expect(failed.parentSpanId || undefined).toBeUndefined();
    expect(failed.status?.code).toBe(2); // ERROR
    expect(attrs(failed)["error.type"]).toBe("invalid_arguments");

    const histogram = await until("the duration histogram", () =>
      receiver.metrics.find((m) => m.name === "mcp.server.operation.duration" && m.histogram?.dataPoints.some((p) => attrs(p)["error.type"] !== undefined)),
    );
    expect(histogram.unit).toBe("s");
    const points = histogram.histogram!.dataPoints.map((p) => ({ ...attrs(p), count: Number(p.count) }));
    expect(points).toContainEqual(expect.objectContaining({ "mcp.method.name": "tools/call", "gen_ai.tool.name": "get_item", count: expect.any(Number) }));
    await client.close();
  });

  it("the SDK v2 client pinned to 2026-07-28: its traceparent is the parent, the protocol version is 2026-07-28", async () => {
    const client = new ClientV2({ name: "otel-v2", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await client.connect(new TransportV2(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const parentId = "b7ad6b7169203331";
    const result = await client.callTool({ name: "get_item", arguments: { item_id: "m1" }, _meta: { traceparent: `00-${traceId}-${parentId}-01` } });
    expect(result.structuredContent).toEqual({ id: "m1", name: "Widget" });
    const call = await until("the 2026-07-28 call's span", () => receiver.spans.find((s) => s.name === "tools/call get_item" && s.traceId === traceId));
    expect(call.parentSpanId).toBe(parentId);
    expect(attrs(call)).toMatchObject({ "mcp.method.name": "tools/call", "gen_ai.tool.name": "get_item", "mcp.protocol.version": "2026-07-28", "jsonrpc.request.id": expect.any(String) });
    await client.close();
  });

  it("a plain 2026-07-28 call (answered without the SDK's handler) is traced too", async () => {
    const client = new ClientV2({ name: "otel-v2-plain", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await client.connect(new TransportV2(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const before = new Set(receiver.spans.map((s) => s.spanId));
    const result = await client.callTool({ name: "get_item", arguments: { item_id: "m1" } });
    expect(result.structuredContent).toEqual({ id: "m1", name: "Widget" });
    const call = await until("the plain call's span", () => receiver.spans.find((s) => s.name === "tools/call get_item" && !before.has(s.spanId) && attrs(s)["mcp.protocol.version"] === "2026-07-28" && !s.parentSpanId));
    expect(attrs(call)).toMatchObject({ "mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool", "jsonrpc.request.id": expect.any(String) });
    await client.close();
  });

  it("log lines written inside a call carry its trace_id and span_id", async () => {
    const traced = await until("a log line with a trace id", () =>
      stderr
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => typeof l.trace_id === "string"),
    );
    expect(traced.trace_id).toMatch(/^[\da-f]{32}$/);
    expect(traced.span_id).toMatch(/^[\da-f]{16}$/);
    expect(receiver.spans.some((s) => s.traceId === traced.trace_id)).toBe(true);
  });
});
