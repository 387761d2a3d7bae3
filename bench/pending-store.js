/**
 * The embedded pending-action store with an hour of writes on disk: what a fold of the journal
 * and a lookup that misses memory cost, for one or more builds side by side.
 *
 *   npx tsc -p tsconfig.build.json && node bench/pending-store.js
 *   node bench/pending-store.js --build new=dist --build old=/path/to/other/checkout/dist --actions 14400
 *
 * Each build runs in its own process (`--expose-gc`), rounds interleaved. A round: a data dir whose
 * snapshot holds `--actions` settled actions (default 14,400: one hour at 4 writes/s, the soak's
 * rate), each like the soak's confirmed `update_project` (~850 bytes); written in the version 1
 * format, which every build reads. Then, in the child process:
 * - start: `createPendingActions` on that dir (reads it, keeps at most 5,000 settled in memory),
 *   after a first start (another process) has converted the snapshot to the build's own format;
 *   time and peak RSS;
 * - lookup: `get` of 10 unknown action ids (each re-reads the files), median;
 * - fold: 2,000 more actions created and confirmed, so the journal is folded into the snapshot
 *   (at least once); the process's peak RSS (VmHWM, reset before) and the heap committed after,
 *   against before.
 * Writes bench/results/pending-store.json.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { median, round } from "./lib/stats.js";

/** The store's module in a build: a folder since the store was split, one file before. */
function storeModule(dist) {
  const split = join(dist, "src/stores/pending-actions/index.js");
  return pathToFileURL(existsSync(split) ? split : join(dist, "src/stores/pending-actions.js")).href;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

if (process.argv[2] === "--child") {
  await child(process.argv[3], process.argv[4]);
  process.exit(0);
}
if (process.argv[2] === "--convert") {
  // A first start converts the snapshot to the build's own format (a build that reads version 1
  // natively keeps it), in a process of its own so what it leaves behind is not measured.
  const { createPendingActions } = await import(storeModule(process.argv[3]));
  await createPendingActions({ dataDir: process.argv[4], sweepIntervalMs: 0 }).close();
  process.exit(0);
}

const { values: opts } = parseArgs({
  options: {
    build: { type: "string", multiple: true, default: ["countersign=dist"] },
    actions: { type: "string", default: "14400" },
    rounds: { type: "string", default: "3" },
    out: { type: "string", default: join(ROOT, "bench/results") },
  },
});
const N = Number(opts.actions);
const ROUNDS = Number(opts.rounds);
if (!(N > 0) || !(ROUNDS > 0)) {
  process.stderr.write("bench/pending-store.js: --actions and --rounds must be positive numbers\n");
  process.exit(2);
}
const builds = opts.build.map((b) => {
  const eq = b.indexOf("=");
  if (eq < 1) {
    process.stderr.write(`bench/pending-store.js: --build takes NAME=DIST_DIR, got '${b}'\n`);
    process.exit(2);
  }
  const dist = b.slice(eq + 1);
  return { name: b.slice(0, eq), dist: isAbsolute(dist) ? dist : join(ROOT, dist) };
});

/** A snapshot of `n` settled actions like the soak's, in the version 1 format every build reads. */
function writeSnapshot(dir, n) {
  const now = Date.now();
  const body = JSON.stringify({ id: "6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10", name: "bench", full_name: "bench/bench", status: "active", created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" });
  const actions = [];
  for (let i = 0; i < n; i++) {
    const at = now - 3_000_000 + Math.floor((i * 3_000_000) / n);
    actions.push({
      id: `act_${String(i).padStart(20, "0")}`,
      tokenId: "tok_bench",
      tool: "update_project",
      args: {},
      tokenHash: "0".repeat(64),
      createdAt: at,
      expiresAt: at + 600_000,
      preview: { summary: `Update a project (project_id="6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10") with name="Soak ${i}".`, tool: "update_project", method: "PATCH", url: "http://127.0.0.1:8080/v1/projects/6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10", warnings: [] },
      state: "done",
      outcome: { status: "executed", result: { content: [{ type: "text", text: body }], structuredContent: JSON.parse(body) } },
      settledAt: at + 20,
    });
  }
  const text = JSON.stringify({ version: 1, actions });
  writeFileSync(join(dir, "pending-actions.json"), text, { mode: 0o600 });
  return text.length;
}

/** Resets this process's peak RSS (VmHWM) to its current RSS (Linux: 5 to /proc/self/clear_refs). */
function resetPeak() {
  writeFileSync("/proc/self/clear_refs", "5");
}

async function child(dist, dataDir) {
  const { createPendingActions } = await import(storeModule(dist));
  const { mintConfirmation } = await import(pathToFileURL(join(dist, "src/confirm/tokens.js")).href);
  const mb = (b) => Math.round((b / 1048576) * 10) / 10;
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(readFileSync("/proc/self/status", "utf8"))[1]);
  globalThis.gc();
  resetPeak();
  let t = performance.now();
  const store = createPendingActions({ dataDir, sweepIntervalMs: 0 });
  const start_ms = performance.now() - t;
  const start_peak_rss_mb = mb(kb("VmHWM") * 1024);
  const lookups = [];
  for (let i = 0; i < 10; i++) {
    t = performance.now();
    if ((await store.get(`act_unknown${String(i).padStart(13, "0")}`)) !== undefined) throw new Error("an unknown id was found");
    lookups.push(performance.now() - t);
  }
  lookups.sort((a, b) => a - b);
  globalThis.gc();
  const before = { rss_mb: mb(kb("VmRSS") * 1024), heap_total_mb: mb(process.memoryUsage().heapTotal) };
  resetPeak();
  t = performance.now();
  for (let i = 0; i < 2000; i++) {
    const m = mintConfirmation();
    const now = Date.now();
    await store.create({ id: m.actionId, tokenId: "tok_bench", tool: "update_project", args: { project_id: "6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10", body: { name: `Fold ${i}` } }, tokenHash: m.tokenHash, createdAt: now, expiresAt: now + 600_000, preview: { summary: `Update a project with name="Fold ${i}".`, tool: "update_project", method: "PATCH", url: "http://127.0.0.1:8080/v1/projects/6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10", warnings: [] } });
    await store.claim(m.actionId, "tok_bench");
    await store.complete(m.actionId, { status: "executed", result: { content: [{ type: "text", text: "{}" }] } });
  }
  const fold_ms = performance.now() - t;
  await store.close();
  const after = { rss_mb: mb(kb("VmRSS") * 1024), heap_total_mb: mb(process.memoryUsage().heapTotal) };
  process.stdout.write(JSON.stringify({
    start_ms,
    start_peak_rss_mb,
    lookup_miss_p50_ms: lookups[5],
    fold: { ms_for_2000_actions: fold_ms, peak_rss_mb: mb(kb("VmHWM") * 1024), before, after },
  }));
}

const work = mkdtempSync(join(tmpdir(), "cs-bench-pending-"));
const results = Object.fromEntries(builds.map((b) => [b.name, []]));
let snapshotBytes = 0;
for (let r = 0; r < ROUNDS; r++) {
  for (const b of r % 2 ? [...builds].reverse() : builds) {
    const dataDir = join(work, `${b.name}-${r}`);
    mkdirSync(dataDir, { recursive: true });
    snapshotBytes = writeSnapshot(dataDir, N);
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--convert", b.dist, dataDir]);
    const out = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--child", b.dist, dataDir], { encoding: "utf8", maxBuffer: 1 << 20 });
    results[b.name].push(JSON.parse(out));
    rmSync(dataDir, { recursive: true, force: true });
    process.stderr.write(`[pending-store] round ${r + 1} ${b.name}: ${out}\n`);
  }
}
rmSync(work, { recursive: true, force: true });

const round1 = (x) => round(x, 1);
const summary = Object.fromEntries(
  Object.entries(results).map(([name, rows]) => [
    name,
    {
      start_ms: round1(median(rows.map((x) => x.start_ms))),
      start_peak_rss_mb: median(rows.map((x) => x.start_peak_rss_mb)),
      lookup_miss_p50_ms: round1(median(rows.map((x) => x.lookup_miss_p50_ms))),
      fold_peak_rss_mb: median(rows.map((x) => x.fold.peak_rss_mb)),
      rss_after_fold_mb: median(rows.map((x) => x.fold.after.rss_mb)),
      heap_total_before_fold_mb: median(rows.map((x) => x.fold.before.heap_total_mb)),
      heap_total_after_fold_mb: median(rows.map((x) => x.fold.after.heap_total_mb)),
      ms_for_2000_confirmed_actions: round1(median(rows.map((x) => x.fold.ms_for_2000_actions))),
    },
  ]),
);
const result = {
  date: new Date().toISOString(),
  // A build outside this checkout is named by its name only: no machine's paths in the results.
  command: `node bench/pending-store.js ${builds.map((b) => `--build ${b.name}=${b.dist.startsWith(ROOT) ? b.dist.slice(ROOT.length + 1) : "OTHER_CHECKOUT/dist"}`).join(" ")} --actions ${N} --rounds ${ROUNDS}`,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg_end: loadavg().map((x) => round1(x)) },
  snapshot: { actions: N, bytes: snapshotBytes },
  summary,
  rounds: results,
};
mkdirSync(opts.out, { recursive: true });
writeFileSync(join(opts.out, "pending-store.json"), JSON.stringify(result, null, 2) + "\n");
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
