/**
 * This build against a base build over several `make bench` runs made with COUNTERSIGN_BENCH_BASE:
 * per transport, the median over the runs of each figure (sequential p50, server CPU per call,
 * calls/s at 1, 8 and 32 sessions), the base's beside it and their ratio.
 *
 *   node bench/lib/side-by-side.js RUN_DIR_OR_PEERS_JSON... [--spec workspace] [--json OUT.json]
 *
 * Prints Markdown; with --json also writes the per-run figures and the medians.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { median, round } from "./stats.js";

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { spec: { type: "string", default: "workspace" }, json: { type: "string" } },
});
if (positionals.length === 0) {
  process.stderr.write("usage: node bench/lib/side-by-side.js RUN_DIR_OR_PEERS_JSON... [--spec workspace] [--json OUT.json]\n");
  process.exit(2);
}

const FIGURES = [
  ["p50 (ms)", (c) => c.latency?.p50_ms, "lower"],
  ["server CPU per call (ms)", (c) => c.latency?.server_cpu_ms_per_call, "lower"],
  ["calls/s @1", (c) => c.throughput?.[1]?.calls_per_s, "higher"],
  ["calls/s @8", (c) => c.throughput?.[8]?.calls_per_s, "higher"],
  ["calls/s @32", (c) => c.throughput?.[32]?.calls_per_s, "higher"],
];

const runs = positionals.map((p) => {
  const file = statSync(p).isDirectory() ? join(p, "peers.json") : p;
  const r = JSON.parse(readFileSync(file, "utf8"));
  const spec = r.specs[opts.spec];
  if (!spec) throw new Error(`${file} has no ${opts.spec} spec`);
  return { date: r.date, command: r.command, loadavg: [r.machine.loadavg_start, r.machine.loadavg_end], contenders: spec.contenders };
});

// Every pair of this build and the base that some run measured (a run may measure a few of them).
const ids = [...new Set(runs.flatMap((r) => Object.keys(r.contenders).filter((id) => !id.endsWith("-base") && r.contenders[`${id}-base`])))];
const out = ["| transport | figure | this build | base | this / base | runs (this; base) |", "|---|---|---:|---:|---:|---|"];
const medians = {};
for (const id of ids) {
  for (const [name, get] of FIGURES) {
    const mine = runs.map((r) => get(r.contenders[id] ?? {})).filter((x) => typeof x === "number");
    const base = runs.map((r) => get(r.contenders[`${id}-base`] ?? {})).filter((x) => typeof x === "number");
    if (mine.length === 0 || base.length === 0) continue;
    const [m, b] = [median(mine), median(base)];
    (medians[id] ??= {})[name] = { this: m, base: b, ratio: round(m / b, 2), runs: mine, base_runs: base };
    out.push(`| ${id.replace(/^countersign-/, "")} | ${name} | ${m} | ${b} | ${round(m / b, 2)} | ${mine.join(", ")}; ${base.join(", ")} |`);
  }
}
process.stdout.write(`${runs.length} runs (${runs.map((r) => r.date.slice(11, 16)).join(", ")} UTC); medians over the runs.\n\n${out.join("\n")}\n`);
if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ spec: opts.spec, runs: runs.map(({ date, command, loadavg }) => ({ date, command, loadavg })), medians }, null, 2)}\n`);
