/**
 * What one rate-limit consume costs, one call at a time: the in-memory limiter (rateLimits.shared
 * false); the embedded limits of a process alone on its data dir (counted in memory); and the same
 * with a second limiter open on the data dir, so both count in the shared files (one slot file per
 * call).
 *
 *   npx tsc -p tsconfig.build.json && node bench/rate-limit-cost.js [--calls 5000] [--rounds 5]
 *
 * Each round times `--calls` consumes of each limiter (interleaved rounds, a fresh token per
 * round so no call is limited; the first 100 of a round are warm-up and not counted). Prints the
 * median per consume over all timed calls, and writes bench/results/rate-limit-cost.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { median, percentile, round } from "./lib/stats.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opts } = parseArgs({
  options: {
    calls: { type: "string", default: "5000" },
    rounds: { type: "string", default: "5" },
    out: { type: "string", default: join(ROOT, "bench/results/rate-limit-cost.json") },
  },
});
const calls = Number(opts.calls);
const rounds = Number(opts.rounds);
const { createRateLimits } = await import(pathToFileURL(join(ROOT, "dist/src/stores/rate-limits.js")).href);

const tiers = { default: { normal: 10_000_000, sensitive: 100 } };
const aloneDir = mkdtempSync(join(tmpdir(), "cs-rl-cost-"));
const sharedDir = mkdtempSync(join(tmpdir(), "cs-rl-cost-"));
// Another process on the data dir, as far as the counts can tell: it is open and takes nothing.
const companion = createRateLimits({ tiers }, { dataDir: sharedDir });
const limiters = {
  memory: createRateLimits({ tiers }),
  data_dir_alone: createRateLimits({ tiers }, { dataDir: aloneDir }),
  data_dir_files: createRateLimits({ tiers }, { dataDir: sharedDir }),
};
const samples = { memory: [], data_dir_alone: [], data_dir_files: [] };

for (let r = 0; r < rounds; r++) {
  for (const [name, limits] of Object.entries(limiters)) {
    const token = `tok_round${r}`;
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      const res = await limits.consume("normal", token, "default");
      const ms = performance.now() - t;
      if (res.kind !== "allowed") throw new Error(`${name}: call ${i} was ${res.kind}`);
      if (i >= 100) samples[name].push(ms);
    }
  }
}
await Promise.all([...Object.values(limiters), companion].map((limits) => limits.close?.()));
for (const d of [aloneDir, sharedDir]) rmSync(d, { recursive: true, force: true });

const summary = Object.fromEntries(
  Object.entries(samples).map(([name, s]) => {
    const sorted = [...s].sort((a, b) => a - b);
    return [name, { n: s.length, median_us: round(median(s) * 1000, 1), p90_us: round(percentile(sorted, 90) * 1000, 1), p99_us: round(percentile(sorted, 99) * 1000, 1) }];
  }),
);
const result = {
  date: new Date().toISOString(),
  command: `node bench/rate-limit-cost.js --calls ${calls} --rounds ${rounds}`,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg_end: loadavg().map((x) => round(x, 1)) },
  per_consume: summary,
  extra_median_us: round(summary.data_dir_files.median_us - summary.memory.median_us, 1),
  alone_extra_median_us: round(summary.data_dir_alone.median_us - summary.memory.median_us, 1),
};
writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
