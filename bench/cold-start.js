/**
 * Cold start (issue 3, issue 10): process spawned → first `tools/list` answered, with GitHub's
 * tools (mode all: every tool listed), over stdio and over Streamable HTTP; CPU time used by then
 * and resident memory after the full list. The client is raw JSON-RPC over a pipe or fetch, so the
 * harness adds as little as possible to what is measured.
 *
 * Several builds can be measured side by side in one run (rounds interleave them, so the
 * machine's drift hits all alike): `--cli NAME=PATH/bin/countersign.js`, repeatable.
 *
 *   node bench/cold-start.js [--runs 7] [--generated DIR] [--cli before=/x/bin/countersign.js --cli after=bin/countersign.js]
 *                            [--env NAME:KEY=VALUE] [--transports stdio,http] [--node-arg=--cpu-prof]
 *
 * Without --generated, GitHub's spec is generated into a temp dir first. Writes
 * bench/results/cold-start.json (or --out FILE).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { median, round } from "./lib/stats.js";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "7" },
    generated: { type: "string" },
    cli: { type: "string", multiple: true },
    transports: { type: "string", default: "stdio,http" },
    out: { type: "string", default: join(ROOT, "bench/results/cold-start.json") },
    "node-arg": { type: "string", multiple: true },
    env: { type: "string", multiple: true },
    note: { type: "string" },
  },
});
const RUNS = Number(values.runs);
const TRANSPORTS = values.transports.split(",");
const CLIS = (values.cli ?? [`current=${join(ROOT, "bin/countersign.js")}`]).map((s) => {
  const eq = s.indexOf("=");
  if (eq < 1) throw new Error(`--cli wants NAME=PATH, got '${s}'`);
  return { name: s.slice(0, eq), path: resolve(s.slice(eq + 1)), env: {} };
});
// --env NAME:KEY=VALUE sets a variable for one build only (e.g. COUNTERSIGN_NO_BUNDLE=1).
for (const e of values.env ?? []) {
  const m = /^([^:]+):([^=]+)=(.*)$/.exec(e);
  const cli = m && CLIS.find((c) => c.name === m[1]);
  if (!cli) throw new Error(`--env wants NAME:KEY=VALUE for a --cli NAME, got '${e}'`);
  cli.env[m[2]] = m[3];
}
const NODE_ARGS = values["node-arg"] ?? [];
const START_LOAD = loadavg().map((x) => round(x, 2));

const work = mkdtempSync(join(tmpdir(), "cs-bench-cold-"));
const live = new Set();
process.on("exit", () => {
  for (const c of live) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

/** CPU time (user + system) a process has used so far, in ms (clock ticks of 10 ms on Linux). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
function rssMb(pid) {
  return round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024, 1);
}

let generated = values.generated && resolve(values.generated);
let generateMs;
if (!generated) {
  generated = join(work, "github");
  const t0 = performance.now();
  const gen = spawnSync(process.execPath, [join(ROOT, "bin/countersign.js"), "generate", "--spec", join(ROOT, "test/fixtures/specs/stress-github-api.github.com.json.gz"), "--out", generated], { encoding: "utf8" });
  if (gen.status !== 0) throw new Error(`generate failed: ${gen.stderr}`);
  generateMs = round(performance.now() - t0, 0);
}
const manifest = JSON.parse(readFileSync(join(generated, "manifest.json"), "utf8"));

const baseEnv = { ...process.env, COUNTERSIGN_DATA_DIR: join(work, "data"), COUNTERSIGN_GENERATED_DIR: generated, COUNTERSIGN_MODE: "all", COUNTERSIGN_UPSTREAM_URL: "http://127.0.0.1:9", LOG_LEVEL: "warn" };
const minted = spawnSync(process.execPath, [CLIS[0].path, "tokens", "create", "--name", "cold", "--json"], { env: baseEnv, encoding: "utf8" });
if (minted.status !== 0) throw new Error(`tokens create failed: ${minted.stderr}`);
const token = JSON.parse(minted.stdout).token;

const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "cold-start", version: "1" } } };
const INITIALIZED = { jsonrpc: "2.0", method: "notifications/initialized" };
const LIST = (id, cursor) => ({ jsonrpc: "2.0", id, method: "tools/list", params: cursor ? { cursor } : {} });

/** Spawned → first tools/list answered over stdio; then every page, RSS, exit. */
async function stdioOnce(cli) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...NODE_ARGS, cli.path, "stdio"], { env: { ...baseEnv, ...cli.env, MCP_TOKEN: token }, stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);
  let stderr = "";
  child.stderr.on("data", (c) => (stderr += c));
  const waiting = new Map();
  let buf = "";
  child.stdout.on("data", (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const msg = JSON.parse(line);
      waiting.get(msg.id)?.(msg);
    }
  });
  const exited = new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`stdio exited ${code}: ${stderr}`))));
  exited.catch(() => undefined);
  const request = (msg) => {
    const answer = new Promise((res) => waiting.set(msg.id, res));
    child.stdin.write(`${JSON.stringify(msg)}\n`);
    return Promise.race([answer, exited]);
  };
  // The client writes initialize at once, as Claude Desktop does; the server reads it when ready.
  await request(INIT);
  child.stdin.write(`${JSON.stringify(INITIALIZED)}\n`);
  let page = await request(LIST(2));
  const firstMs = performance.now() - t0;
  const cpu = cpuMs(child.pid);
  let tools = page.result.tools.length;
  let bytes = JSON.stringify(page.result).length;
  const hash = createHash("sha256").update(JSON.stringify(page.result.tools));
  for (let id = 3; page.result.nextCursor; id++) {
    page = await request(LIST(id, page.result.nextCursor));
    tools += page.result.tools.length;
    bytes += JSON.stringify(page.result).length;
    hash.update(JSON.stringify(page.result.tools));
  }
  const allMs = performance.now() - t0;
  const rss = rssMb(child.pid);
  child.stdin.end();
  await new Promise((res) => (child.exitCode !== null ? res() : child.once("exit", res)));
  live.delete(child);
  return { first_list_ms: firstMs, cpu_ms: cpu, all_pages_ms: allMs, rss_mb: rss, tools, bytes, sha: hash.digest("hex").slice(0, 16) };
}

