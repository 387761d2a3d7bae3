/**
 * search_tools, quality and speed, on three real APIs: the bundled spec, GitHub's (1,185 tools)
 * and Stripe's (every operation). Each has its evaluation set of plain-language requests with
 * the tool(s) that fulfil them (test/surface/search-requests.json for the bundled spec,
 * search-eval-github.json, search-eval-stripe.json). Quality: recall@1, recall@5 and MRR (the
 * mean of 1/rank of the first right tool in the top 10, 0 when none is). Speed: per query, wall
 * time (performance.now()) and CPU time (process.cpuUsage, GC included) over ROUNDS rounds after
 * a warm-up; on a shared machine wall time mostly measures the wait for a core, so both are
 * reported with the load average. Also the one-off index build.
 *
 *   make build && node bench/search.js [--as before|after]
 *
 * Writes bench/results/search.json, keeping the other label's figures beside these (`before`:
 * the search as it was before the evaluation sets were written; `after`: this build's).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { build, createToolSearch, ROOT } from "./surface-lib.js";

const ROUNDS = 20;
const label = process.argv.includes("--as") ? process.argv[process.argv.indexOf("--as") + 1] : "after";
if (label !== "before" && label !== "after") throw new Error("--as takes before or after");

const read = (p) => JSON.parse(readFileSync(join(ROOT, p), "utf8"));
const workspaceSet = read("test/surface/search-requests.json");
const SETS = {
  workspace: [...workspaceSet.requests, ...workspaceSet.heldOut],
  github: read("test/surface/search-eval-github.json").requests,
  stripe: read("test/surface/search-eval-stripe.json").requests,
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const ms = (x) => Math.round(x * 1000) / 1000;
const pct = (x) => Math.round(x * 1000) / 10;

const file = join(ROOT, "bench/results/search.json");
const previous = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
const results = { ...(previous.before || previous.after ? previous : {}) };
const run = { node: process.version, loadAverage1m: Math.round(loadavg()[0] * 10) / 10, rounds: ROUNDS, limit: 10, apis: {} };

for (const [api, requests] of Object.entries(SETS)) {
  const { build: b } = await build(api);
  const t0 = performance.now();
  const index = createToolSearch(b.tools, b.modules);
  const buildMs = performance.now() - t0;
  const names = new Set(b.tools.map((t) => t.name));
  let top1 = 0;
  let top5 = 0;
  let rr = 0;
  const misses = [];
  for (const [query, expected] of requests) {
    const wanted = typeof expected === "string" ? [expected] : expected;
    for (const w of wanted) if (!names.has(w)) throw new Error(`${api}: "${query}" expects ${w}, which is not a tool`);
    const got = index.search(query, { limit: 10 }).map((h) => h.name);
    const rank = got.findIndex((n) => wanted.includes(n));
    if (rank === 0) top1++;
    if (rank >= 0 && rank < 5) top5++;
    else misses.push(`${query} → ${wanted.join(" | ")} (got ${got.slice(0, 3).join(", ")})`);
    if (rank >= 0) rr += 1 / (rank + 1);
  }
  const queries = requests.map(([q]) => q);
  for (const q of queries) index.search(q); // warm-up
  const times = [];
  const cpu = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const q of queries) {
      const c = process.cpuUsage();
      const s = performance.now();
      index.search(q, { limit: 10 });
      times.push(performance.now() - s);
      const d = process.cpuUsage(c);
      cpu.push((d.user + d.system) / 1000);
    }
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const n = requests.length;
  run.apis[api] = {
    tools: b.tools.length,
    requests: n,
    recallAt1: pct(top1 / n),
    recallAt5: pct(top5 / n),
    mrr: Math.round((rr / n) * 1000) / 1000,
    missesAt5: misses,
    indexBuildMs: ms(buildMs),
    samples: times.length,
    cpu: { p50Ms: ms(percentile(cpu, 50)), p90Ms: ms(percentile(cpu, 90)), p99Ms: ms(percentile(cpu, 99)) },
    wall: { p50Ms: ms(percentile(times, 50)), p90Ms: ms(percentile(times, 90)), p99Ms: ms(percentile(times, 99)) },
  };
  const r = run.apis[api];
  console.log(`${api} (${label}): ${r.tools} tools, ${n} requests: recall@1 ${r.recallAt1}%, recall@5 ${r.recallAt5}%, MRR ${r.mrr}; index ${r.indexBuildMs} ms; CPU p50 ${r.cpu.p50Ms} / p99 ${r.cpu.p99Ms} ms, wall p50 ${r.wall.p50Ms} / p99 ${r.wall.p99Ms} ms`);
  for (const m of misses) console.log(`  miss: ${m}`);
}
results[label] = run;
writeFileSync(file, `${JSON.stringify({ before: results.before, after: results.after }, null, 2)}\n`);
console.log(`wrote bench/results/search.json (${label})`);
