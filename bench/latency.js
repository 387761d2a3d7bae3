/**
 * Gateway overhead, cold start and memory (issue 3), in one run on one machine:
 *
 *  - per-call latency (p50/p99, sequential) of one read tool: the upstream called directly, the
 *    floor (a minimal SDK server doing one fetch; bench/peers/floor.js) and the gateway, over
 *    Streamable HTTP and over stdio, each in its own process; rounds interleave the contenders so
 *    the machine's drift hits all alike;
 *  - cold start: `countersign stdio` spawned → first tools/list answered, with GitHub's 1,223
 *    operations generated into a temp dir (mode all: every tool listed);
 *  - resident memory of the gateway after the calls, and with GitHub's tools loaded.
 *
 *   node bench/latency.js            (needs dist/: make build)
 *   BENCH_CALLS=2000 node bench/latency.js
 *
 * Writes bench/results/latency.json.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { emitHandMade } from "../dist/codegen/emit.js";
import { median, round, summarize } from "./lib/stats.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "bin/countersign.js");
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const ROUNDS = 5;
const WARMUP = 100;
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 3);

const START_LOAD = loadavg().map((x) => round(x, 1));
const work = mkdtempSync(join(tmpdir(), "cs-bench-latency-"));
const children = [];
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

/** Spawns a process and resolves with the first match of `pattern` on its stdout or stderr. */
function start(command, args, env, pattern) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (c) => {
      seen += c.toString();
      const m = pattern.exec(seen);
      if (m) resolve({ child, match: m });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}: ${seen}`)));
  });
}

/** CPU time (user + system) a process has used so far, in ms: less sensitive than wall time to a busy machine. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024, 1);
}

/** A generated folder holding the runtime's fixture tools (get_item is the read tool measured). */
function writeFixtureGenerated(dir) {
  mkdirSync(dir, { recursive: true });
  const tools = JSON.parse(readFileSync(join(ROOT, "test/fixtures/tools/fixture-api.json"), "utf8"));
  for (const [file, text] of emitHandMade("fixture", tools, "bench fixture")) writeFileSync(join(dir, file), text);
}

const env = {
  COUNTERSIGN_DATA_DIR: join(work, "data"),
  COUNTERSIGN_RATE_NORMAL: "100000000",
  LOG_LEVEL: "warn",
};
const fixtureDir = join(work, "fixture");
writeFixtureGenerated(fixtureDir);
const minted = spawnSync("node", [CLI, "tokens", "create", "--name", "bench", "--json"], { env: { ...process.env, ...env }, encoding: "utf8" });
if (minted.status !== 0) throw new Error(`tokens create failed: ${minted.stderr}`);
const token = JSON.parse(minted.stdout).token;

const { match: upMatch } = await start("node", [join(ROOT, "bench/lib/upstream-server.js")], {}, /listening (\d+)/);
const upstream = `http://127.0.0.1:${upMatch[1]}`;
const gatewayEnv = { ...env, COUNTERSIGN_UPSTREAM_URL: upstream, COUNTERSIGN_GENERATED_DIR: fixtureDir };

const { child: gatewayHttp, match: gwMatch } = await start("node", [CLI, "serve", "--port", "0"], gatewayEnv, /listening on (http:\/\/\S+)/);
const { match: floorMatch } = await start("node", [join(ROOT, "bench/peers/floor.js"), "--upstream", upstream, "--path", "/v1/items/{item_id}", "--tool", "get_item", "--transport", "http"], {}, /listening (\d+)/);

async function httpClient(url, headers = {}) {
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}
async function stdioClient(command, args, extraEnv) {
  const transport = new StdioClientTransport({ command, args, env: { ...process.env, ...extraEnv }, stderr: "ignore" });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  return { client, pid: transport.pid };
}

const gatewayStdio = await stdioClient("node", [CLI, "stdio"], { ...gatewayEnv, MCP_TOKEN: token });
const floorStdio = await stdioClient("node", [join(ROOT, "bench/peers/floor.js"), "--upstream", upstream, "--path", "/v1/items/{item_id}", "--tool", "get_item"], {});

const args = { item_id: "6f1f3c1e" };
const contenders = {
  direct: async () => {
    const res = await fetch(`${upstream}/v1/items/${args.item_id}`);
    await res.text();
    if (!res.ok) throw new Error(`direct: ${res.status}`);
  },
  floor_http: await (async () => {
    const c = await httpClient(`http://127.0.0.1:${floorMatch[1]}/mcp`);
    return () => c.callTool({ name: "get_item", arguments: args });
  })(),
  gateway_http: await (async () => {
    const c = await httpClient(gwMatch[1], { Authorization: `Bearer ${token}` });
    return async () => {
      const r = await c.callTool({ name: "get_item", arguments: args });
      if (r.isError) throw new Error(`gateway: ${JSON.stringify(r.content)}`);
    };
  })(),
  floor_stdio: () => floorStdio.client.callTool({ name: "get_item", arguments: args }),
  gateway_stdio: async () => {
    const r = await gatewayStdio.client.callTool({ name: "get_item", arguments: args });
    if (r.isError) throw new Error(`gateway: ${JSON.stringify(r.content)}`);
  },
};

