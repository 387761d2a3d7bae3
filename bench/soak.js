/**
 * Soak: Countersign (stateful Streamable HTTP) under a fixed rate of mixed reads and confirmed
 * writes for a long stretch; memory and latency sampled every 10 s, drawn to an SVG chart.
 * Memory must stay flat: the report gives the RSS slope (least squares, MB per minute) after the
 * first minute of warm-up.
 *
 *   make bench-soak                          (= node bench/soak.js: 10 minutes)
 *   node bench/soak.js --minutes 2 --rate 10
 *
 * Per second, `rate` operations spread over `sessions` client sessions (open loop: an operation
 * starts on schedule whether or not earlier ones finished). 80% are reads (get_project,
 * list_projects); 20% are writes (update_project, delete_project): the call answers
 * pending_confirmation and the harness confirms it with confirm_action and the returned
 * confirm_token, so each write is two calls and one upstream request.
 *
 * Writes bench/results/soak.json and bench/results/soak.svg.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { CONTENDERS, prepareCountersign, ROOT } from "./lib/contenders.js";
import { memoryBreakdown, rssMb, sleep, spawnServer } from "./lib/procs.js";
import { round, slope, summarize } from "./lib/stats.js";
import { svgDocument } from "./lib/svg-chart.js";

const { values: opts } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    rate: { type: "string", default: "20" },
    sessions: { type: "string", default: "4" },
    "sample-seconds": { type: "string", default: "10" },
    out: { type: "string", default: join(ROOT, "bench/results") },
    env: { type: "string", multiple: true, default: [] },
  },
});
const MINUTES = Number(opts.minutes);
const RATE = Number(opts.rate);
const SESSIONS = Number(opts.sessions);
const SAMPLE_S = Number(opts["sample-seconds"]);
if (!(MINUTES > 0) || !(RATE > 0) || !(SESSIONS >= 1) || !(SAMPLE_S > 0)) {
  process.stderr.write("bench/soak.js: --minutes, --rate, --sessions and --sample-seconds must be positive numbers\n");
  process.exit(2);
}
const EXTRA_ENV = {};
for (const kv of opts.env) {
  const eq = kv.indexOf("=");
  if (eq < 1) {
    process.stderr.write(`bench/soak.js: --env takes KEY=VALUE, got '${kv}'\n`);
    process.exit(2);
  }
  EXTRA_ENV[kv.slice(0, eq)] = kv.slice(eq + 1);
}
const log = (msg) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const PROJECT = "6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10";
let seq = 0;
const OPS = [
  { kind: "read", weight: 50, name: "get_project", args: () => ({ project_id: PROJECT }) },
  { kind: "read", weight: 30, name: "list_projects", args: () => ({}) },
  { kind: "write", weight: 15, name: "update_project", args: () => ({ project_id: PROJECT, body: { name: `Soak ${++seq}` } }) },
  { kind: "write", weight: 5, name: "delete_project", args: () => ({ project_id: PROJECT }) },
];
const TOTAL_WEIGHT = OPS.reduce((a, o) => a + o.weight, 0);
function pickOp() {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const op of OPS) if ((r -= op.weight) < 0) return op;
  return OPS[0];
}

async function runOp(client, op) {
  const t0 = performance.now();
  const r = await client.callTool({ name: op.name, arguments: op.args() });
  if (r.isError) throw new Error(`${op.name}: ${JSON.stringify(r.content).slice(0, 200)}`);
  if (op.kind === "write") {
    const pending = r.structuredContent;
    if (pending?.status !== "pending_confirmation" || !pending.confirm_token) throw new Error(`${op.name}: expected a pending action, got ${JSON.stringify(r.structuredContent ?? r.content).slice(0, 200)}`);
    const c = await client.callTool({ name: "confirm_action", arguments: { confirm_token: pending.confirm_token } });
    if (c.isError || c.structuredContent?.status !== "executed") throw new Error(`confirm_action: ${JSON.stringify(c.structuredContent ?? c.content).slice(0, 200)}`);
  }
  return performance.now() - t0;
}

/**
 * V8's view of the gateway's memory, in MB, from its own /metrics (prom-client's process metrics):
 * heap committed and used, external memory (Buffers and the like), and each heap space committed.
 */
async function v8Memory(origin) {
  try {
    const text = await (await fetch(`${origin}/metrics`)).text();
    const value = (re) => {
      const m = re.exec(text);
      return m ? Math.round((Number(m[1]) / 1048576) * 10) / 10 : undefined;
    };
    const spaces = {};
    for (const m of text.matchAll(/^countersign_nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\S+)$/gm)) spaces[m[1]] = Math.round((Number(m[2]) / 1048576) * 10) / 10;
    return {
      heap_total_mb: value(/^countersign_nodejs_heap_size_total_bytes (\S+)$/m),
      heap_used_mb: value(/^countersign_nodejs_heap_size_used_bytes (\S+)$/m),
      external_mb: value(/^countersign_nodejs_external_memory_bytes (\S+)$/m),
      heap_spaces_total_mb: spaces,
    };
  } catch {
    return {};
  }
}

