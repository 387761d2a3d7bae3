/**
 * Memory with GitHub's spec (1,192 tools, mode all): resident memory (VmRSS) once loaded and after
 * N read calls (`repos_get`), over stdio and stateful Streamable HTTP, with the sequential p50
 * and the calls/s under load beside it so a memory setting shows its cost. Several variants run
 * side by side in one run: every process is up at once, latency rounds interleave them in shuffled
 * order, then the rest of the calls go in chunks of 500, processes again interleaved (stdio: 8 in
 * flight on its one connection; HTTP: `--sessions` sessions, one call in flight each, as
 * `make bench`'s memory phase does); calls/s is the median over a process's chunks.
 *
 *   node bench/memory.js [--calls 10000] [--transports stdio,http] [--rounds 8]
 *                        [--variant NAME]... [--env NAME:KEY=VALUE]... [--node-arg NAME:--flag]...
 *                        [--work DIR] [--out FILE]
 *
 * Without --variant there is one, `current`. `--env` sets a variable for one variant (e.g.
 * `--env capped:COUNTERSIGN_HEAP_MB=64`), `--node-arg` passes a Node flag before bin/countersign.js
 * for one variant. `--work DIR` keeps the generated spec and the token there and reuses them on the
 * next run. Writes bench/results/memory.json (or --out FILE) and a table on stdout.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { prepareCountersign, ROOT } from "./lib/contenders.js";
import { freePort, httpClient, rssMb, sleep, spawnServer, stdioClient, waitForPort } from "./lib/procs.js";
import { median, round } from "./lib/stats.js";

const { values: opts } = parseArgs({
  options: {
    calls: { type: "string", default: "10000" },
    transports: { type: "string", default: "stdio,http" },
    rounds: { type: "string", default: "8" },
    "per-round": { type: "string", default: "100" },
    sessions: { type: "string", default: "8" },
    variant: { type: "string", multiple: true },
    env: { type: "string", multiple: true },
    "node-arg": { type: "string", multiple: true },
    work: { type: "string" },
    out: { type: "string", default: join(ROOT, "bench/results/memory.json") },
  },
});
const CALLS = Number(opts.calls);
const ROUNDS = Number(opts.rounds);
const PER_ROUND = Number(opts["per-round"]);
const SESSIONS = Number(opts.sessions);
const CHUNK = 500;
if (![CALLS, ROUNDS, PER_ROUND, SESSIONS].every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write("bench/memory.js: --calls, --rounds, --per-round and --sessions must be positive integers\n");
  process.exit(2);
}
const TRANSPORTS = opts.transports.split(",").map((t) => t.trim());
for (const t of TRANSPORTS) if (t !== "stdio" && t !== "http") throw new Error(`unknown transport '${t}' (stdio, http)`);
const VARIANTS = (opts.variant ?? ["current"]).map((name) => ({ name, env: {}, nodeArgs: [] }));
const variantNamed = (spec, what) => {
  const colon = spec.indexOf(":");
  const v = colon > 0 && VARIANTS.find((x) => x.name === spec.slice(0, colon));
  if (!v) throw new Error(`${what} wants NAME:…, with NAME one of the --variant names; got '${spec}'`);
  return [v, spec.slice(colon + 1)];
};
for (const e of opts.env ?? []) {
  const [v, kv] = variantNamed(e, "--env");
  const eq = kv.indexOf("=");
  if (eq < 1) throw new Error(`--env wants NAME:KEY=VALUE, got '${e}'`);
  v.env[kv.slice(0, eq)] = kv.slice(eq + 1);
}
for (const a of opts["node-arg"] ?? []) {
  const [v, arg] = variantNamed(a, "--node-arg");
  v.nodeArgs.push(arg);
}

const CLI = join(ROOT, "bin/countersign.js");
const READ = { tool: "repos_get", args: { owner: "octocat", repo: "hello-world" } };
const log = (msg) => process.stderr.write(`[memory ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const shuffle = (a) => {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};

async function call(client) {
  const r = await client.callTool({ name: READ.tool, arguments: READ.args });
  if (r.isError) throw new Error(`tool error: ${JSON.stringify(r.content).slice(0, 300)}`);
}

/** The generated GitHub folder and a token, prepared once per --work dir. */
async function prepare(work) {
  const stamp = join(work, "prep.json");
  if (existsSync(stamp)) return JSON.parse(readFileSync(stamp, "utf8"));
  const path = join(work, "github.json");
  writeFileSync(path, gunzipSync(readFileSync(join(ROOT, "test/fixtures/specs/stress-github-api.github.com.json.gz"))));
  log("generating GitHub's tools …");
  const prep = await prepareCountersign({ name: "github", path }, work);
  writeFileSync(stamp, JSON.stringify(prep));
  return prep;
}

async function startUpstream() {
  const proc = spawnServer(process.execPath, [join(ROOT, "bench/lib/upstream-server.js")]);
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
    const m = /listening (\d+)/.exec(proc.output());
    if (m) return { proc, url: `http://127.0.0.1:${m[1]}` };
  }
  throw new Error(`upstream did not start: ${proc.output()}`);
}

