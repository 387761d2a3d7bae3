/**
 * Countersign beside the peers, in one run: the same local upstream, the same spec, the same SDK
 * client, every server in its own process.
 *
 *   make bench                      (= node bench/run.js after the build)
 *   node bench/run.js --quick       (fewer calls and shorter windows; a smoke run)
 *   node bench/run.js --specs workspace --only countersign-http,floor-http
 *   node bench/run.js --render      (peers.md again from peers.json, e.g. after editing the analysis)
 *   node bench/run.js --latency-only (cold start and sequential latency; no throughput, no memory)
 *   node bench/run.js --tp-rounds 4 (four throughput windows per contender and level instead of one or two)
 *
 * For the bundled spec and GitHub's, per contender: cold start (process start → first complete
 * tools/list answered), resident memory after loading and after 10,000 calls, tools/list size in
 * bytes and tokens (cl100k_base), per-call latency of one read tool (sequential, in interleaved
 * shuffled rounds so drift hits all alike), throughput at 1, 8 and 32 concurrent sessions (each
 * its own Client and connection; stdio servers are one session per process, so only 1), and
 * generation/build time where the contender generates code.
 *
 * Writes bench/results/peers.json (raw figures, machine, versions, date) and peers.md (tables,
 * targets, and the analysis kept in bench/peers/analysis.md).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { getEncoding } from "js-tiktoken";
import { CONTENDERS, findReadTool, installPeers, prepareCountersign, prepareOmg, ROOT, versions } from "./lib/contenders.js";
import { cpuMs, describeError, listAllTools, rssMb, sleep, spawnServer, stdioClient } from "./lib/procs.js";
import { renderMarkdown } from "./lib/report.js";
import { median, round, shuffle, summarize } from "./lib/stats.js";

const { values: opts } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    specs: { type: "string", default: "workspace,github" },
    only: { type: "string" },
    out: { type: "string", default: join(ROOT, "bench/results") },
    // Rewrites peers.md from the existing peers.json (after editing bench/peers/analysis.md).
    render: { type: "boolean", default: false },
    // Cold start and sequential latency only: no throughput windows, no memory phase.
    "latency-only": { type: "boolean", default: false },
    // More throughput windows per contender and level (summed), for a steadier figure on a busy machine.
    "tp-rounds": { type: "string" },
  },
});

const QUICK = opts.quick;
const P = QUICK
  ? { coldRuns: 2, warmup: 100, rounds: 4, perRound: 50, levels: [1, 8, 32], tpRounds: 1, tpSeconds: 2, tpWarmMs: 400, memCalls: 2000 }
  : { coldRuns: 3, warmup: 300, rounds: 10, perRound: 100, levels: [1, 8, 32], tpRounds: 2, tpSeconds: 2.5, tpWarmMs: 500, memCalls: 10_000 };

if (opts["tp-rounds"] !== undefined) {
  const n = Number(opts["tp-rounds"]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--tp-rounds must be a whole number of at least 1, not ${opts["tp-rounds"]}`);
  P.tpRounds = n;
}

const enc = getEncoding("cl100k_base");
const log = (msg) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const SPECS = {
  workspace: {
    name: "workspace",
    title: "bundled spec (openapi/workspace.yaml)",
    path: join(ROOT, "openapi/workspace.yaml"),
    basePath: "/v1",
    baseUrlPlaceholder: "http://127.0.0.1:1/v1",
    read: { names: ["get_project", "getProject"], args: { project_id: "6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10" }, floorPath: "/v1/projects/{project_id}", floorTool: "get_project" },
  },
  github: {
    name: "github",
    title: "GitHub's REST spec (api.github.com, 13 MB)",
    gz: join(ROOT, "test/fixtures/specs/stress-github-api.github.com.json.gz"),
    basePath: "",
    baseUrlPlaceholder: "http://127.0.0.1:1",
    read: { names: ["repos_get", "repos/get"], args: { owner: "octocat", repo: "hello-world" }, floorPath: "/repos/{owner}/{repo}", floorTool: "repos_get" },
  },
};

async function startUpstream() {
  const proc = spawnServer(process.execPath, [join(ROOT, "bench/lib/upstream-server.js")]);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const m = /listening (\d+)/.exec(proc.output());
    if (m) return { proc, url: `http://127.0.0.1:${m[1]}` };
    await sleep(20);
  }
  throw new Error(`upstream did not start: ${proc.output()}`);
}

/** One tools/call; throws on a tool error so every figure counts only real successes. */
async function call(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`tool error: ${JSON.stringify(r.content).slice(0, 300)}`);
  return r;
}

