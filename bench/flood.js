#!/usr/bin/env node
/**
 * Flood: unauthenticated, malformed and over-quota traffic, as fast as the flooders can send it,
 * at a running gateway (`countersign serve`, a child process) while one authenticated client keeps
 * calling a read tool. Measures the client's latency quiet and under the flood (p50, p99 and their
 * ratio) and checks that none of its audit records is lost (every call it made is in the trail).
 *
 *   node bench/flood.js [--seconds 20] [--flooders 16] [--out FILE]
 *
 * Writes bench/results/flood.json (or --out). Needs `make build`. The test suite runs a short
 * profile of the same loop (test/e2e/flood.test.ts).
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { percentile, round } from "./lib/stats.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "bin/countersign.js");

const SPEC = {
  openapi: "3.0.3",
  info: { title: "Flood", version: "1" },
  servers: [{ url: "/api" }],
  paths: {
    "/items/{id}": {
      get: {
        operationId: "getItem",
        tags: ["items"],
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: { 200: { description: "ok", content: { "application/json": { schema: { type: "object" } } } } },
      },
    },
  },
};

const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/** A tools/call of the read tool. */
function callBody(id, itemId) {
  return JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "get_item", arguments: { id: itemId } } });
}

async function startUpstream() {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"id":"1","name":"item"}'));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

async function startGateway(env, generated) {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--host", "127.0.0.1", "--stateless", "--generated", generated], { env, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (c) => (err = (err + c).slice(-8000)));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start:\n${err}`)), 30_000);
    child.stderr.on("data", () => {
      const m = /countersign: listening on (\S+)/.exec(err);
      if (m) (clearTimeout(timer), resolve(m[1]));
    });
  });
  return { child, url };
}

/** The client's calls for `ms` (or `count`), one at a time; their latencies and outcomes. */
async function measure(url, token, { ms, count }, label) {
  const latencies = [];
  let failed = 0;
  const end = Date.now() + (ms ?? Infinity);
  for (let i = 0; (count === undefined || i < count) && Date.now() < end; i++) {
    const started = performance.now();
    const res = await fetch(url, { method: "POST", headers: { ...HEADERS, authorization: `Bearer ${token}` }, body: callBody(i, `${label}-${i}`) });
    const body = await res.json();
    latencies.push(performance.now() - started);
    if (res.status !== 200 || body.result?.isError) failed++;
  }
  return { latencies, failed };
}

function stats(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { calls: sorted.length, p50_ms: round(percentile(sorted, 50)), p99_ms: round(percentile(sorted, 99)) };
}

/** The flooders (in a worker thread): three kinds of traffic, round robin, until told to stop. */
async function flood({ url, greedy, flooders }) {
  const kinds = {
    unauthenticated: (i) => ({ headers: { ...HEADERS, authorization: "Bearer nope" }, body: callBody(i, "x") }),
    malformed: () => ({ headers: { ...HEADERS, authorization: `Bearer ${greedy}` }, body: "{not json" }),
    over_quota: (i) => ({ headers: { ...HEADERS, authorization: `Bearer ${greedy}` }, body: callBody(i, "q") }),
  };
  const sent = { unauthenticated: 0, malformed: 0, over_quota: 0 };
  const statuses = {};
  let stop = false;
  parentPort.once("message", () => (stop = true));
  const names = Object.keys(kinds);
  const running = Array.from({ length: flooders }, async (_, f) => {
    const kind = names[f % names.length];
    for (let i = 0; !stop; i++) {
      const { headers, body } = kinds[kind](i);
      try {
        const res = await fetch(url, { method: "POST", headers, body });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      } catch {
        statuses.error = (statuses.error ?? 0) + 1;
      }
      sent[kind]++;
    }
  });
  parentPort.postMessage("started");
  await Promise.all(running);
  parentPort.postMessage({ sent, statuses });
}

if (!isMainThread) await flood(workerData);

/**
 * Runs the flood and returns the figures.
 * @param {{ seconds: number, flooders: number, quietCalls?: number }} options
 */