async function start(variant, transport, prep, upstreamUrl, work) {
  const dataDir = mkdtempSync(join(work, "data-"));
  cpSync(prep.dataTemplate, dataDir, { recursive: true });
  const env = {
    COUNTERSIGN_DATA_DIR: dataDir,
    COUNTERSIGN_RATE_NORMAL: "1000000000",
    COUNTERSIGN_RATE_SENSITIVE: "1000000000",
    COUNTERSIGN_MODE: "all",
    COUNTERSIGN_MAX_SESSIONS: "10000",
    COUNTERSIGN_UPSTREAM_URL: upstreamUrl,
    COUNTERSIGN_GENERATED_DIR: prep.generatedDir,
    ...variant.env,
  };
  const t0 = performance.now();
  if (transport === "stdio") {
    const s = await stdioClient(process.execPath, [...variant.nodeArgs, CLI, "stdio"], { env: { ...env, MCP_TOKEN: prep.token } });
    await s.client.listTools();
    return { pid: s.pid, primary: s, ready_ms: performance.now() - t0, newSession: null, stop: () => s.close() };
  }
  const port = await freePort();
  const proc = spawnServer(process.execPath, [...variant.nodeArgs, CLI, "serve", "--port", String(port), "--host", "127.0.0.1"], { env });
  await waitForPort(port, proc);
  const url = `http://127.0.0.1:${port}/mcp`;
  const headers = { Authorization: `Bearer ${prep.token}` };
  const first = await httpClient(url, headers);
  await first.client.listTools();
  return {
    pid: proc.pid,
    primary: first,
    ready_ms: performance.now() - t0,
    newSession: () => httpClient(url, headers),
    alive: () => !proc.exitInfo,
    output: proc.output,
    async stop() {
      await first.close();
      await proc.stop();
    },
  };
}

/** `n` calls on the process's load sessions; returns calls per second and updates the peak RSS (sampled every 250 ms). */
async function load(r, n) {
  const sessions = r.sessions;
  const width = r.inst.newSession ? 1 : 8;
  let left = n;
  const sampler = setInterval(() => (r.rss_peak_mb = Math.max(r.rss_peak_mb ?? 0, rssMb(r.inst.pid))), 250);
  const t0 = performance.now();
  try {
    await Promise.all(
      sessions.flatMap((s) =>
        Array.from({ length: width }, async () => {
          while (left > 0) {
            left--;
            await call(s.client);
            r.calls++;
          }
        }),
      ),
    );
  } finally {
    clearInterval(sampler);
  }
  return n / ((performance.now() - t0) / 1000);
}

async function main() {
  const work = opts.work ? resolve(opts.work) : mkdtempSync(join(tmpdir(), "cs-bench-memory-"));
  mkdirSync(work, { recursive: true });
  const prep = await prepare(work);
  const upstream = await startUpstream();
  const running = [];
  try {
    for (const variant of VARIANTS) {
      for (const transport of TRANSPORTS) {
        const inst = await start(variant, transport, prep, upstream.url, work);
        running.push({ variant, transport, inst, calls: 0, samples: [] });
        log(`${variant.name} ${transport}: ready in ${round(inst.ready_ms, 0)} ms`);
      }
    }
    await sleep(1500);
    for (const r of running) r.rss_loaded_mb = rssMb(r.inst.pid);

    log(`latency: ${ROUNDS} rounds × ${PER_ROUND} sequential calls, ${running.length} processes interleaved`);
    for (const r of running) for (let i = 0; i < 100; i++, r.calls++) await call(r.inst.primary.client);
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      for (const r of shuffle([...running])) {
        for (let i = 0; i < PER_ROUND; i++, r.calls++) {
          const c0 = performance.now();
          await call(r.inst.primary.client);
          r.samples.push(performance.now() - c0);
        }
      }
    }

    // The rest of the calls in chunks, processes interleaved in shuffled order, so the machine's
    // drift hits every variant alike; calls/s is the median over the chunks.
    log(`load: to ${CALLS} calls each in chunks of ${CHUNK}, interleaved`);
    for (const r of running) {
      r.sessions = [r.inst.primary];
      if (r.inst.newSession) for (let i = 1; i < SESSIONS; i++) r.sessions.push(await r.inst.newSession());
      r.rates = [];
    }
    while (running.some((r) => r.calls < CALLS)) {
      for (const r of shuffle(running.filter((x) => x.calls < CALLS))) r.rates.push(await load(r, Math.min(CHUNK, CALLS - r.calls)));
    }
    for (const r of running) await Promise.all(r.sessions.slice(1).map((s) => s.close()));
    await sleep(1000);
    for (const r of running) {
      r.rss_after_mb = rssMb(r.inst.pid);
      r.rss_peak_mb = Math.max(r.rss_peak_mb ?? 0, r.rss_after_mb);
      r.calls_per_s = round(median(r.rates), 0);
    }
  } finally {
    for (const r of running) await r.inst.stop().catch(() => undefined);
    await upstream.proc.stop();
    if (!opts.work) rmSync(work, { recursive: true, force: true });
  }

  const rows = running.map((r) => ({
    variant: r.variant.name,
    transport: r.transport,
    env: r.variant.env,
    node_args: r.variant.nodeArgs,
    rss_loaded_mb: r.rss_loaded_mb,
    rss_after_mb: r.rss_after_mb,
    rss_peak_mb: r.rss_peak_mb,
    calls: r.calls,
    p50_ms: round(median(r.samples)),
    calls_per_s: r.calls_per_s,
  }));
  const result = { date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg().map((x) => round(x, 2)) }, calls: CALLS, sessions: SESSIONS, rows };
  mkdirSync(resolve(opts.out, ".."), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
  const lines = ["| variant | transport | RSS loaded | RSS after | peak | p50 | calls/s (load) |", "|---|---|---:|---:|---:|---:|---:|"];
  for (const r of rows) lines.push(`| ${r.variant} | ${r.transport} | ${r.rss_loaded_mb} MB | ${r.rss_after_mb} MB | ${r.rss_peak_mb} MB | ${r.p50_ms} ms | ${r.calls_per_s} |`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench/memory.js: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
