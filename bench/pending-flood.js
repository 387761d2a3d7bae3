/**
 * A flood of maximum-size previews against the embedded pending-action store: what the quotas
 * leave of the process's memory and the data dir.
 *
 *   npx tsc -p tsconfig.build.json && node --expose-gc bench/pending-flood.js [--previews 10000] [--tokens 200]
 *
 * Drives the store directly (no gateway): `--previews` creates (default 10,000), round-robin over
 * `--tokens` tokens (default 200, so the per-token cap of 100 open actions does not stop them all),
 * each with arguments of the largest size one action may hold (256 KiB serialized, minus a little).
 * Refusals are counted by kind. Then the security finding's case: 40 previews of one token with a
 * 3.9 MB string argument. Prints (and writes to bench/results/pending-flood.json) the process's RSS
 * before, at peak and at the end, and the journal and snapshot sizes; beside them, the same loop
 * in a process of its own that builds every preview but never calls the store (`baseline`): what
 * the driver's own garbage costs, so the store's share can be told apart.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opts } = parseArgs({
  options: {
    previews: { type: "string", default: "10000" },
    tokens: { type: "string", default: "200" },
    baseline: { type: "boolean", default: false },
    out: { type: "string", default: join(ROOT, "bench/results/pending-flood.json") },
  },
});
const previews = Number(opts.previews);
const tokens = Number(opts.tokens);

const { createPendingActions, DEFAULT_QUOTAS } = await import(pathToFileURL(join(ROOT, "dist/src/stores/pending-actions/index.js")).href);
const { mintConfirmation } = await import(pathToFileURL(join(ROOT, "dist/src/confirm/tokens.js")).href);

const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
const statusKb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(readFileSync("/proc/self/status", "utf8"))[1]);
const rssMb = () => mb(statusKb("VmRSS") * 1024);
const sizeOf = (file) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};
const gc = () => globalThis.gc?.();

function action(tokenId, args) {
  const m = mintConfirmation();
  const now = Date.now();
  return {
    id: m.actionId,
    tokenId,
    tool: "update_document",
    args,
    tokenHash: m.tokenHash,
    createdAt: now,
    expiresAt: now + 600_000,
    preview: { summary: "Update a document.", tool: "update_document", method: "PUT", url: "http://127.0.0.1:8080/v1/documents/1", warnings: [] },
  };
}

/** Creates and counts the outcome by kind. */
async function attempt(store, a, tally) {
  if (opts.baseline) {
    // What create() would serialize, without the store.
    Buffer.byteLength(JSON.stringify(a.args));
    await new Promise((r) => setImmediate(r));
    return;
  }
  try {
    await store.create(a);
    tally.stored++;
  } catch (err) {
    const kind = err.code === "quota_exceeded" ? err.details.kind : `error:${err.code ?? err.message}`;
    tally.refused[kind] = (tally.refused[kind] ?? 0) + 1;
  }
}

const dataDir = mkdtempSync(join(tmpdir(), "cs-flood-"));
const journal = join(dataDir, "pending-actions.journal");
const snapshot = join(dataDir, "pending-actions.json");
gc();
const rssBefore = rssMb();
writeFileSync("/proc/self/clear_refs", "5"); // resets the peak RSS (VmHWM) to the current RSS
const store = opts.baseline ? undefined : createPendingActions({ dataDir, sweepIntervalMs: 0 });

// Arguments whose serialized form is just under the per-action cap.
const body = "x".repeat(DEFAULT_QUOTAS.maxArgsBytes - 64);
const flood = { stored: 0, refused: {} };
let journalPeak = 0;
const t0 = performance.now();
for (let i = 0; i < previews; i++) {
  // Each preview's arguments are its own string, as when parsed from a request.
  const content = JSON.parse(JSON.stringify(`${body.slice(0, -8)}${String(i).padStart(8, "0")}`));
  await attempt(store, action(`tok_flood${i % tokens}`, { document_id: i, content }), flood);
  if (i % 100 === 0) journalPeak = Math.max(journalPeak, sizeOf(journal));
}
const floodMs = performance.now() - t0;
journalPeak = Math.max(journalPeak, sizeOf(journal));

// The finding's case: one token, 40 previews with a 3.9 MB string.
const huge = "y".repeat(3_900_000);
const finding = { stored: 0, refused: {} };
const journalBeforeFinding = sizeOf(journal) + sizeOf(snapshot);
for (let i = 0; i < 40; i++) await attempt(store, action("tok_finding", { content: JSON.parse(JSON.stringify(huge)) }), finding);
const findingGrowth = sizeOf(journal) + sizeOf(snapshot) - journalBeforeFinding;

const pending = await store?.countPending();
gc();
const rssEnd = rssMb();
const mem = process.memoryUsage();
const rssPeak = mb(statusKb("VmHWM") * 1024);
const journalEnd = sizeOf(journal);
await store?.close();
if (opts.baseline) {
  rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ rss_mb: { before: rssBefore, peak: rssPeak, end: rssEnd } })}\n`);
  process.exit(0);
}
const baseline = JSON.parse(execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--baseline", "--previews", String(previews), "--tokens", String(tokens)], { encoding: "utf8" }));
const result = {
  date: new Date().toISOString(),
  command: `node --expose-gc bench/pending-flood.js --previews ${previews} --tokens ${tokens}`,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg_end: loadavg().map((x) => Math.round(x * 10) / 10) },
  quotas: DEFAULT_QUOTAS,
  flood: {
    previews,
    tokens,
    args_bytes_each: Buffer.byteLength(JSON.stringify({ document_id: 0, content: body })),
    stored: flood.stored,
    refused: flood.refused,
    seconds: Math.round(floodMs / 100) / 10,
  },
  finding_case: { previews: 40, args_bytes_each: 3_900_000 + 14, stored: finding.stored, refused: finding.refused, disk_growth_bytes: findingGrowth },
  open_actions_end: pending,
  rss_mb: { before: rssBefore, peak: rssPeak, end: rssEnd },
  baseline_rss_mb_without_store: baseline.rss_mb,
  heap_mb_end: { used: mb(mem.heapUsed), committed: mb(mem.heapTotal), external: mb(mem.external) },
  disk_mb: { journal_peak: mb(journalPeak), journal_end: mb(journalEnd), snapshot_end: mb(sizeOf(snapshot)) },
};
rmSync(dataDir, { recursive: true, force: true });
writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