export async function runFlood(options) {
  const work = mkdtempSync(join(tmpdir(), "cs-flood-"));
  const specFile = join(work, "spec.json");
  const generated = join(work, "generated");
  writeFileSync(specFile, JSON.stringify(SPEC));
  execFileSync(process.execPath, [CLI, "generate", "--spec", specFile, "--out", generated], { stdio: "ignore" });
  const upstream = await startUpstream();
  // The over-quota flooder's token is on a tier of 20 calls a minute: almost all it sends is refused.
  const configFile = join(work, "countersign.json");
  // The measured client's tier is roomy: on a fast machine it makes well over the default
  // tier's calls a minute, and what is measured is the flood's effect, not its own limit.
  writeFileSync(configFile, JSON.stringify({ rateLimits: { tiers: { tiny: { normal: 20, sensitive: 5 }, roomy: { normal: 1_000_000, sensitive: 1_000 } } } }));
  const env = { PATH: process.env.PATH ?? "", HOME: work, COUNTERSIGN_CONFIG: configFile, COUNTERSIGN_DATA_DIR: join(work, "data"), COUNTERSIGN_UPSTREAM_URL: `${upstream.url}/api`, COUNTERSIGN_LOG_LEVEL: "warn", COUNTERSIGN_HEAP_TUNING: "off" };
  const mint = (name, ...flags) => JSON.parse(execFileSync(process.execPath, [CLI, "tokens", "create", "--name", name, ...flags, "--json"], { env, encoding: "utf8" }));
  const client = mint("client", "--tier", "roomy");
  const greedy = mint("greedy", "--tier", "tiny");
  const gateway = await startGateway(env, generated);
  try {
    // Warm up, then the quiet baseline.
    await measure(gateway.url, client.token, { count: 50 }, "warm");
    const quiet = await measure(gateway.url, client.token, { count: options.quietCalls ?? 300 }, "quiet");

    // The flood runs in a worker thread of its own, so its answers never queue behind the client's
    // on this thread's event loop (which would measure the load generator, not the gateway).
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { url: gateway.url, greedy: greedy.token, flooders: options.flooders } });
    await once(worker, "message");
    const flooded = await measure(gateway.url, client.token, { ms: options.seconds * 1000 }, "flood");
    worker.postMessage("stop");
    const [{ sent, statuses }] = await once(worker, "message");
    await worker.terminate();

    // Stop the gateway (it flushes its trail), then count the client's records.
    gateway.child.kill("SIGTERM");
    await once(gateway.child, "exit");
    const auditDir = join(work, "data", "audit");
    const records = readdirSync(auditDir)
      .filter((f) => f.endsWith(".jsonl"))
      .flatMap((f) => readFileSync(join(auditDir, f), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)));
    const clientRecords = records.filter((r) => r.tokenId === client.id && r.tool === "get_item").length;
    const clientCalls = 50 + quiet.latencies.length + flooded.latencies.length;
    const q = stats(quiet.latencies);
    const f = stats(flooded.latencies);
    return {
      date: new Date().toISOString(),
      load_average: round(loadavg()[0], 2),
      seconds: options.seconds,
      flooders: options.flooders,
      flood_requests: sent,
      flood_requests_per_s: round((sent.unauthenticated + sent.malformed + sent.over_quota) / options.seconds, 0),
      flood_statuses: statuses,
      quiet: { ...q, failed: quiet.failed },
      flooded: { ...f, failed: flooded.failed },
      p99_ratio: round(f.p99_ms / q.p99_ms, 2),
      p50_ratio: round(f.p50_ms / q.p50_ms, 2),
      client_calls: clientCalls,
      client_audit_records: clientRecords,
      audit_records_lost: clientCalls - clientRecords,
    };
  } finally {
    if (gateway.child.exitCode === null) gateway.child.kill("SIGKILL");
    await upstream.close();
  }
}

if (isMainThread && import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "20" }, flooders: { type: "string", default: "16" }, out: { type: "string" } } });
  const result = await runFlood({ seconds: Number(values.seconds), flooders: Number(values.flooders) });
  const out = values.out ?? join(ROOT, "bench/results/flood.json");
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}
