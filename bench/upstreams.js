/**
 * Issue 20's figures: what the gateway adds in front of an MCP backend, and start-up and memory
 * with five upstreams.
 *
 * 1. Added cost: an SDK Client calls the backend's read-only `echo` directly, and the same tool
 *    through `countersign stdio --config` (the cheapest hop from client to gateway); backends are
 *    `@modelcontextprotocol/server-everything` over stdio and a Streamable HTTP server
 *    (lib/mcp-echo-server.js). Rounds interleave direct and gateway calls so the machine's drift
 *    hits both alike, over `--phases` phases each with a fresh gateway (medians over phases). The
 *    gateway's chain is whole: token, limits, audit on, validation.
 * 2. Start-up: `countersign serve --config` with five upstreams (the bundled API, GitHub's tools,
 *    the Scalar Galaxy spec generated at start-up, server-everything over stdio, the HTTP echo
 *    server): spawn → first complete tools/list, and the gateway's RSS then (its subprocess apart).
 *
 * With `--base DIR` (another checkout, built) its gateway is measured in the same run: its phases
 * alternate with this build's (one gateway alive at a time), and its start-ups with these.
 * Beside each p50 the gateway's CPU time per call (user + system, from /proc), which the
 * machine's load moves less than wall time.
 *
 *   node bench/upstreams.js [--calls 2000] [--phases 3] [--runs 5] [--only stdio,http,five] [--env KEY=VALUE] [--base DIR] [--out FILE]
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { cpuMs, httpClient, listAllTools, rssMb, stdioClient } from "./lib/procs.js";
import { median, round, summarize } from "./lib/stats.js";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({ options: { calls: { type: "string", default: "2000" }, phases: { type: "string", default: "3" }, runs: { type: "string", default: "5" }, out: { type: "string", default: join(ROOT, "bench/results/upstreams.json") }, env: { type: "string", multiple: true }, only: { type: "string" }, base: { type: "string" } } });
const CALLS = Number(values.calls);
const RUNS = Number(values.runs);
const PHASES = Number(values.phases);
const CLI = join(ROOT, "bin/countersign.js");
const BASE_CLI = values.base && join(values.base, "bin/countersign.js");
const EVERYTHING = join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const work = mkdtempSync(join(tmpdir(), "cs-bench-upstreams-"));
const baseEnv = { PATH: process.env.PATH, HOME: work, COUNTERSIGN_DATA_DIR: join(work, "data"), COUNTERSIGN_RATE_NORMAL: "100000000", LOG_LEVEL: "warn", ...Object.fromEntries((values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])) };
const ONLY = new Set((values.only ?? "stdio,http,five").split(","));

function startEchoServer() {
  const proc = spawn(process.execPath, [join(ROOT, "bench/lib/mcp-echo-server.js")], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let seen = "";
    proc.stdout.on("data", (c) => {
      seen += c;
      const m = /listening on (\S+)/.exec(seen);
      if (m) resolve({ url: m[1], proc });
    });
    proc.once("exit", (code) => reject(new Error(`echo server exited ${code}`)));
  });
}

function config(name, lines) {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, ["upstreams:", ...lines, ""].join("\n"));
  return file;
}

function mint(file) {
  const out = spawnSync(process.execPath, [CLI, "tokens", "create", "--config", file, "--name", "bench", "--json"], { env: baseEnv, encoding: "utf8" });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout).token;
}

/** Wall time of each of `n` calls, and the CPU the gateway process (`pid`) used for them, into `acc`. */
async function timeCalls(client, name, n, pid, acc) {
  const cpu0 = pid && cpuMs(pid);
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = await client.callTool({ name, arguments: { message: "hi" } });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  }
  if (pid && acc) acc.cpu += cpuMs(pid) - cpu0;
  return samples;
}

/**
 * One phase: interleaved rounds of `per` calls, direct and through one gateway (and through a bare
 * pass-through proxy, `floor`, for HTTP backends), so the machine's drift hits them alike.
 */
async function phase(direct, gateway, floor, per = 100) {
  const a = [];
  const b = [];
  const f = [];
  const cpu = { cpu: 0 };
  await timeCalls(direct.client, "echo", 200);
  await timeCalls(gateway.client, gateway.tool, 200);
  if (floor) await timeCalls(floor.client, gateway.tool, 200);
  for (let done = 0; done < CALLS; done += per) {
    a.push(...(await timeCalls(direct.client, "echo", per)));
    b.push(...(await timeCalls(gateway.client, gateway.tool, per, gateway.pid, cpu)));
    if (floor) f.push(...(await timeCalls(floor.client, gateway.tool, per)));
  }
  const d = summarize(a);
  const g = summarize(b);
  return { direct: d, gateway: g, added_p50_ms: round(g.p50_ms - d.p50_ms), gateway_cpu_us_per_call: Math.round((cpu.cpu * 1000) / CALLS), ...(floor ? { floor: summarize(f) } : {}) };
}

