/**
 * The MCP 2026-07-28 path beside the 2025 one and two floors, per call of one read tool of the
 * bundled spec (get_project), every server in its own process behind the same local upstream:
 *
 *   raw-floor        a node:http JSON-RPC handler making the same upstream request, no MCP SDK
 *   sdk-v2-floor     the SDK v2 minimal server: createMcpHandler + low-level Server, one tool
 *   countersign-2026 `countersign serve`, stateless 2026-07-28 requests (envelope + Mcp-* headers)
 *   countersign-2025 the same server, a 2025-11-25 session (initialize, then Mcp-Session-Id)
 *   before-2026      (with --before DIR) the 2026-07-28 requests on another checkout's build, e.g. main
 *   before-2025      (with --before DIR) the 2025 session on that build
 *
 * The client is one keep-alive node:http agent sending raw JSON-RPC POSTs, sequentially, in
 * interleaved rounds whose order is shuffled, so drift hits every contender alike.
 *
 *   node bench/protocol.js [--quick] [--before /path/to/other/checkout] [--out bench/results]
 *
 * Writes protocol.json (raw figures) to --out and prints a table.
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { ROOT } from "./lib/contenders.js";
import { runCommand, sleep, spawnServer } from "./lib/procs.js";
import { round, shuffle, summarize } from "./lib/stats.js";

const { values: opts } = parseArgs({ options: { quick: { type: "boolean", default: false }, before: { type: "string" }, out: { type: "string", default: join(ROOT, "bench/results") } } });
const P = opts.quick ? { warmup: 200, rounds: 4, perRound: 100 } : { warmup: 500, rounds: 10, perRound: 200 };
const log = (msg) => process.stderr.write(`[protocol ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const TOOL = "get_project";
const ARGS = { project_id: "6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10" };
const MODERN = "2026-07-28";
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" },
};
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One POST; resolves to the status, headers and JSON-RPC message (a JSON body or the SSE event carrying it). */
async function post(url, headers, body) {
  try {
    return await postOnce(url, headers, body);
  } catch (err) {
    // A keep-alive socket the server closed between two calls: the request never reached it.
    if (err.code !== "ECONNRESET") throw err;
    return postOnce(url, headers, body);
  }
}

function postOnce(url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const data = (res.headers["content-type"] ?? "").includes("text/event-stream") ? text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5)).pop() : text;
        resolve({ status: res.statusCode, headers: res.headers, message: data ? JSON.parse(data) : undefined });
      });
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

async function start(label, args, env = {}) {
  const proc = spawnServer(process.execPath, args, { env });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const m = /listening (?:on http:\/\/127\.0\.0\.1:)?(\d+)/.exec(proc.output());
    if (m) {
      procs.push(proc);
      return { proc, base: `http://127.0.0.1:${m[1]}` };
    }
    if (proc.exitInfo) break;
    await sleep(20);
  }
  await proc.stop();
  throw new Error(`${label} did not start:\n${proc.output()}`);
}

let nextId = 1;
const callBody = (meta) => ({ jsonrpc: "2.0", id: nextId++, method: "tools/call", params: { name: TOOL, arguments: ARGS, ...(meta ? { _meta: meta } : {}) } });

/** A contender: `call()` makes one tools/call and throws unless it succeeded. */
function plainCaller(url, headers, meta) {
  return async () => {
    const r = await post(url, headers, callBody(meta));
    if (r.status !== 200 || !r.message?.result || r.message.result.isError) throw new Error(`call failed: ${r.status} ${JSON.stringify(r.message).slice(0, 300)}`);
  };
}

async function sessionCaller(url, token) {
  const auth = { authorization: `Bearer ${token}` };
  const init = await post(url, auth, { jsonrpc: "2.0", id: nextId++, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "1" } } });
  const sid = init.headers["mcp-session-id"];
  if (!sid) throw new Error(`no session: ${init.status} ${JSON.stringify(init.message)}`);
  const headers = { ...auth, "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };
  await post(url, headers, { jsonrpc: "2.0", method: "notifications/initialized" });
  return plainCaller(url, headers);
}

/** Every process the run starts, stopped however the run ends. */
const procs = [];

