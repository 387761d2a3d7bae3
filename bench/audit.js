/**
 * What the audit stage costs per call: gateway p50 with and without it, in one run, against the
 * same local upstream.
 *
 *   npx tsc -p tsconfig.build.json && node bench/audit.js
 *
 * Two gateways are built in-process with createGateway over the fixture tools: one as shipped
 * (audit stage writing JSON Lines to a temp data dir, metrics on), one whose audit stage is a
 * pass-through. Each is measured two ways:
 *   - http: a real MCP client (SDK Client over Streamable HTTP) calling `get_item`, beside the
 *     same upstream request made directly with fetch. The gateway's own overhead is
 *     gateway p50 − direct p50: what a client pays for going through the gateway.
 *   - chain: gateway.callTool in-process (no transport), beside the upstream client alone. This
 *     isolates the chain, so the audit's share of it is the harshest figure.
 * Calls are sequential (one in flight); all six variants are interleaved in shuffled rounds so
 * drift on a shared machine hits them alike. Besides wall-clock percentiles, each batch records
 * the process's CPU time per call (process.cpuUsage; the upstream runs in this process too, the
 * same for every variant): on a loaded shared machine wall-clock medians of sub-millisecond
 * differences drown in scheduling noise, CPU time per call much less so. A last part times the record alone
 * (recorder.finish: redaction, caps, classification, summary, metrics, sink enqueue) in a tight
 * loop, which is steadier than differences of end-to-end medians.
 *
 * Target (issue 6): audit cost < 10% of the gateway's own overhead.
 * Writes bench/results/audit.json. ROUNDS and PER_ROUND env vars change the sample size.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createGateway } from "../dist/src/app.js";
import { createAuditRecorder } from "../dist/src/audit/recorder.js";
import { resolveConfig } from "../dist/src/config.js";
import { createLog } from "../dist/src/log.js";
import { createMetrics } from "../dist/src/metrics.js";
import { createRegistry } from "../dist/src/registry.js";
import { createAuditFileSink } from "../dist/src/stores/audit-file-sink.js";
import { createMemoryTokenStore } from "../dist/src/stores/tokens.js";
import { hashToken, mintToken } from "../dist/src/tokens/format.js";
import { startHttpServer } from "../dist/src/transports/http/index.js";
import { startFixtureUpstream } from "../test/fixtures/upstream/server.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 30);
const PER_ROUND = Number(process.env.PER_ROUND ?? 200);
const WARMUP = 1000;
const TOOL = "get_item";
const ARGS = { item_id: "abc-123", fields: ["name", "id"] };

const tools = JSON.parse(readFileSync(new URL("../test/fixtures/tools/fixture-api.json", import.meta.url), "utf8"));
const tool = tools.find((t) => t.name === TOOL);

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const r = (x) => Math.round(x * 1000) / 1000;
  return { n: s.length, p50_us: r(percentile(s, 50) * 1000), p90_us: r(percentile(s, 90) * 1000), p99_us: r(percentile(s, 99) * 1000), mean_us: r(mean * 1000) };
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function shuffle(xs) {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

async function gateway(upstreamUrl, withAudit) {
  const dataDir = mkdtempSync(join(tmpdir(), `cs-bench-audit-${withAudit ? "on" : "off"}-`));
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_UPSTREAM_URL: upstreamUrl, LOG_LEVEL: "silent", COUNTERSIGN_RATE_NORMAL: "1000000000" } });
  const secret = mintToken();
  const tokens = createMemoryTokenStore();
  await tokens.create({ id: "tok_bench", hash: hashToken(secret), name: "bench", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() });
  const overrides = { registry: createRegistry(tools), log: createLog("silent"), tokens };
  if (!withAudit) overrides.stages = { audit: async function noAudit(_ctx, next) { await next(); } };
  const gw = await createGateway(config, overrides);
  const http = await startHttpServer(gw, { port: 0, host: "127.0.0.1" });
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
  return { gw, secret, dataDir, http, client };
}

async function main() {
  const upstream = await startFixtureUpstream();
  const on = await gateway(upstream.url, true);
  const off = await gateway(upstream.url, false);
  const signal = new AbortController().signal;
  const call = (g) => g.gw.callTool({ name: TOOL, args: ARGS, credential: g.secret, transport: "http", sessionId: "bench", signal });
  const directUrl = `${upstream.url}/v1/items/${encodeURIComponent(ARGS.item_id)}?fields=${ARGS.fields.join(",")}`;
  const variants = {
    http_direct: async () => {
      const res = await fetch(directUrl);
      return { result: { isError: !res.ok, body: await res.json() } };
    },
    http_without_audit: () => off.client.callTool({ name: TOOL, arguments: ARGS }),
    http_with_audit: () => on.client.callTool({ name: TOOL, arguments: ARGS }),
    chain_bare: () => on.gw.deps.upstream.executeUpstream(tool, ARGS, { signal }),
    chain_without_audit: () => call(off),
    chain_with_audit: () => call(on),
  };
  // Sanity: every variant really reaches the upstream and succeeds.
  for (const [name, fn] of Object.entries(variants)) {
    const r = await fn();
    const result = r.result ?? r;
    if (result.isError) throw new Error(`${name}: call failed: ${JSON.stringify(result).slice(0, 300)}`);
  }
  for (let i = 0; i < WARMUP; i++) for (const fn of Object.values(variants)) await fn();
  upstream.reset();

  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const perRound = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const cpuPerCall = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of shuffle(Object.keys(variants))) {
      const fn = variants[name];
      const batch = [];
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < PER_ROUND; i++) {
        const t0 = performance.now();
        await fn();
        batch.push(performance.now() - t0);
      }
      const cpu = process.cpuUsage(cpu0);
      cpuPerCall[name].push((cpu.user + cpu.system) / PER_ROUND);
      samples[name].push(...batch);
      perRound[name].push(median(batch));
    }
    upstream.reset();
  }
  await on.gw.deps.auditSink.flush();
  const written = (await on.gw.deps.auditSink.query({ tool: TOOL })).length;

  // Part two: the record alone, in a tight loop (CPU per audited call).
  const microDir = mkdtempSync(join(tmpdir(), "cs-bench-audit-micro-"));
  const sink = createAuditFileSink({ dir: microDir });
  let recorder = createAuditRecorder({ sink, metrics: createMetrics() });
  const principal = { tokenId: "tok_bench", subject: "bench", modules: "all", readOnly: false, tier: "default" };
  const result = { content: [{ type: "text", text: JSON.stringify({ id: "abc-123", name: "Widget" }) }], structuredContent: { id: "abc-123", name: "Widget" } };
  const N = 50_000;
  const micro = async () => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      await recorder.finish({
        audit: { ts: new Date().toISOString(), requestId: `r${i}`, transport: "http", sessionId: "s", tool: TOOL, module: tool.module, upstreamStatus: 200, upstreamMs: 0.3 },
        tool, principal, args: ARGS, result, threw: false, durationMs: 0.5,
      });
    }
    const c = process.cpuUsage(c0);
    return { wall: ((performance.now() - t0) / N) * 1000, cpu: (c.user + c.system) / N };
  };
  await micro(); // warm-up
  const microUs = Math.min((await micro()).wall, (await micro()).wall);
  await recorder.close();
  // The record alone, without the sink's serialization and disk appends.
  const nullSink = { write: () => Promise.resolve(), recent: async () => [], query: async () => [], flush: async () => {}, close: async () => {} };
  recorder = createAuditRecorder({ sink: nullSink, metrics: createMetrics() });
  await micro();
  const buildCpuUs = Math.min((await micro()).cpu, (await micro()).cpu);

  const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)]));
  const roundDiff = (a, b) => median(perRound[a].map((x, i) => x - perRound[b][i])) * 1000;
  const r2 = (x) => Math.round(x * 100) / 100;
  const view = (prefix, floor) => {
    const cost = s[`${prefix}_with_audit`].p50_us - s[`${prefix}_without_audit`].p50_us;
    const overhead = s[`${prefix}_with_audit`].p50_us - s[floor].p50_us;
    const cpu = (v) => median(cpuPerCall[v]);
    const cpuCost = cpu(`${prefix}_with_audit`) - cpu(`${prefix}_without_audit`);
    const cpuOverhead = cpu(`${prefix}_with_audit`) - cpu(floor);
    return {
      cpu_us_per_call: { floor: r2(cpu(floor)), without_audit: r2(cpu(`${prefix}_without_audit`)), with_audit: r2(cpu(`${prefix}_with_audit`)) },
      audit_cpu_cost_us: r2(cpuCost),
      gateway_cpu_overhead_us: r2(cpuOverhead),
      audit_cpu_share_of_gateway_overhead: r2(cpuCost / cpuOverhead),
      meets_target_by_cpu: cpuCost / cpuOverhead < 0.1,
      audit_cost_p50_us: r2(cost),
      audit_cost_median_of_round_diffs_us: r2(roundDiff(`${prefix}_with_audit`, `${prefix}_without_audit`)),
      gateway_overhead_p50_us: r2(overhead),
      gateway_overhead_without_audit_p50_us: r2(s[`${prefix}_without_audit`].p50_us - s[floor].p50_us),
      audit_share_of_gateway_overhead: r2(cost / overhead),
      record_cpu_share_of_gateway_overhead: r2(microUs / overhead),
      meets_target_by_wall_p50: cost / overhead < 0.1,
    };
  };
  const out = {
    command: "npx tsc -p tsconfig.build.json && node bench/audit.js",
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadavg_note: "shared 2-core machine; variants interleaved in shuffled rounds",
    tool: TOOL,
    rounds: ROUNDS,
    calls_per_round_per_variant: PER_ROUND,
    loadavg_1m: r2(loadavg()[0]),
    latency: s,
    target: "audit cost < 10% of the gateway's own overhead",
    http: view("http", "http_direct"),
    chain: view("chain", "chain_bare"),
    record_cpu_us: r2(microUs),
    record_cpu_us_note: "recorder.finish + file sink (serialize, append) per record, tight loop",
    record_build_cpu_us: r2(buildCpuUs),
    record_build_cpu_us_note: "recorder.finish alone (redact, cap, classify, summarize, metrics), no sink",
    audit_records_written: written,
  };
  writeFileSync(new URL("./results/audit.json", import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));

  for (const g of [on, off]) {
    await g.client.close();
    await g.http.close();
    await g.gw.close();
  }
  await upstream.close();
  for (const d of [on.dataDir, off.dataDir, microDir]) rmSync(d, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
