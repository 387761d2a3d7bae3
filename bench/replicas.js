/**
 * Distributed-mode throughput: calls/s of a read tool at 32 concurrent MCP sessions (SDK clients
 * over Streamable HTTP), with one gateway replica and with two, both on Redis; the embedded
 * (no Redis) single process alongside as the reference for what Redis costs.
 *
 *   npx tsc -p tsconfig.build.json && node bench/replicas.js
 *
 * Each replica is a real `countersign serve` process. Sessions are spread round-robin over the
 * replicas (what a load balancer with session affinity does), one token per session, rate limits
 * raised out of the way. The upstream is a tiny node:http server in this process answering a
 * constant JSON body. Each configuration: WARMUP_S of warm-up, then MEASURE_S measured; we record
 * calls/s, latency percentiles, and the CPU seconds every process used in the measured window
 * (gateways and redis-server from /proc, this load generator from process.cpuUsage()), so the
 * figures say where the cores went. Uses 127.0.0.1:6379 when it answers, else starts a
 * redis-server on a free port. Writes bench/results/replicas.json.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer, Socket } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Redis } from "ioredis";
import { emitHandMade } from "../dist/codegen/emit.js";
import { openRedisTokenStore } from "../dist/src/stores/redis/redis-stores.js";
import { openTokenStore } from "../dist/src/stores/tokens.js";
import { issueToken } from "../dist/src/tokens/issue.js";

const ROOT = new URL("../", import.meta.url).pathname;
const SESSIONS = Number(process.env.SESSIONS ?? 32);
const WARMUP_S = Number(process.env.WARMUP_S ?? 3);
const MEASURE_S = Number(process.env.MEASURE_S ?? 15);
const TICKS = 100; // /proc clock ticks per second on Linux

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function pings(port) {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok) => (s.destroy(), resolve(ok));
    s.setTimeout(300, () => done(false));
    s.once("error", () => done(false));
    s.connect(port, "127.0.0.1", () => s.write("PING\r\n"));
    s.once("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

async function redisServer() {
  if (await pings(6379)) return { url: "redis://127.0.0.1:6379", pid: undefined, stop: async () => {} };
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  for (let i = 0; i < 100 && !(await pings(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: async () => child.kill("SIGTERM") };
}

/** Redis' own CPU seconds (user + sys), from INFO: works whoever started the server. */
async function redisCpu(url) {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const info = await r.info("cpu");
    const get = (k) => Number(new RegExp(`^${k}:(\\S+)`, "m").exec(info)?.[1] ?? 0);
    return get("used_cpu_user") + get("used_cpu_sys");
  } finally {
    r.disconnect();
  }
}

function procCpu(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime
}

async function startUpstream() {
  const body = JSON.stringify({ id: "1", name: "item 1", status: "open" });
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => (server.close(() => r()), server.closeAllConnections())) };
}

function generatedApi() {
  const dir = mkdtempSync(join(tmpdir(), "cs-bench-gen-"));
  const tools = [
    {
      name: "get_item",
      title: "Get item",
      description: "Read an item.",
      module: "items",
      inputSchema: { type: "object", properties: { item_id: { type: "string" } }, required: ["item_id"], additionalProperties: false },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      binding: {
        method: "GET",
        path: "/items/{item_id}",
        serverPath: "",
        arguments: [{ name: "item_id", in: "path", wireName: "item_id", style: "simple", explode: false, allowReserved: false, required: true }],
        security: [],
        responseMediaTypes: ["application/json"],
      },
      policy: { write: false, sensitive: false, excluded: false },
    },
  ];
  for (const [file, text] of emitHandMade("items", tools, "bench fixture")) writeFileSync(join(dir, file), text);
  return dir;
}