/** Medians over phases: what the summary reports for one gateway. */
function overPhases(phases) {
  const med = (pick) => round(median(phases.map(pick)));
  const out = {
    phases: phases.map((p) => ({ direct_p50_ms: p.direct.p50_ms, gateway_p50_ms: p.gateway.p50_ms, added_p50_ms: p.added_p50_ms, gateway_cpu_us_per_call: p.gateway_cpu_us_per_call, ...(p.floor ? { floor_p50_ms: p.floor.p50_ms } : {}) })),
    direct: { p50_ms: med((p) => p.direct.p50_ms), p90_ms: med((p) => p.direct.p90_ms), p99_ms: med((p) => p.direct.p99_ms) },
    gateway: { p50_ms: med((p) => p.gateway.p50_ms), p90_ms: med((p) => p.gateway.p90_ms), p99_ms: med((p) => p.gateway.p99_ms) },
    added_p50_ms: med((p) => p.added_p50_ms),
    gateway_cpu_us_per_call: Math.round(median(phases.map((p) => p.gateway_cpu_us_per_call))),
  };
  if (phases[0].floor) out.passthrough_floor = { gateway: { p50_ms: med((p) => p.floor.p50_ms) }, added_p50_ms: med((p) => p.floor.p50_ms - p.direct.p50_ms) };
  return out;
}

/**
 * `PHASES` phases of this build's gateway, alternating with as many of the base's (with --base).
 * Only one gateway runs at a time: a second one alive between the rounds slows both (measured:
 * 0.3–0.4 ms more at p50, and more CPU per call, each), which would hide what each adds.
 */
async function compare(direct, startGateway, floor) {
  const ours = [];
  const theirs = [];
  // This process's own client code speeds up over its first thousands of calls (the JIT): warm it
  // on the direct path (and the floor's, the same stdio client as the gateway's) before any phase,
  // or the first phases would measure the harness warming up.
  await timeCalls(direct.client, "echo", 3 * CALLS);
  if (floor) await timeCalls(floor.client, "echo_echo", 3 * CALLS);
  for (let i = 0; i < PHASES; i++) {
    for (const [cli, into] of [[CLI, ours], ...(BASE_CLI ? [[BASE_CLI, theirs]] : [])]) {
      const gw = await startGateway(cli);
      into.push(await phase(direct, gw, floor));
      await gw.close();
    }
  }
  const out = overPhases(ours);
  if (!theirs.length) return out;
  const base = overPhases(theirs);
  return { ...out, base: { gateway: base.gateway, added_p50_ms: base.added_p50_ms, gateway_cpu_us_per_call: base.gateway_cpu_us_per_call, phases: base.phases } };
}

const echo = await startEchoServer();
const results = { benchmark: "upstreams", command: `node bench/upstreams.js --calls ${CALLS} --phases ${PHASES} --runs ${RUNS}${values.base ? " --base BASE_CHECKOUT" : ""}`, machine: { cpus: cpus().length, node: process.version, loadAverage1mAtStart: round(loadavg()[0], 2) } };

// 1. Added cost.
const stdioCfg = config("stdio-backend", ["  everything:", `    mcp: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }`]);
const httpCfg = config("http-backend", ["  echo:", `    mcp: { url: ${JSON.stringify(echo.url)} }`]);
const token = mint(stdioCfg);
if (ONLY.has("stdio")) {
  const direct = await stdioClient(process.execPath, [EVERYTHING, "stdio"]);
  const start = async (cli) => ({ ...(await stdioClient(process.execPath, [cli, "stdio", "--config", stdioCfg], { env: { ...baseEnv, MCP_TOKEN: token } })), tool: "everything_echo" });
  results.stdioBackend = await compare(direct, start, undefined);
  await direct.close();
}
if (ONLY.has("http")) {
  const direct = await httpClient(echo.url);
  const start = async (cli) => ({ ...(await stdioClient(process.execPath, [cli, "stdio", "--config", httpCfg], { env: { ...baseEnv, MCP_TOKEN: token } })), tool: "echo_echo" });
  // What a proxy that does nothing but forward adds (bench/lib/mcp-passthrough.js): the floor of the target.
  const floor = await stdioClient(process.execPath, [join(ROOT, "bench/lib/mcp-passthrough.js"), echo.url, "echo"]);
  results.httpBackend = await compare(direct, start, floor);
  await direct.close();
  await floor.close();
}

