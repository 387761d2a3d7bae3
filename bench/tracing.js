/**
 * What tracing costs a tools/call: sequential p50 of one read tool through `countersign serve`
 * with tracing off, and with OTEL_* pointing at a local OTLP/HTTP collector (a node:http server in
 * this process that counts the spans it receives), side by side. Rounds interleave the two so the
 * machine's drift hits both alike; the ratio of the medians is the figure (target ≤ 1.10).
 *
 *   node bench/tracing.js            (needs dist/: make build)
 *   BENCH_CALLS=1000 node bench/tracing.js
 *
 * Writes bench/results/tracing.json.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { emitHandMade } from "../dist/codegen/emit.js";
import { median, round, summarize } from "./lib/stats.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "bin/countersign.js");
const CALLS = Number(process.env.BENCH_CALLS ?? 500);
const ROUNDS = 5;
const WARMUP = 100;

const work = mkdtempSync(join(tmpdir(), "cs-bench-tracing-"));
const children = [];
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

/** Spawns a process and resolves with the first match of `pattern` on its stdout or stderr. */
function start(args, env, pattern) {
  const child = spawn("node", args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (c) => {
      seen += c.toString();
      const m = pattern.exec(seen);
      if (m) resolve(m);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}: ${seen}`)));
  });
}

// The collector: accepts OTLP JSON and counts spans, as a local agent would (it does not store them).
let spans = 0;
const collector = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.url === "/v1/traces") for (const r of JSON.parse(Buffer.concat(chunks).toString()).resourceSpans ?? []) for (const s of r.scopeSpans ?? []) spans += s.spans.length;
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
await new Promise((r) => collector.listen(0, "127.0.0.1", r));

const generated = join(work, "generated");
mkdirSync(generated, { recursive: true });
const tools = JSON.parse(readFileSync(join(ROOT, "test/fixtures/tools/fixture-api.json"), "utf8"));
for (const [file, text] of emitHandMade("fixture", tools, "bench fixture")) writeFileSync(join(generated, file), text);
const env = { COUNTERSIGN_RATE_NORMAL: "100000000", COUNTERSIGN_LOG_LEVEL: "warn" };

const up = await start([join(ROOT, "bench/lib/upstream-server.js")], {}, /listening (\d+)/);
const gatewayEnv = { ...env, COUNTERSIGN_UPSTREAM_URL: `http://127.0.0.1:${up[1]}`, COUNTERSIGN_GENERATED_DIR: generated };
const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.address().port}`, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" };

// Each gateway has its own data dir (two serve processes on one would share its audit index) and token.
async function contender(name, extraEnv) {
  const dataEnv = { ...gatewayEnv, COUNTERSIGN_DATA_DIR: join(work, name), ...extraEnv };
  const minted = spawnSync("node", [CLI, "tokens", "create", "--name", "bench", "--json"], { env: { ...process.env, ...dataEnv }, encoding: "utf8" });
  if (minted.status !== 0) throw new Error(`tokens create failed: ${minted.stderr}`);
  const token = JSON.parse(minted.stdout).token;
  const m = await start([CLI, "serve", "--port", "0"], dataEnv, /listening on (http:\/\/\S+)/);
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(m[1]), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return async () => {
    const r = await client.callTool({ name: "get_item", arguments: { item_id: "6f1f3c1e" } });
    if (r.isError) throw new Error(JSON.stringify(r.content));
  };
}
const contenders = { off: await contender("off", {}), on: await contender("on", otel) };

for (const call of Object.values(contenders)) for (let i = 0; i < WARMUP; i++) await call();
const samples = { off: [], on: [] };
const p50s = { off: [], on: [] };
for (let round_ = 0; round_ < ROUNDS; round_++) {
  for (const [name, call] of round_ % 2 === 0 ? Object.entries(contenders) : Object.entries(contenders).reverse()) {
    const these = [];
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await call();
      these.push(performance.now() - t);
    }
    samples[name].push(...these);
    p50s[name].push(summarize(these).p50_ms);
  }
}
const result = {
  date: new Date().toISOString(),
  command: `BENCH_CALLS=${CALLS} node bench/tracing.js`,
  loadavg: loadavg().map((x) => round(x, 1)),
  calls_per_round: CALLS,
  rounds: ROUNDS,
  off: summarize(samples.off),
  on: summarize(samples.on),
  p50_per_round_ms: p50s,
  ratio_p50: round(median(p50s.on) / median(p50s.off)),
  spans_received: spans,
};
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/tracing.json"), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `tracing off: p50 ${round(median(p50s.off))} ms\ntracing on:  p50 ${round(median(p50s.on))} ms (local collector, ${spans} spans received)\nratio on/off (median of per-round p50s): ${result.ratio_p50}\n`,
);
process.exit(0);