function listSize(tools) {
  const json = JSON.stringify({ tools });
  return { list_bytes: Buffer.byteLength(json), list_tokens: enc.encode(json).length };
}

async function coldStarts(contender, spec, prep, result) {
  const times = [];
  let inst;
  for (let i = 0; i < P.coldRuns; i++) {
    if (inst) await inst.stop();
    inst = await contender.start(spec, prep);
    times.push(inst.cold_start_ms);
  }
  result.cold_start_runs_ms = times.map((t) => round(t, 1));
  result.cold_start_ms = round([...times].sort((a, b) => a - b)[Math.floor(times.length / 2)], 1);
  await sleep(500);
  result.rss_loaded_mb = rssMb(inst.pid);
  result.tools = inst.tools.length;
  if (inst.tools.invalid) result.list_invalid = inst.tools.invalid;
  Object.assign(result, listSize(inst.tools));
  return inst;
}

async function latency(running, spec) {
  for (const r of running) {
    for (let i = 0; i < P.warmup; i++) await call(r.inst.primary.client, r.tool, spec.read.args);
    r.calls += P.warmup;
  }
  const samples = new Map(running.map((r) => [r, []]));
  // The server's own CPU over the same calls: unlike wall time, barely moved by what else the machine runs.
  const cpu = new Map(running.map((r) => [r, 0]));
  for (let round = 0; round < P.rounds; round++) {
    for (const r of shuffle([...running])) {
      if (r.failed) continue;
      try {
        const cpu0 = cpuMs(r.inst.pid);
        for (let i = 0; i < P.perRound; i++) {
          const t0 = performance.now();
          await call(r.inst.primary.client, r.tool, spec.read.args);
          samples.get(r).push(performance.now() - t0);
        }
        cpu.set(r, cpu.get(r) + cpuMs(r.inst.pid) - cpu0);
        r.calls += P.perRound;
      } catch (err) {
        r.failed = `latency: ${describeError(err)}`;
      }
    }
  }
  for (const r of running) {
    r.result.latency = summarize(samples.get(r));
    if (samples.get(r).length) r.result.latency.server_cpu_ms_per_call = round(cpu.get(r) / samples.get(r).length, 3);
  }
}

/** Closed-loop load from `n` sessions for a fixed window after a warm-up; calls/s and latency under load. */
async function throughput(r, spec, n) {
  if (n > 1 && !r.inst.newSession) return { skipped: "stdio serves one session per process" };
  const sessions = n === 1 ? [r.inst.primary] : [];
  const t0 = performance.now();
  try {
    const need = n - sessions.length;
    for (let i = 0; i < need; i++) sessions.push(await r.inst.newSession());
  } catch (err) {
    await Promise.all(sessions.filter((s) => s !== r.inst.primary).map((s) => s.close()));
    return { error: `opening ${n} sessions: ${err.message}` };
  }
  const setup_ms = performance.now() - t0;
  let measuring = false;
  let stop = false;
  let ok = 0;
  let errors = 0;
  let firstError;
  const lat = [];
  const loop = async (s) => {
    while (!stop) {
      const c0 = performance.now();
      try {
        await call(s.client, r.tool, spec.read.args);
        if (measuring) {
          ok++;
          lat.push(performance.now() - c0);
        }
      } catch (err) {
        if (measuring) errors++;
        firstError ??= describeError(err);
        if (!measuring) await sleep(5);
      }
      r.calls++;
    }
  };
  const loops = sessions.map(loop);
  await sleep(P.tpWarmMs);
  measuring = true;
  const m0 = performance.now();
  await sleep(P.tpSeconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - m0) / 1000;
  stop = true;
  await Promise.all(loops);
  await Promise.all(sessions.filter((s) => s !== r.inst.primary).map((s) => s.close()));
  const s = summarize(lat);
  return {
    sessions: n,
    calls_per_s: round(ok / elapsed, 1),
    seconds: elapsed,
    ok,
    errors,
    ...(firstError && errors ? { first_error: firstError.slice(0, 300) } : {}),
    p50_ms: s.p50_ms,
    p99_ms: s.p99_ms,
    session_setup_ms: round(setup_ms, 1),
  };
}

