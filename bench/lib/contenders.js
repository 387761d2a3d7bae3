/**
 * The contenders: how to prepare each one for a spec (generate, install, build) and how to start
 * it as a separate process that the harness's SDK client talks to.
 *
 * Every contender is started against the same upstream (bench/lib/upstream-server.js) and the
 * same spec. Countersign runs with `--mode all` so it lists the same tools as the peers, and with
 * rate limits raised so the benchmark measures speed, not the limiter.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { freePort, httpClient, sleep, listAllTools, runCommand, spawnServer, stdioClient, waitForPort } from "./procs.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const PEERS_DIR = join(ROOT, "bench/.peers");
const CLI = join(ROOT, "bin/countersign.js");
const NODE = process.execPath;

const OMG_BIN = join(PEERS_DIR, "node_modules/openapi-mcp-generator/bin/openapi-mcp-generator.js");
const IVOTOBY_BIN = join(PEERS_DIR, "node_modules/@ivotoby/openapi-mcp-server/bin/mcp-server.js");

/** Installs the peers into bench/.peers (gitignored), outside the project's package.json. */
export async function installPeers(log) {
  if (existsSync(OMG_BIN) && existsSync(IVOTOBY_BIN)) return { installed: false };
  mkdirSync(PEERS_DIR, { recursive: true });
  if (!existsSync(join(PEERS_DIR, "package.json"))) writeFileSync(join(PEERS_DIR, "package.json"), JSON.stringify({ name: "countersign-bench-peers", private: true }, null, 2));
  log("installing peers into bench/.peers (npm) …");
  const r = await runCommand("npm", ["install", "--no-audit", "--no-fund", "openapi-mcp-generator", "@ivotoby/openapi-mcp-server"], { cwd: PEERS_DIR });
  if (r.code !== 0) throw new Error(`npm install of the peers failed: ${r.stderr.slice(-2000)}`);
  return { installed: true };
}