const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
for (const [, call] of Object.entries(contenders)) for (let i = 0; i < WARMUP; i++) await call();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, call] of Object.entries(contenders)) {
    for (let i = 0; i < CALLS / ROUNDS; i++) {
      const t0 = performance.now();
      await call();
      samples[name].push(performance.now() - t0);
    }
  }
}
const latency = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
const ratio = (a, b) => round(latency[a].p50_ms / latency[b].p50_ms, 2);
const memoryAfterCalls = { gateway_http_rss_mb: rssMb(gatewayHttp.pid), gateway_stdio_rss_mb: rssMb(gatewayStdio.pid) };
process.stderr.write(`latency: ${JSON.stringify(latency, null, 1)}\n`);

// Cold start with GitHub's tools.
const githubSpec = join(work, "github.json");
writeFileSync(githubSpec, gunzipSync(readFileSync(join(ROOT, "test/fixtures/specs/stress-github-api.github.com.json.gz"))));
const githubDir = join(work, "github");
const g0 = performance.now();
const gen = spawnSync("node", [CLI, "generate", "--spec", githubSpec, "--out", githubDir], { encoding: "utf8" });
const generateMs = performance.now() - g0;
if (gen.status !== 0) throw new Error(`generate failed: ${gen.stderr}`);
const githubManifest = JSON.parse(readFileSync(join(githubDir, "manifest.json"), "utf8"));

const cold = [];
let githubRss;
let listed;
for (let i = 0; i < COLD_RUNS; i++) {
  const t0 = performance.now();
  const { client, pid } = await stdioClient("node", [CLI, "stdio"], { ...env, MCP_TOKEN: token, COUNTERSIGN_UPSTREAM_URL: upstream, COUNTERSIGN_GENERATED_DIR: githubDir, COUNTERSIGN_MODE: "all" });
  const first = await client.listTools();
  const firstMs = performance.now() - t0;
  const firstCpu = cpuMs(pid);
  let all = first.tools.length;
  let cursor = first.nextCursor;
  while (cursor) {
    const page = await client.listTools({ cursor });
    all += page.tools.length;
    cursor = page.nextCursor;
  }
  cold.push({ first_list_ms: firstMs, first_list_cpu_ms: firstCpu, all_pages_ms: performance.now() - t0 });
  listed = all;
  githubRss = rssMb(pid);
  await client.close();
}

const results = {
  bench: "latency",
  date: new Date().toISOString(),
  machine: { load_average_at_start: START_LOAD, cpus: cpus().length, cpu_model: cpus()[0]?.model, total_mem_gb: round(totalmem() / 2 ** 30, 1), node: process.version },
  method: `${CALLS} sequential calls per contender in ${ROUNDS} interleaved rounds after ${WARMUP} warm-up calls; read tool get_item (GET /v1/items/{item_id}, JSON); client, servers and upstream in separate processes; gateway with its default chain (auth, policy, rate limits, validation, audit to the JSON Lines file)`,
  latency_ms: latency,
  ratios_p50: {
    gateway_http_over_floor_http: ratio("gateway_http", "floor_http"),
    gateway_stdio_over_floor_stdio: ratio("gateway_stdio", "floor_stdio"),
    floor_http_over_direct: ratio("floor_http", "direct"),
  },
  target: "gateway p50 within 1.3x the floor",
  memory_after_calls: memoryAfterCalls,
  github: {
    operations_in_manifest: githubManifest.tools.length,
    generate_ms: round(generateMs, 0),
    tools_listed: listed,
    cold_start_stdio_first_tools_list_ms: round(median(cold.map((c) => c.first_list_ms)), 0),
    cold_start_stdio_first_tools_list_cpu_ms: round(median(cold.map((c) => c.first_list_cpu_ms)), 0),
    cold_start_stdio_all_pages_ms: round(median(cold.map((c) => c.all_pages_ms)), 0),
    cold_runs: cold.map((c) => ({ first_list_ms: round(c.first_list_ms, 0), first_list_cpu_ms: c.first_list_cpu_ms, all_pages_ms: round(c.all_pages_ms, 0) })),
    load_average_at_end: loadavg().map((x) => round(x, 1)),
    rss_mb_with_tools_loaded_and_listed: githubRss,
    target: "cold start under 1 s",
  },
};
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/latency.json"), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
await gatewayStdio.client.close();
await floorStdio.client.close();
process.exit(0);