function mergeWindows(ws) {
  const bad = ws.find((w) => w.skipped || w.error);
  if (bad) return bad;
  const ok = ws.reduce((a, w) => a + w.ok, 0);
  const seconds = ws.reduce((a, w) => a + w.seconds, 0);
  const errors = ws.reduce((a, w) => a + w.errors, 0);
  return {
    sessions: ws[0].sessions,
    calls_per_s: round(ok / seconds, 1),
    windows_calls_per_s: ws.map((w) => w.calls_per_s),
    ok,
    errors,
    ...(errors ? { first_error: ws.find((w) => w.first_error)?.first_error } : {}),
    p50_ms: median(ws.map((w) => w.p50_ms)),
    p99_ms: Math.max(...ws.map((w) => w.p99_ms)),
    session_setup_ms: median(ws.map((w) => w.session_setup_ms)),
  };
}

/** Brings the server to `P.memCalls` calls in total, then reads its RSS. */
async function memoryAfterCalls(r, spec) {
  const remaining = Math.max(0, P.memCalls - r.calls);
  const n = r.inst.newSession ? 8 : 1;
  const sessions = [r.inst.primary];
  for (let i = 1; i < n; i++) sessions.push(await r.inst.newSession());
  let left = remaining;
  // Stdio gets 8 calls in flight on its one connection; HTTP 8 sessions with one each.
  const width = r.inst.newSession ? 1 : 8;
  await Promise.all(
    sessions.flatMap((s) =>
      Array.from({ length: width }, async () => {
        while (left > 0) {
          left--;
          await call(s.client, r.tool, spec.read.args);
          r.calls++;
        }
      }),
    ),
  );
  await Promise.all(sessions.slice(1).map((s) => s.close()));
  await sleep(1000);
  return { rss_after_calls_mb: rssMb(r.inst.pid), calls_before_rss: r.calls };
}