// 2. Start-up and RSS with five upstreams.
const github = join(work, "github");
const gen = !ONLY.has("five") ? { status: 0 } : spawnSync(process.execPath, [CLI, "generate", "--spec", join(ROOT, "test/fixtures/specs/stress-github-api.github.com.json.gz"), "--out", github], { encoding: "utf8" });
if (gen.status !== 0) throw new Error(gen.stderr);
writeFileSync(join(work, "galaxy.json"), gunzipSync(readFileSync(join(ROOT, "test/fixtures/specs/fixture-scalar-galaxy-3.1.json.gz"))));
const fiveCfg = config("five", [
  "  workspace:",
  `    generated: ${join(ROOT, "generated/workspace")}`,
  "    url: http://127.0.0.1:9/v1",
  "  github:",
  `    generated: ${github}`,
  "    url: http://127.0.0.1:9",
  "  galaxy:",
  "    spec: galaxy.json",
  "    url: http://127.0.0.1:9",
  "  everything:",
  `    mcp: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }`,
  "  echo:",
  `    mcp: { url: ${JSON.stringify(echo.url)} }`,
]);
/** One start-up of `cli serve` with the five: spawn → listening → first complete tools/list, its RSS and CPU then. */
async function startup(cli) {
  const t0 = process.hrtime.bigint();
  const serve = spawn(process.execPath, [cli, "serve", "--config", fiveCfg, "--port", "0"], { env: baseEnv, stdio: ["ignore", "ignore", "pipe"] });
  const url = await new Promise((resolve, reject) => {
    let seen = "";
    serve.stderr.on("data", (c) => {
      seen += c;
      const m = /listening on (\S+)/.exec(seen);
      if (m) resolve(m[1]);
    });
    serve.once("exit", (code) => reject(new Error(`serve exited ${code}: ${seen}`)));
  });
  const listening = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = await httpClient(`${url}?mode=all`, { Authorization: `Bearer ${token}` });
  const listed = await listAllTools(c.client);
  const firstList = Number(process.hrtime.bigint() - t0) / 1e6;
  const run = { listening_ms: round(listening, 1), first_tools_list_ms: round(firstList, 1), tools: listed.length, rss_mb: round(rssMb(serve.pid), 1), cpu_ms: cpuMs(serve.pid) };
  await c.close();
  const exited = new Promise((r) => serve.once("exit", r));
  serve.kill("SIGTERM");
  await exited;
  return run;
}
const summary = (runs) => ({
  runs,
  median_first_tools_list_ms: round(median(runs.map((s) => s.first_tools_list_ms)), 1),
  median_listening_ms: round(median(runs.map((s) => s.listening_ms)), 1),
  median_cpu_ms: round(median(runs.map((s) => s.cpu_ms)), 1),
  median_rss_mb: round(median(runs.map((s) => s.rss_mb)), 1),
});
const startups = [];
const baseStartups = [];
for (let i = 0; i < (ONLY.has("five") ? RUNS : 0); i++) {
  startups.push(await startup(CLI));
  if (BASE_CLI) baseStartups.push(await startup(BASE_CLI));
}
if (startups.length) results.fiveUpstreams = {
  upstreams: ["workspace (generated)", "github (generated, 1,185 tools)", "galaxy (spec:, generated at start-up)", "everything (MCP, stdio)", "echo (MCP, Streamable HTTP)"],
  ...summary(startups),
  ...(baseStartups.length ? { base: summary(baseStartups) } : {}),
  targets: { startup_ms: 1500, rss_mb: 200, added_p50_ms_http_backend: 0.3 },
};
results.machine.loadAverage1mAtEnd = round(loadavg()[0], 2);
echo.proc.kill("SIGTERM");
writeFileSync(values.out, JSON.stringify(results, null, 2) + "\n");
const brief = (r) => r && { direct_p50_ms: r.direct.p50_ms, gateway_p50_ms: r.gateway.p50_ms, added_p50_ms: r.added_p50_ms, cpu_us_per_call: r.gateway_cpu_us_per_call, ...(r.passthrough_floor ? { passthrough_added_p50_ms: r.passthrough_floor.added_p50_ms } : {}), ...(r.base ? { base_added_p50_ms: r.base.added_p50_ms, base_cpu_us_per_call: r.base.gateway_cpu_us_per_call } : {}) };
const five = (f) => f && { first_tools_list_ms: f.median_first_tools_list_ms, cpu_ms: f.median_cpu_ms, rss_mb: f.median_rss_mb };
const f = results.fiveUpstreams;
process.stdout.write(JSON.stringify({ stdioBackend: brief(results.stdioBackend), httpBackend: brief(results.httpBackend), five: five(f), ...(f?.base ? { fiveBase: five(f.base) } : {}) }) + "\n");