/** Reads a JSON-RPC answer from a Streamable HTTP response: plain JSON or the first SSE `data:` message. */
async function rpcBody(res) {
  const text = await res.text();
  if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    const data = text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).find((d) => d);
    return JSON.parse(data);
  }
  return JSON.parse(text);
}

/** Spawned → listening → initialize → first tools/list answered over Streamable HTTP (stateful). */
async function httpOnce(cli) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...NODE_ARGS, cli.path, "serve", "--port", "0", "--host", "127.0.0.1"], { env: { ...baseEnv, ...cli.env }, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let seen = "";
  const url = await new Promise((res, reject) => {
    const on = (c) => {
      seen += c;
      const m = /listening on (http:\/\/\S+)/.exec(seen);
      if (m) res(m[1]);
    };
    child.stdout.on("data", on);
    child.stderr.on("data", on);
    child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${seen}`)));
  });
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}` };
  const init = await fetch(url, { method: "POST", headers, body: JSON.stringify(INIT) });
  const session = init.headers.get("mcp-session-id");
  await rpcBody(init);
  const h = { ...headers, ...(session ? { "mcp-session-id": session } : {}), "mcp-protocol-version": INIT.params.protocolVersion };
  await (await fetch(url, { method: "POST", headers: h, body: JSON.stringify(INITIALIZED) })).text();
  let page = await rpcBody(await fetch(url, { method: "POST", headers: h, body: JSON.stringify(LIST(2)) }));
  const firstMs = performance.now() - t0;
  const cpu = cpuMs(child.pid);
  if (!page.result) throw new Error(`tools/list failed: ${JSON.stringify(page)}`);
  let tools = page.result.tools.length;
  let bytes = JSON.stringify(page.result).length;
  const hash = createHash("sha256").update(JSON.stringify(page.result.tools));
  for (let id = 3; page.result.nextCursor; id++) {
    page = await rpcBody(await fetch(url, { method: "POST", headers: h, body: JSON.stringify(LIST(id, page.result.nextCursor)) }));
    tools += page.result.tools.length;
    bytes += JSON.stringify(page.result).length;
    hash.update(JSON.stringify(page.result.tools));
  }
  const allMs = performance.now() - t0;
  const rss = rssMb(child.pid);
  child.kill("SIGTERM");
  await new Promise((res) => (child.exitCode !== null ? res() : child.once("exit", res)));
  live.delete(child);
  return { first_list_ms: firstMs, cpu_ms: cpu, all_pages_ms: allMs, rss_mb: rss, tools, bytes, sha: hash.digest("hex").slice(0, 16) };
}

const measure = { stdio: stdioOnce, http: httpOnce };
const samples = {};
// One warm-up start per build and transport (disk cache, any compile cache), not counted.
for (const cli of CLIS) for (const t of TRANSPORTS) await measure[t](cli);
for (let run = 0; run < RUNS; run++) {
  for (const t of TRANSPORTS) {
    for (const cli of CLIS) {
      const key = `${cli.name}/${t}`;
      (samples[key] ??= []).push(await measure[t](cli));
    }
  }
}

const summary = Object.fromEntries(
  Object.entries(samples).map(([key, runs]) => [
    key,
    {
      first_tools_list_ms: round(median(runs.map((r) => r.first_list_ms)), 0),
      cpu_ms_at_first_list: round(median(runs.map((r) => r.cpu_ms)), 0),
      all_pages_ms: round(median(runs.map((r) => r.all_pages_ms)), 0),
      rss_mb_after_full_list: round(median(runs.map((r) => r.rss_mb)), 1),
      tools_listed: runs[0].tools,
      list_bytes: runs[0].bytes,
      // Every start of every build should list the same tools, byte for byte.
      list_sha256: [...new Set(runs.map((r) => r.sha))].join(" "),
      runs_first_tools_list_ms: runs.map((r) => round(r.first_list_ms, 0)),
    },
  ]),
);

const results = {
  bench: "cold-start",
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, total_mem_gb: round(totalmem() / 2 ** 30, 1), node: process.version, load_average_at_start: START_LOAD, load_average_at_end: loadavg().map((x) => round(x, 2)) },
  method: `median of ${RUNS} fresh processes per build and transport after one uncounted warm-up each, rounds interleaved; spawn → initialize → tools/list answered (raw JSON-RPC client); HTTP: stateful Streamable HTTP, timed from spawn including the wait for 'listening'; mode all; GitHub spec, ${manifest.tools.length} operations in the manifest`,
  ...(values.note ? { note: values.note } : {}),
  ...(generateMs !== undefined ? { generate_ms: generateMs } : {}),
  builds: Object.fromEntries(CLIS.map((c) => [c.name, `${c.path.startsWith(ROOT) ? c.path.slice(ROOT.length) : "(another build of this tree)"}${Object.keys(c.env).length ? ` with ${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(" ")}` : ""}`])),
  node_args: NODE_ARGS,
  results: summary,
  target: "first tools/list under 1000 ms; RSS under 150 MB",
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
