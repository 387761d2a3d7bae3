/**
 * search_tools latency: the search-quality requests (test/surface/search-requests.json, 125
 * natural-language queries) run against the index of GitHub's tools and of the bundled spec's,
 * after a warm-up. Per query: wall time (performance.now()) and CPU time of this process
 * (process.cpuUsage, user + system, GC included). On a shared machine wall time mostly measures
 * the wait for a core, so both are reported with the load average at the time. Also the one-off
 * index build.
 *
 *   npx tsc -p tsconfig.build.json && node bench/search.js
 *
 * Writes bench/results/search.json.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { build, createToolSearch, ROOT } from "./surface-lib.js";

const ROUNDS = 30;
const data = JSON.parse(readFileSync(join(ROOT, "test/surface/search-requests.json"), "utf8"));
const queries = [...data.requests, ...data.heldOut].map(([q]) => q);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const ms = (x) => Math.round(x * 1000) / 1000;

const results = { node: process.version, loadAverage1m: Math.round(loadavg()[0] * 10) / 10, queries: queries.length, rounds: ROUNDS, limit: 10, apis: {} };
for (const api of ["github", "workspace"]) {
  const { build: b } = await build(api);
  const t0 = performance.now();
  const index = createToolSearch(b.tools);
  const buildMs = performance.now() - t0;
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
  results.apis[api] = {
    tools: b.tools.length,
    indexBuildMs: ms(buildMs),
    samples: times.length,
    cpu: { p50Ms: ms(percentile(cpu, 50)), p90Ms: ms(percentile(cpu, 90)), p99Ms: ms(percentile(cpu, 99)), maxMs: ms(cpu[cpu.length - 1]) },
    wall: { p50Ms: ms(percentile(times, 50)), p90Ms: ms(percentile(times, 90)), p99Ms: ms(percentile(times, 99)), maxMs: ms(times[times.length - 1]) },
  };
  const r = results.apis[api];
  console.log(`${api}: ${r.tools} tools, index built in ${r.indexBuildMs} ms; over ${r.samples} queries: CPU p50 ${r.cpu.p50Ms} / p90 ${r.cpu.p90Ms} / p99 ${r.cpu.p99Ms} ms; wall p50 ${r.wall.p50Ms} / p90 ${r.wall.p90Ms} / p99 ${r.wall.p99Ms} ms (load average ${results.loadAverage1m})`);
}
writeFileSync(join(ROOT, "bench/results/search.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log("wrote bench/results/search.json");