/** Countersign's tools/list in its default exposure (auto: dynamic above 128 tools), for the token comparison. */
async function defaultModeList(spec, prep) {
  const p = prep.countersign;
  const dataDir = mkdtempSync(join(tmpdir(), "cs-bench-data-"));
  const env = { COUNTERSIGN_DATA_DIR: p.dataTemplate, COUNTERSIGN_GENERATED_DIR: p.generatedDir, COUNTERSIGN_UPSTREAM_URL: spec.upstreamUrl, MCP_TOKEN: p.token };
  const s = await stdioClient(process.execPath, [join(ROOT, "bin/countersign.js"), "stdio"], { env: { ...env, COUNTERSIGN_DATA_DIR: p.dataTemplate } });
  try {
    const tools = await listAllTools(s.client);
    return { tools: tools.length, ...listSize(tools) };
  } finally {
    await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchSpec(spec, work, selected) {
  log(`== ${spec.name}: preparing`);
  if (spec.gz) {
    spec.path = join(work, `${spec.name}.json`);
    writeFileSync(spec.path, gunzipSync(readFileSync(spec.gz)));
  }
  const upstream = await startUpstream();
  spec.upstreamUrl = upstream.url;
  const prep = {};
  const out = { spec: spec.title, read_tool_args: spec.read.args, preparation: {}, contenders: {} };
  prep.countersign = await prepareCountersign(spec, work);
  out.preparation.countersign = { generation_ms: round(prep.countersign.generation_ms, 0), tools: prep.countersign.tools, summary: prep.countersign.summary };
  log(`countersign generate: ${round(prep.countersign.generation_ms, 0)} ms (${prep.countersign.summary})`);
  for (const [key, transport] of [["omg", "streamable-http"], ["omgStdio", "stdio"]]) {
    if (!selected.some((c) => c.id === `openapi-mcp-generator-${transport === "stdio" ? "stdio" : "http"}`)) continue;
    const p = (prep[key] = await prepareOmg(spec, work, log, transport));
    const label = `openapi-mcp-generator (${transport})`;
    out.preparation[label] = { generation_ms: round(p.generation_ms, 0), build_ms: p.build_ms && round(p.build_ms, 0), build_reused: p.build_reused, build_error: p.build_error, error: p.error };
    log(`${label}: ${JSON.stringify(out.preparation[label])}`);
  }
  try {
    out.countersign_default_mode_list = await defaultModeList(spec, prep);
  } catch (err) {
    out.countersign_default_mode_list = { error: err.message.slice(0, 500) };
  }

  // Cold starts, one contender at a time; the last start of each stays up for the rest.
  const running = [];
  for (const c of selected) {
    const result = { label: c.label, family: c.family };
    out.contenders[c.id] = result;
    log(`${c.id}: cold start ×${P.coldRuns}`);
    let inst;
    try {
      inst = await coldStarts(c, spec, prep, result);
    } catch (err) {
      result.error = `start: ${describeError(err).slice(0, 1500)}`;
      log(`${c.id}: ${result.error.slice(0, 300)}`);
      continue;
    }
    const tool = findReadTool(inst.tools, spec);
    if (!tool) {
      result.error = `no read tool among ${inst.tools.length} listed (looked for ${spec.read.names.join(", ")})`;
      await inst.stop();
      continue;
    }
    result.read_tool = tool;
    try {
      await call(inst.primary.client, tool, spec.read.args);
    } catch (err) {
      result.error = `first call: ${describeError(err).slice(0, 800)}`;
      await inst.stop();
      continue;
    }
    running.push({ contender: c, inst, tool, result, calls: 1 });
  }

  log(`latency: ${P.rounds} rounds × ${P.perRound} calls, ${running.length} contenders interleaved`);
  await latency(running, spec);

  // Several short windows per contender and level, in shuffled order, summed: drift spreads over all.
  for (const n of opts["latency-only"] ? [] : P.levels) {
    log(`throughput @${n} sessions: ${P.tpRounds} rounds × ${P.tpSeconds} s per contender`);
    const windows = new Map();
    for (let round = 0; round < P.tpRounds; round++) {
      for (const r of shuffle([...running])) {
        if (r.failed) continue;
        const w = await throughput(r, spec, n);
        windows.set(r, [...(windows.get(r) ?? []), w]);
      }
    }
    for (const [r, ws] of windows) (r.result.throughput ??= {})[n] = mergeWindows(ws);
  }
  for (const r of running) {
    if (r.failed) {
      r.result.error = r.failed;
    } else if (!opts["latency-only"]) {
      try {
        log(`memory ${r.contender.id}: to ${P.memCalls} calls`);
        Object.assign(r.result, await memoryAfterCalls(r, spec));
      } catch (err) {
        r.result.error = `memory phase: ${describeError(err).slice(0, 500)}`;
      }
    }
    await r.inst.stop();
  }
  await upstream.proc.stop();
  return out;
}

function render() {
  const results = JSON.parse(readFileSync(join(opts.out, "peers.json"), "utf8"));
  const analysisPath = join(ROOT, "bench/peers/analysis.md");
  writeFileSync(join(opts.out, "peers.md"), renderMarkdown(results, existsSync(analysisPath) ? readFileSync(analysisPath, "utf8") : ""));
}

async function main() {
  if (opts.render) {
    render();
    return;
  }
  const started = new Date();
  const t0 = performance.now();
  await installPeers(log);
  const only = opts.only?.split(",").map((s) => s.trim());
  const selected = only ? CONTENDERS.filter((c) => only.includes(c.id)) : CONTENDERS;
  const work = mkdtempSync(join(tmpdir(), "cs-bench-peers-"));
  const results = {
    date: started.toISOString(),
    command: `node bench/run.js${process.argv.slice(2).length ? " " + process.argv.slice(2).join(" ") : ""}`,
    machine: {
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      memory_gb: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadavg_start: loadavg().map((x) => round(x, 2)),
    },
    versions: versions(),
    params: { quick: QUICK, ...P },
    specs: {},
  };
  try {
    for (const name of opts.specs.split(",")) {
      const spec = SPECS[name.trim()];
      if (!spec) throw new Error(`unknown spec ${name} (workspace, github)`);
      results.specs[spec.name] = await benchSpec(spec, work, selected);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  results.machine.loadavg_end = loadavg().map((x) => round(x, 2));
  results.duration_s = round((performance.now() - t0) / 1000, 1);
  mkdirSync(opts.out, { recursive: true });
  // Paths of this checkout and of temp folders say nothing about the figures; keep them out.
  const clean = (text) => text.split(ROOT).join(".").replace(/\/tmp\/cs-bench-[A-Za-z0-9_-]+/g, "<tmp>");
  results.specs = JSON.parse(clean(JSON.stringify(results.specs)));
  writeFileSync(join(opts.out, "peers.json"), JSON.stringify(results, null, 2) + "\n");
  const analysisPath = join(ROOT, "bench/peers/analysis.md");
  const analysis = existsSync(analysisPath) ? readFileSync(analysisPath, "utf8") : "";
  writeFileSync(join(opts.out, "peers.md"), renderMarkdown(results, analysis));
  log(`done in ${results.duration_s} s → ${join(opts.out, "peers.json")}, peers.md`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench/run.js: ${err.stack ?? err}\n`);
  process.exit(1);
});