async function startReplica(env, generated, upstream) {
  const child = spawn(process.execPath, [join(ROOT, "bin/countersign.js"), "serve", "--port", "0", "--generated", generated, "--upstream", upstream], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "warn", COUNTERSIGN_RATE_NORMAL: "100000000", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  const url = await new Promise((resolve, reject) => {
    child.stderr.on("data", (d) => {
      err += d;
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`replica exited ${code}: ${err}`)));
  });
  return {
    url,
    pid: child.pid,
    stop: () => new Promise((r) => (child.once("exit", r), child.kill("SIGTERM"))),
  };
}

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One configuration: `replicas` gateway processes, SESSIONS sessions over them, closed loop. */
async function run(label, { replicas, redisUrl, prefix, generated, upstream, redisInfoUrl }) {
  const dataDir = mkdtempSync(join(tmpdir(), "cs-bench-data-"));
  const env = redisUrl ? { REDIS_URL: redisUrl, COUNTERSIGN_REDIS_PREFIX: prefix, COUNTERSIGN_DATA_DIR: dataDir } : { COUNTERSIGN_DATA_DIR: dataDir };
  const store = redisUrl ? await openRedisTokenStore({ redis: { url: redisUrl, keyPrefix: prefix } }) : await openTokenStore({ dataDir });
  const tokens = [];
  for (let i = 0; i < SESSIONS; i++) tokens.push((await issueToken(store, { name: `bench-${i}` })).token);
  await store.close();

  const gateways = await Promise.all(Array.from({ length: replicas }, () => startReplica(env, generated, upstream.url)));
  const clients = await Promise.all(tokens.map(async (token, i) => {
    const client = new Client({ name: "bench", version: "1" });
    const transport = new StreamableHTTPClientTransport(new URL(gateways[i % replicas].url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
    await client.connect(transport);
    return client;
  }));

  let measuring = false;
  let stop = false;
  let calls = 0;
  let errors = 0;
  const latencies = [];
  const loops = clients.map(async (client) => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await client.callTool({ name: "get_item", arguments: { item_id: "1" } });
        if (res.isError) throw new Error(JSON.stringify(res.content));
        if (measuring) {
          calls++;
          latencies.push(performance.now() - t0);
        }
      } catch {
        if (measuring) errors++;
      }
    }
  });

  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  const cpu0 = { gateways: gateways.map((g) => procCpu(g.pid)), bench: process.cpuUsage(), redis: redisUrl ? await redisCpu(redisInfoUrl) : 0 };
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, MEASURE_S * 1000));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = { gateways: gateways.map((g) => procCpu(g.pid)), bench: process.cpuUsage(cpu0.bench), redis: redisUrl ? await redisCpu(redisInfoUrl) : 0 };
  stop = true;
  await Promise.all(loops);
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await Promise.all(gateways.map((g) => g.stop()));

  latencies.sort((a, b) => a - b);
  const cpuShare = (s) => Number((s / seconds).toFixed(2));
  const gatewayCpu = cpu1.gateways.reduce((sum, c, i) => sum + c - cpu0.gateways[i], 0);
  const benchCpu = (cpu1.bench.user + cpu1.bench.system) / 1e6;
  const perCall = (s) => Number(((s * 1000) / Math.max(1, calls)).toFixed(2));
  const result = {
    label,
    replicas,
    redis: Boolean(redisUrl),
    sessions: SESSIONS,
    seconds: Number(seconds.toFixed(2)),
    calls,
    errors,
    callsPerSecond: Number((calls / seconds).toFixed(1)),
    latencyMs: { p50: Number(percentile(latencies, 50).toFixed(2)), p90: Number(percentile(latencies, 90).toFixed(2)), p99: Number(percentile(latencies, 99).toFixed(2)) },
    // Cores busy on average during the window (1.0 = one full core).
    coresUsed: {
      gateways: cpu1.gateways.map((c, i) => cpuShare(c - cpu0.gateways[i])),
      loadGenerator: cpuShare((cpu1.bench.user + cpu1.bench.system) / 1e6),
      redis: cpuShare(cpu1.redis - cpu0.redis),
    },
    // CPU milliseconds per completed call: what a call costs, whatever else the machine is doing.
    cpuMsPerCall: {
      gateways: perCall(gatewayCpu),
      loadGenerator: perCall(benchCpu),
      redis: perCall(cpu1.redis - cpu0.redis),
    },
  };
  console.log(JSON.stringify(result));
  return result;
}

const redis = await redisServer();
const upstream = await startUpstream();
const generated = generatedApi();
const prefix = `cs-bench-${process.pid}:`;
const loadBefore = loadavg();
const results = [];
try {
  results.push(await run("embedded, 1 replica (reference)", { replicas: 1, generated, upstream }));
  results.push(await run("redis, 1 replica", { replicas: 1, redisUrl: redis.url, prefix: `${prefix}1:`, generated, upstream, redisInfoUrl: redis.url }));
  results.push(await run("redis, 2 replicas", { replicas: 2, redisUrl: redis.url, prefix: `${prefix}2:`, generated, upstream, redisInfoUrl: redis.url }));
} finally {
  await upstream.close();
  const r = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  for (const p of [`${prefix}1:`, `${prefix}2:`]) {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${p}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== "0");
  }
  r.disconnect();
  await redis.stop();
}

const [embedded, one, two] = results;
const out = {
  command: "npx tsc -p tsconfig.build.json && node bench/replicas.js",
  when: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverageBefore: loadBefore.map((x) => Number(x.toFixed(2))), loadAverageAfter: loadavg().map((x) => Number(x.toFixed(2))) },
  settings: { sessions: SESSIONS, warmupSeconds: WARMUP_S, measureSeconds: MEASURE_S, tool: "get_item (read, one upstream GET)" },
  results,
  summary: {
    redisCostVsEmbedded: Number((one.callsPerSecond / embedded.callsPerSecond).toFixed(2)),
    scalingTwoVsOne: Number((two.callsPerSecond / one.callsPerSecond).toFixed(2)),
    // If every core of this machine served this benchmark alone (gateways, Redis and the load
    // generator all on it): cores × 1000 / CPU ms per call. A ceiling, not a measurement.
    cpuBoundCeilingCallsPerSecond: Object.fromEntries(results.map((r) => [r.label, Math.round((cpus().length * 1000) / (r.cpuMsPerCall.gateways + r.cpuMsPerCall.loadGenerator + r.cpuMsPerCall.redis))])),
  },
};
writeFileSync(join(ROOT, "bench/results/replicas.json"), JSON.stringify(out, null, 2) + "\n");
console.log(JSON.stringify(out.summary));