async function main() {
  const upstream = spawnServer(process.execPath, [join(ROOT, "bench/lib/upstream-server.js")]);
  procs.push(upstream);
  let upstreamUrl;
  for (let i = 0; i < 500 && !upstreamUrl; i++) {
    const m = /listening (\d+)/.exec(upstream.output());
    if (m) upstreamUrl = `http://127.0.0.1:${m[1]}`;
    else await sleep(20);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "cs-bench-protocol-"));
  const mint = await runCommand(process.execPath, [join(ROOT, "bin/countersign.js"), "tokens", "create", "--name", "bench", "--json"], { env: { COUNTERSIGN_DATA_DIR: dataDir } });
  const { token } = JSON.parse(mint.stdout);
  // The other build's own data dir (a copy holding the same token): two gateways never share one.
  const beforeData = mkdtempSync(join(tmpdir(), "cs-bench-protocol-before-"));
  cpSync(dataDir, beforeData, { recursive: true });
  const gatewayEnv = (dir) => ({ COUNTERSIGN_DATA_DIR: dir, COUNTERSIGN_RATE_NORMAL: "1000000000", COUNTERSIGN_MODE: "all", COUNTERSIGN_UPSTREAM_URL: `${upstreamUrl}/v1`, COUNTERSIGN_LOG_LEVEL: "warn" });
  const floorArgs = ["--upstream", upstreamUrl, "--path", "/v1/projects/{project_id}", "--tool", TOOL, "--port", "0"];

  const servers = [];
  const contenders = {};
  const raw = await start("raw-floor", [join(ROOT, "bench/peers/raw-floor.js"), ...floorArgs]);
  servers.push(raw);
  contenders["raw-floor"] = plainCaller(`${raw.base}/mcp`, {});
  const v2 = await start("sdk-v2-floor", [join(ROOT, "bench/peers/floor-v2.js"), ...floorArgs]);
  servers.push(v2);
  contenders["sdk-v2-floor"] = plainCaller(`${v2.base}/mcp`, { "mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": TOOL }, ENVELOPE);
  const cs = await start("countersign", [join(ROOT, "bin/countersign.js"), "serve", "--port", "0", "--host", "127.0.0.1"], gatewayEnv(dataDir));
  servers.push(cs);
  contenders["countersign-2026"] = plainCaller(`${cs.base}/mcp`, { authorization: `Bearer ${token}`, "mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": TOOL }, ENVELOPE);
  contenders["countersign-2025"] = await sessionCaller(`${cs.base}/mcp`, token);
  if (opts.before) {
    const before = await start("before", [join(opts.before, "bin/countersign.js"), "serve", "--port", "0", "--host", "127.0.0.1"], gatewayEnv(beforeData));
    servers.push(before);
    contenders["before-2026"] = plainCaller(`${before.base}/mcp`, { authorization: `Bearer ${token}`, "mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": TOOL }, ENVELOPE);
    contenders["before-2025"] = await sessionCaller(`${before.base}/mcp`, token);
  }

  const names = Object.keys(contenders);
  log(`warming up ${names.join(", ")}`);
  for (const n of names) {
    try {
      for (let i = 0; i < P.warmup; i++) await contenders[n]();
    } catch (err) {
      throw new Error(`${n}: ${err.message}\n${servers.map((s) => s.proc.output()).join("\n---\n")}`);
    }
  }
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < P.rounds; r++) {
    for (const n of shuffle([...names])) {
      for (let i = 0; i < P.perRound; i++) {
        const t0 = performance.now();
        await contenders[n]();
        samples[n].push(performance.now() - t0);
      }
    }
    log(`round ${r + 1}/${P.rounds}`);
  }
  const stats = Object.fromEntries(names.map((n) => [n, summarize(samples[n])]));
  const floor = stats["raw-floor"].p50_ms;
  const rows = names.map((n) => ({ contender: n, ...stats[n], p50_vs_raw_floor: round(stats[n].p50_ms / floor, 2), p50_vs_sdk_v2_floor: round(stats[n].p50_ms / stats["sdk-v2-floor"].p50_ms, 2) }));
  const result = { date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() }, node: process.version, params: P, quick: opts.quick, before: opts.before ? "another checkout's build (--before)" : null, rows };
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, "protocol.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log("| contender | p50 ms | p90 ms | p99 ms | p50 / raw floor | p50 / SDK v2 floor |\n|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.contender} | ${r.p50_ms} | ${r.p90_ms} | ${r.p99_ms} | ${r.p50_vs_raw_floor} | ${r.p50_vs_sdk_v2_floor} |`);
}

try {
  await main();
} finally {
  await Promise.all(procs.map((p) => p.stop()));
  agent.destroy();
}