function gitHead() {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/** Versions of everything measured, read from the installed package.json files. */
export function versions() {
  const read = (p) => {
    try {
      return JSON.parse(readFileSync(p, "utf8")).version;
    } catch {
      return undefined;
    }
  };
  // bin/countersign.js starts stdio/serve from dist/bundle/ when that bundle is as new as dist/.
  let entry = "dist/ (unbundled)";
  try {
    if (statSync(join(ROOT, "dist/bundle/serve.js")).mtimeMs >= statSync(join(ROOT, "dist/src/cli/main.js")).mtimeMs) entry = "dist/bundle/ (esbuild bundle)";
  } catch {
    // no bundle built
  }
  return {
    countersign: `${read(join(ROOT, "package.json"))}, runtime from ${entry}, commit ${gitHead()}`,
    "@modelcontextprotocol/sdk (harness, floor, countersign)": read(join(ROOT, "node_modules/@modelcontextprotocol/sdk/package.json")),
    "openapi-mcp-generator": read(join(PEERS_DIR, "node_modules/openapi-mcp-generator/package.json")),
    "@ivotoby/openapi-mcp-server": read(join(PEERS_DIR, "node_modules/@ivotoby/openapi-mcp-server/package.json")),
  };
}

// ---------------------------------------------------------------------------------------------
// Per-spec preparation

/** Countersign: `countersign generate` into a temp folder (timed), and one bench token. */
export async function prepareCountersign(spec, work) {
  const out = join(work, `countersign-${spec.name}`);
  const gen = await runCommand(NODE, [CLI, "generate", "--spec", spec.path, "--out", out]);
  if (gen.code !== 0) throw new Error(`countersign generate failed: ${gen.stderr.slice(-2000)}`);
  const dataTemplate = join(work, `countersign-data-${spec.name}`);
  mkdirSync(dataTemplate, { recursive: true });
  const mint = await runCommand(NODE, [CLI, "tokens", "create", "--name", "bench", "--json"], { env: { COUNTERSIGN_DATA_DIR: dataTemplate } });
  if (mint.code !== 0) throw new Error(`countersign tokens create failed: ${mint.stderr.slice(-2000)}`);
  const { token } = JSON.parse(mint.stdout);
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  return { generatedDir: out, dataTemplate, token, generation_ms: gen.ms, tools: manifest.tools.length, summary: `${gen.stdout}\n${gen.stderr}`.trim().split("\n").filter((l) => /tools in/.test(l)).pop() };
}

/**
 * openapi-mcp-generator: generate its Streamable HTTP server (timed), `npm install` and
 * `npm run build` as its README says. The build is reused when the generated source is unchanged
 * (its time is kept from the run that did it), because tsc over GitHub's 2 MB of generated
 * TypeScript takes minutes on this machine.
 */
export async function prepareOmg(spec, work, log, transport = "streamable-http") {
  const dir = join(PEERS_DIR, "work", `omg-${spec.name}-${transport}`);
  const port = await freePort();
  const t0 = performance.now();
  // Generated into a fresh folder so the timing is of generation alone; then copied over the
  // long-lived project folder whose node_modules and build are reused.
  const fresh = mkdtempSync(join(work, `omg-${spec.name}-${transport}-`));
  const gen = await runCommand(NODE, [OMG_BIN, "-i", spec.path, "-o", fresh, "-t", transport, "-p", String(port), "-b", spec.baseUrlPlaceholder, "--force"]);
  const generation_ms = performance.now() - t0;
  if (gen.code !== 0) return { error: `generation failed (exit ${gen.code}): ${(gen.stderr || gen.stdout).slice(-1500)}`, generation_ms };
  const src = readFileSync(join(fresh, "src/index.ts"), "utf8");
  mkdirSync(dir, { recursive: true });
  const stampPath = join(dir, ".bench-stamp.json");
  const stamp = existsSync(stampPath) ? JSON.parse(readFileSync(stampPath, "utf8")) : {};
  // The baked-in port and the generation timestamp change every run; nothing else should.
  const srcKey = createHash("sha256").update(src.replace(/Generated on: .*/, "").replace(/\b\d{4,5}\b/g, "PORT")).digest("hex");
  cpSync(fresh, dir, { recursive: true });
  if (!existsSync(join(dir, "node_modules"))) {
    const sibling = ["workspace", "github"].flatMap((n) => ["streamable-http", "stdio"].map((t) => join(PEERS_DIR, "work", `omg-${n}-${t}`, "node_modules"))).find((p) => existsSync(p));
    if (sibling) cpSync(sibling, join(dir, "node_modules"), { recursive: true });
    else {
      log(`openapi-mcp-generator (${spec.name}): npm install …`);
      const inst = await runCommand("npm", ["install", "--no-audit", "--no-fund"], { cwd: dir });
      if (inst.code !== 0) return { error: `npm install failed: ${inst.stderr.slice(-1500)}`, generation_ms };
    }
  }
  let build_ms = stamp.build_ms;
  let buildReused = true;
  if (stamp.srcKey !== srcKey || !existsSync(join(dir, "build/index.js"))) {
    log(`openapi-mcp-generator (${spec.name}, ${transport}): npm run build (tsc) …`);
    const b = await runCommand("npm", ["run", "build"], { cwd: dir, timeoutMs: 1_800_000 });
    build_ms = b.ms;
    buildReused = false;
    // tsc emits even when it reports type errors; the error is recorded and the emitted server run anyway.
    const build_error = b.code === 0 ? undefined : `npm run build exited ${b.code}: ${b.stdout.split("\n").filter((l) => /error TS/.test(l)).slice(0, 3).join("; ") || b.stderr.slice(-500)}`;
    if (!existsSync(join(dir, "build/index.js"))) return { error: build_error ?? "build produced no build/index.js", generation_ms, build_ms };
    writeFileSync(stampPath, JSON.stringify({ srcKey, build_ms, build_error }));
    stamp.build_error = build_error;
  } else {
    // Same source except the port: rebuild only index.js's port cheaply by patching the output.
    const built = join(dir, "build/index.js");
    writeFileSync(built, readFileSync(built, "utf8").replace(/setupStreamableHttpServer\(server, \d+\)/, `setupStreamableHttpServer(server, ${port})`));
  }
  return { dir, port, generation_ms, build_ms, build_reused: buildReused, ...(stamp.build_error ? { build_error: stamp.build_error } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Contenders

function countersignEnv(spec, prep, dataDir) {
  return {
    COUNTERSIGN_DATA_DIR: dataDir,
    COUNTERSIGN_RATE_NORMAL: "1000000000",
    COUNTERSIGN_RATE_SENSITIVE: "1000000000",
    COUNTERSIGN_MODE: "all",
    COUNTERSIGN_MAX_SESSIONS: "10000",
    COUNTERSIGN_UPSTREAM_URL: spec.upstreamUrl,
    COUNTERSIGN_GENERATED_DIR: prep.generatedDir,
    ...prep.extraEnv,
  };
}

function freshDataDir(prep) {
  const d = mkdtempSync(join(tmpdir(), "cs-bench-data-"));
  cpSync(prep.dataTemplate, d, { recursive: true });
  return d;
}

/** Starts an HTTP contender and measures process start → first tools/list answered. */
async function startHttp(command, args, { env, cwd, port, path = "/mcp", headers = {} }) {
  const t0 = performance.now();
  const proc = spawnServer(command, args, { env, cwd });
  try {
    await waitForPort(port, proc);
    const url = `http://127.0.0.1:${port}${path}`;
    const first = await httpClient(url, headers);
    const tools = await listAllTools(first.client);
    const cold_start_ms = performance.now() - t0;
    return {
      pid: proc.pid,
      origin: `http://127.0.0.1:${port}`,
      cold_start_ms,
      tools,
      primary: first,
      transport: "http",
      newSession: () => httpClient(url, headers),
      output: proc.output,
      alive: () => !proc.exitInfo,
      async stop() {
        await first.close();
        await proc.stop();
      },
    };
  } catch (err) {
    await sleep(300);
    const died = proc.exitInfo ? ` — the server exited (${JSON.stringify(proc.exitInfo)}): ${proc.output().slice(-700)}` : "";
    await proc.stop();
    throw new Error(`${err.message}${died}`);
  }
}

/** Starts a stdio contender (the SDK client spawns it) and measures start → first tools/list. */
async function startStdio(command, args, { env, cwd }) {
  const t0 = performance.now();
  const s = await stdioClient(command, args, { env, cwd });
  try {
    const tools = await listAllTools(s.client);
    const cold_start_ms = performance.now() - t0;
    return {
      pid: s.pid,
      cold_start_ms,
      tools,
      primary: s,
      transport: "stdio",
      newSession: null,
      output: s.output,
      alive: () => true,
      stop: () => s.close(),
    };
  } catch (err) {
    await s.close();
    throw err;
  }
}

/** Countersign's three ways of serving, started from the checkout whose bin is `cli`; `suffix` tells builds apart. */
function countersignContenders(cli, suffix = "", note = "") {
  return [
    {
      id: `countersign-http${suffix}`,
      label: `Countersign (Streamable HTTP, stateful)${note}`,
      family: "countersign",
      async start(spec, prep) {
        const port = await freePort();
        const p = prep.countersign;
        return startHttp(NODE, [cli, "serve", "--port", String(port), "--host", "127.0.0.1"], { env: countersignEnv(spec, p, freshDataDir(p)), port, headers: { Authorization: `Bearer ${p.token}` } });
      },
    },
    {
      id: `countersign-stateless${suffix}`,
      label: `Countersign (Streamable HTTP, --stateless)${note}`,
      family: "countersign",
      async start(spec, prep) {
        const port = await freePort();
        const p = prep.countersign;
        return startHttp(NODE, [cli, "serve", "--port", String(port), "--host", "127.0.0.1", "--stateless"], { env: countersignEnv(spec, p, freshDataDir(p)), port, headers: { Authorization: `Bearer ${p.token}` } });
      },
    },
    {
      id: `countersign-stdio${suffix}`,
      label: `Countersign (stdio)${note}`,
      family: "countersign",
      async start(spec, prep) {
        const p = prep.countersign;
        return startStdio(NODE, [cli, "stdio"], { env: { ...countersignEnv(spec, p, freshDataDir(p)), MCP_TOKEN: p.token } });
      },
    },
  ];
}

/**
 * COUNTERSIGN_BENCH_BASE=DIR adds a second, built checkout (say, of the previous commit) as
 * `countersign-*-base`, measured in the same run on the same generated tools and token.
 */
const BASE = process.env.COUNTERSIGN_BENCH_BASE;

/** The contender list; `prep` holds each one's per-spec preparation. */
export const CONTENDERS = [
  ...countersignContenders(CLI),
  ...(BASE ? countersignContenders(join(BASE, "bin/countersign.js"), "-base", ` [base: ${BASE}]`) : []),
  {
    id: "floor-http",
    label: "Floor: minimal SDK server, one fetch (Streamable HTTP)",
    family: "floor",
    async start(spec) {
      const port = await freePort();
      return startHttp(NODE, [join(ROOT, "bench/peers/floor.js"), "--transport", "http", "--port", String(port), "--upstream", spec.upstreamUrl, "--path", spec.read.floorPath, "--tool", spec.read.floorTool], { port });
    },
  },
  {
    id: "floor-stdio",
    label: "Floor: minimal SDK server, one fetch (stdio)",
    family: "floor",
    async start(spec) {
      return startStdio(NODE, [join(ROOT, "bench/peers/floor.js"), "--transport", "stdio", "--upstream", spec.upstreamUrl, "--path", spec.read.floorPath, "--tool", spec.read.floorTool], {});
    },
  },
  {
    id: "openapi-mcp-generator-http",
    label: "openapi-mcp-generator (generated server, Streamable HTTP)",
    family: "peer",
    async start(spec, prep) {
      const p = prep.omg;
      if (!p || p.error) throw new Error(p?.error ?? "not prepared");
      return startHttp(NODE, [join(p.dir, "build/index.js")], { cwd: p.dir, env: { API_BASE_URL: spec.upstreamUrl + spec.basePath }, port: p.port });
    },
  },
  {
    id: "openapi-mcp-generator-stdio",
    label: "openapi-mcp-generator (generated server, stdio)",
    family: "peer",
    async start(spec, prep) {
      const p = prep.omgStdio;
      if (!p || p.error) throw new Error(p?.error ?? "not prepared");
      return startStdio(NODE, [join(p.dir, "build/index.js")], { cwd: p.dir, env: { API_BASE_URL: spec.upstreamUrl + spec.basePath } });
    },
  },
  {
    id: "ivotoby-http",
    label: "@ivotoby/openapi-mcp-server (Streamable HTTP)",
    family: "peer",
    async start(spec) {
      const port = await freePort();
      return startHttp(NODE, [IVOTOBY_BIN, "--transport", "http", "--port", String(port), "--host", "127.0.0.1", "--api-base-url", spec.upstreamUrl + spec.basePath, "--openapi-spec", spec.path], { port });
    },
  },
  {
    id: "ivotoby-stdio",
    label: "@ivotoby/openapi-mcp-server (stdio)",
    family: "peer",
    async start(spec) {
      return startStdio(NODE, [IVOTOBY_BIN, "--transport", "stdio", "--api-base-url", spec.upstreamUrl + spec.basePath, "--openapi-spec", spec.path], {});
    },
  },
];

/** Finds the contender's name for the spec's read tool (names differ: get_project, getProject, get-project …). */
export function findReadTool(tools, spec) {
  const norm = (s) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  const wanted = spec.read.names.map(norm);
  return tools.find((t) => wanted.includes(norm(t.name)))?.name;
}
