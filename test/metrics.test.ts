import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../src/metrics.js";
import { startHttpServer, type HttpHandle } from "../src/transports/http/index.js";
import { startAppHarness, type AppHarness } from "./app-harness.js";

/** The value of one sample line in Prometheus text, or undefined. */
function sample(text: string, line: string): number | undefined {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe("createMetrics", () => {
  it("counts calls, latencies, rejections, and reads gauges at scrape time", async () => {
    const m = createMetrics();
    m.observeCall({ tool: "get_item", module: "items", outcome: "ok" }, 0.002);
    m.observeCall({ tool: "get_item", module: "items", outcome: "ok" }, 0.004);
    m.observeCall({ tool: "create_item", module: "items", outcome: "pending" }, 0.001);
    m.observeUpstream(0.01, 200);
    m.observeUpstream(0.02, 503);
    m.observeUpstream(0.5);
    m.rateLimitRejected("sensitive");
    let pending = 3;
    m.setPendingActions(() => pending);
    m.sessionOpened();
    m.sessionOpened();
    m.sessionClosed();
    let text = await m.text();
    expect(sample(text, 'countersign_tool_calls_total{tool="get_item",module="items",outcome="ok",upstream=""}')).toBe(2);
    expect(sample(text, 'countersign_tool_calls_total{tool="create_item",module="items",outcome="pending",upstream=""}')).toBe(1);
    expect(sample(text, 'countersign_gateway_duration_seconds_count{outcome="ok"}')).toBe(2);
    expect(sample(text, 'countersign_upstream_duration_seconds_count{status="2xx",upstream=""}')).toBe(1);
    expect(sample(text, 'countersign_upstream_duration_seconds_count{status="5xx",upstream=""}')).toBe(1);
    expect(sample(text, 'countersign_upstream_duration_seconds_count{status="error",upstream=""}')).toBe(1);
    expect(sample(text, 'countersign_rate_limit_rejections_total{bucket="sensitive",upstream=""}')).toBe(1);
    expect(sample(text, "countersign_pending_actions")).toBe(3);
    expect(sample(text, 'countersign_sessions{transport="http"}')).toBe(1);
    pending = 0;
    text = await m.text();
    expect(sample(text, "countersign_pending_actions")).toBe(0);
  });

  it("keeps what is reported before the first metric is fed (prom-client loads late) and the distributed-mode metrics", async () => {
    const m = createMetrics({ defaults: true });
    m.setPendingActions(2);
    m.sessionOpened("stdio");
    m.trackAuditBuffer(() => 5, () => 1);
    let up = true;
    m.trackRedis(() => up);
    const text = await m.text();
    expect(sample(text, "countersign_pending_actions")).toBe(2);
    expect(sample(text, 'countersign_sessions{transport="stdio"}')).toBe(1);
    expect(sample(text, "countersign_audit_buffered_records")).toBe(5);
    expect(sample(text, "countersign_audit_dropped_records")).toBe(1);
    expect(sample(text, "countersign_redis_up")).toBe(1);
    expect(text).toContain("countersign_process_cpu_seconds_total");
    expect(m.contentType).toContain("text/plain");
    m.insuranceLimiterUsed();
    up = false;
    const later = await m.text();
    expect(sample(later, "countersign_rate_limit_insurance_total")).toBe(1);
    expect(sample(later, "countersign_redis_up")).toBe(0);
    // Redis tracked only after the first metric was fed: still exported.
    const n = createMetrics();
    n.rateLimitRejected("normal");
    n.trackRedis(() => true);
    expect(sample(await n.text(), "countersign_redis_up")).toBe(1);
    // Without the distributed mode: no redis_up, and the insurance counter is not made up.
    const plain = createMetrics();
    plain.insuranceLimiterUsed();
    expect(await plain.text()).not.toContain("redis_up");
    expect(await plain.text()).not.toContain("insurance_total");
  });

  it("keeps registries apart", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.rateLimitRejected("normal");
    expect(await b.text()).not.toContain('bucket="normal"');
  });
});

describe("/metrics on the HTTP transport", () => {
  let h: AppHarness;
  let server: HttpHandle;
  let client: Client;

  beforeAll(async () => {
    h = await startAppHarness();
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
    client = new Client({ name: "metrics-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { Authorization: `Bearer ${h.token}` } } }));
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
    await h?.close();
  });

  it("shows the calls just made", async () => {
    for (const id of ["a", "b", "c"]) await client.callTool({ name: "get_item", arguments: { item_id: id } });
    await client.callTool({ name: "create_item", arguments: { project_id: 1, name: "n" } });
    await client.callTool({ name: "create_item", arguments: { project_id: "not a number" } });
    const res = await fetch(server.url.replace(/\/mcp$/, "/metrics"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(sample(text, 'countersign_tool_calls_total{tool="get_item",module="items",outcome="ok",upstream=""}')).toBe(3);
    expect(sample(text, 'countersign_tool_calls_total{tool="create_item",module="items",outcome="pending",upstream=""}')).toBe(1);
    expect(sample(text, 'countersign_tool_calls_total{tool="create_item",module="items",outcome="invalid",upstream=""}')).toBe(1);
    expect(sample(text, 'countersign_gateway_duration_seconds_count{outcome="ok"}')).toBe(3);
    // Only the three reads reached the upstream (the write is pending, the invalid call stopped early).
    expect(sample(text, 'countersign_upstream_duration_seconds_count{status="2xx",upstream=""}')).toBe(3);
    expect(sample(text, "countersign_pending_actions")).toBe(1);
    expect(sample(text, 'countersign_sessions{transport="http"}')).toBe(1);
    expect(text).toContain("countersign_process_resident_memory_bytes");
  });
});