/** Median RSS, V8 heap committed and malloc per tenth of the run (at least a minute each). */
function windows(samples) {
  const span = Math.max(60, Math.ceil((MINUTES * 60) / 10 / 60) * 60);
  const med = (xs) => {
    const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
    return v.length ? v[Math.floor(v.length / 2)] : undefined;
  };
  const out = [];
  for (let from = 0; from < MINUTES * 60; from += span) {
    const w = samples.filter((s) => s.t_s > from && s.t_s <= from + span);
    if (w.length === 0) continue;
    out.push({
      minutes: `${from / 60}-${Math.min(MINUTES, (from + span) / 60)}`,
      rss_mb: med(w.map((s) => s.rss_mb)),
      rss_max_mb: Math.max(...w.map((s) => s.rss_mb)),
      heap_total_mb: med(w.map((s) => s.memory?.heap_total_mb)),
      malloc_mb: med(w.map((s) => (s.memory?.malloc_brk_mb ?? NaN) + (s.memory?.malloc_arenas_mb ?? NaN))),
    });
  }
  return out;
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "cs-bench-soak-"));
  const upstreamProc = spawnServer(process.execPath, [join(ROOT, "bench/lib/upstream-server.js")]);
  let upstreamUrl;
  for (let i = 0; i < 500 && !upstreamUrl; i++) {
    const m = /listening (\d+)/.exec(upstreamProc.output());
    if (m) upstreamUrl = `http://127.0.0.1:${m[1]}`;
    else await sleep(20);
  }
  const spec = { name: "workspace", path: join(ROOT, "openapi/workspace.yaml"), basePath: "/v1", upstreamUrl, read: {} };
  log("generating the bundled spec's tools and minting a token …");
  const prep = { countersign: { ...(await prepareCountersign(spec, work)), extraEnv: EXTRA_ENV } };
  const inst = await CONTENDERS.find((c) => c.id === "countersign-http").start(spec, prep);
  log(`gateway pid ${inst.pid} up in ${round(inst.cold_start_ms, 0)} ms; ${MINUTES} min at ${RATE} ops/s over ${SESSIONS} sessions`);
  const sessions = [inst.primary];
  for (let i = 1; i < SESSIONS; i++) sessions.push(await inst.newSession());

  const samples = [];
  let window = { read: [], write: [], errors: 0, firstError: undefined };
  const totals = { read: 0, write: 0, errors: 0 };
  const inflight = new Set();
  const start = performance.now();
  const end = start + MINUTES * 60_000;
  const sample = async () => {
    const t = (performance.now() - start) / 1000;
    const done = window;
    window = { read: [], write: [], errors: 0, firstError: undefined };
    const memory = { ...memoryBreakdown(inst.pid), ...(await v8Memory(inst.origin)) };
    const r = summarize(done.read);
    const w = summarize(done.write);
    samples.push({
      t_s: round(t, 1),
      rss_mb: memory.rss_mb ?? rssMb(inst.pid),
      memory,
      reads: done.read.length,
      writes: done.write.length,
      errors: done.errors,
      read_p50_ms: r.p50_ms,
      read_p99_ms: r.p99_ms,
      write_p50_ms: w.p50_ms,
      write_p99_ms: w.p99_ms,
      inflight: inflight.size,
      ...(done.firstError ? { first_error: done.firstError } : {}),
    });
    const s = samples.at(-1);
    log(`t=${s.t_s}s rss=${s.rss_mb} MB (v8 heap ${memory.heap_total_mb}, external ${memory.external_mb}, malloc ${memory.malloc_brk_mb}+${memory.malloc_arenas_mb} in ${memory.malloc_arena_count} arenas) reads=${s.reads} (p50 ${s.read_p50_ms} ms) writes=${s.writes} (p50 ${s.write_p50_ms} ms) errors=${s.errors}${s.first_error ? ` (first: ${s.first_error.slice(0, 160)})` : ""}`);
  };
  samples.push({ t_s: 0, rss_mb: rssMb(inst.pid), memory: { ...memoryBreakdown(inst.pid), ...(await v8Memory(inst.origin)) }, reads: 0, writes: 0, errors: 0 });
  const sampler = setInterval(() => void sample(), SAMPLE_S * 1000);
  const interval = 1000 / RATE;
  let next = start;
  let i = 0;
  while (next < end) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    const op = pickOp();
    const client = sessions[i++ % sessions.length].client;
    const p = runOp(client, op)
      .then((ms) => {
        window[op.kind].push(ms);
        totals[op.kind]++;
      })
      .catch((err) => {
        window.errors++;
        totals.errors++;
        window.firstError ??= err.message.slice(0, 300);
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
    next += interval;
  }
  await Promise.all(inflight);
  clearInterval(sampler);
  await sample();

  for (const s of sessions.slice(1)) await s.close();
  await inst.stop();
  await upstreamProc.stop();
  rmSync(work, { recursive: true, force: true });

  // Slope after the first minute (start-up allocation and JIT settle there), and over the whole run.
  const settled = samples.filter((s) => s.t_s >= Math.min(60, (MINUTES * 60) / 4));
  const perMin = (rows) => round(slope(rows.map((s) => s.t_s / 60), rows.map((s) => s.rss_mb)), 3);
  const result = {
    date: new Date().toISOString(),
    command: `node bench/soak.js --minutes ${MINUTES} --rate ${RATE} --sessions ${SESSIONS}${opts.env.map((kv) => ` --env ${kv}`).join("")}`,
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg_end: loadavg().map((x) => round(x, 2)) },
    params: { minutes: MINUTES, rate_ops_per_s: RATE, sessions: SESSIONS, sample_seconds: SAMPLE_S, mix: OPS.map((o) => ({ tool: o.name, kind: o.kind, share: o.weight / TOTAL_WEIGHT })) },
    totals,
    rss_mb: { start: samples[0].rss_mb, end: samples.at(-1).rss_mb, max: Math.max(...samples.map((s) => s.rss_mb)) },
    rss_slope_mb_per_min_after_warmup: perMin(settled),
    // Medians per stretch of the run: a slope alone hides whether memory levels off.
    medians_by_window: windows(samples),
    rss_slope_mb_per_min_whole_run: perMin(samples),
    samples,
  };
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, "soak.json"), JSON.stringify(result, null, 2) + "\n");
  const mins = (s) => s.t_s / 60;
  const svg = svgDocument({
    width: 900,
    panelHeight: 300,
    title: `Countersign soak: ${MINUTES} min at ${RATE} ops/s (80% reads, 20% confirmed writes), ${SESSIONS} sessions`,
    subtitle: `${result.date} · RSS ${result.rss_mb.start} → ${result.rss_mb.end} MB (max ${result.rss_mb.max}); slope after warm-up ${result.rss_slope_mb_per_min_after_warmup} MB/min · ${totals.read} reads, ${totals.write} writes, ${totals.errors} errors`,
    panels: [
      {
        title: "Memory of the gateway: resident (VmRSS), V8 heap (committed, used), malloc (brk + thread arenas)",
        xLabel: "minutes",
        yLabel: "MB",
        xMax: MINUTES,
        series: [
          { name: "RSS", color: "#1f77b4", points: samples.map((s) => [mins(s), s.rss_mb]) },
          { name: "V8 heap committed", color: "#9467bd", points: samples.map((s) => [mins(s), s.memory?.heap_total_mb]) },
          { name: "V8 heap used", color: "#9467bd", dashed: true, points: samples.map((s) => [mins(s), s.memory?.heap_used_mb]) },
          { name: "malloc", color: "#8c564b", points: samples.map((s) => [mins(s), (s.memory?.malloc_brk_mb ?? NaN) + (s.memory?.malloc_arenas_mb ?? NaN)]) },
        ],
      },
      {
        title: `Latency per ${SAMPLE_S} s window (write = call + confirm_action)`,
        xLabel: "minutes",
        yLabel: "ms",
        xMax: MINUTES,
        series: [
          { name: "read p50", color: "#2ca02c", points: samples.slice(1).map((s) => [mins(s), s.read_p50_ms]) },
          { name: "read p99", color: "#2ca02c", dashed: true, points: samples.slice(1).map((s) => [mins(s), s.read_p99_ms]) },
          { name: "write p50", color: "#d62728", points: samples.slice(1).map((s) => [mins(s), s.write_p50_ms]) },
          { name: "write p99", color: "#d62728", dashed: true, points: samples.slice(1).map((s) => [mins(s), s.write_p99_ms]) },
        ],
      },
    ],
  });
  writeFileSync(join(opts.out, "soak.svg"), svg);
  log(`done: ${totals.read} reads, ${totals.write} writes, ${totals.errors} errors; RSS ${result.rss_mb.start} → ${result.rss_mb.end} MB, slope after warm-up ${result.rss_slope_mb_per_min_after_warmup} MB/min → soak.json, soak.svg`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench/soak.js: ${err.stack ?? err}\n`);
  process.exit(1);
});
