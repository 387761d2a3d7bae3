/**
 * Where Countersign spends its CPU: runs the gateway under `node --cpu-prof`, either through its
 * start-up only (spawn → first tools/list) or through a batch of read calls, and prints the top
 * self-time functions and packages from the .cpuprofile.
 *
 *   node bench/lib/profile.js --spec github --phase startup
 *   node bench/lib/profile.js --spec workspace --phase calls --calls 5000 [--transport stdio|http]
 *   node bench/lib/profile.js --summarize FILE.cpuprofile
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { prepareCountersign, ROOT } from "./contenders.js";
import { freePort, httpClient, listAllTools, sleep, spawnServer, stdioClient, waitForPort } from "./procs.js";

/** Self time by function and by package/file from a V8 .cpuprofile. */
export function summarizeProfile(profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const files = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const url = cf.url.replace(/^file:\/\//, "").split(ROOT).join(".");
    const key = `${cf.functionName || "(anonymous)"} ${url ? `${url}:${cf.lineNumber + 1}` : ""}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith("./dist/") ? url.replace(/^\.\/dist\//, "") : url.startsWith("node:") ? "node: (core)" : url || `(${cf.functionName})`);
    files.set(pkg, (files.get(pkg) ?? 0) + us);
  }
  const rank = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, share: Math.round((us / total) * 1000) / 10 }));
  return { total_ms: Math.round(total / 1000), functions: rank(fns), files: rank(files) };
}

/** Self time of functions named `name`, split by the chain of callers above them (4 frames). */
export function callers(profile, name) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0)));
  const chains = new Map();
  for (const [id, us] of self) {
    if (byId.get(id).callFrame.functionName !== name) continue;
    const frames = [];
    for (let p = parent.get(id); p !== undefined && frames.length < 4; p = parent.get(p)) {
      const cf = byId.get(p).callFrame;
      frames.push(`${cf.functionName || "(anonymous)"}@${cf.url.split("/").slice(-2).join("/")}:${cf.lineNumber + 1}`);
    }
    const key = frames.join(" ← ");
    chains.set(key, (chains.get(key) ?? 0) + us);
  }
  return [`callers of ${name} (self ms):`, ...[...chains.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, us]) => `  ${(us / 1000).toFixed(1)}  ${k}`)].join("\n");
}

function print(summary, title) {
  const out = [`### ${title} (${summary.total_ms} ms sampled)`, "", "| self ms | % | function |", "|---:|---:|---|"];
  for (const f of summary.functions) out.push(`| ${f.ms} | ${f.share} | \`${f.name}\` |`);
  out.push("", "| self ms | % | package / file |", "|---:|---:|---|");
  for (const f of summary.files) out.push(`| ${f.ms} | ${f.share} | \`${f.name}\` |`);
  return out.join("\n");
}

async function main() {
  const { values } = parseArgs({
    options: {
      spec: { type: "string", default: "github" },
      phase: { type: "string", default: "startup" },
      calls: { type: "string", default: "5000" },
      transport: { type: "string", default: "http" },
      summarize: { type: "string" },
      top: { type: "string", default: "25" },
      keep: { type: "string" },
      callers: { type: "string" },
    },
  });
  const top = Number(values.top);
  if (values.summarize) {
    const profile = JSON.parse(readFileSync(values.summarize, "utf8"));
    if (values.callers) process.stdout.write(callers(profile, values.callers) + "\n\n");
    process.stdout.write(print(summarizeProfile(profile, top), values.summarize) + "\n");
    return;
  }
  const work = mkdtempSync(join(tmpdir(), "cs-bench-prof-"));
  const upstream = spawnServer(process.execPath, [join(ROOT, "bench/lib/upstream-server.js")]);
  try {
    await profileRun(values, top, work, upstream);
  } finally {
    await upstream.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function profileRun(values, top, work, upstream) {
  let url;
  while (!url) {
    const m = /listening (\d+)/.exec(upstream.output());
    if (m) url = `http://127.0.0.1:${m[1]}`;
    else await sleep(20);
  }
  const spec =
    values.spec === "github"
      ? { name: "github", path: join(work, "github.json"), basePath: "", read: { tool: "repos_get", args: { owner: "octocat", repo: "hello-world" } } }
      : { name: "workspace", path: join(ROOT, "openapi/workspace.yaml"), basePath: "/v1", read: { tool: "get_project", args: { project_id: "6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10" } } };
  if (values.spec === "github") writeFileSync(spec.path, gunzipSync(readFileSync(join(ROOT, "test/fixtures/specs/stress-github-api.github.com.json.gz"))));
  spec.upstreamUrl = url;
  const prep = await prepareCountersign(spec, work);
  const profDir = join(work, "prof");
  const env = {
    COUNTERSIGN_DATA_DIR: prep.dataTemplate,
    COUNTERSIGN_RATE_NORMAL: "1000000000",
    COUNTERSIGN_MODE: "all",
    COUNTERSIGN_UPSTREAM_URL: url,
    COUNTERSIGN_GENERATED_DIR: prep.generatedDir,
  };
  const nodeArgs = ["--cpu-prof", "--cpu-prof-dir", profDir, "--cpu-prof-interval", "200", join(ROOT, "bin/countersign.js")];
  let session;
  let stop;
  const t0 = performance.now();
  if (values.transport === "stdio") {
    session = await stdioClient(process.execPath, [...nodeArgs, "stdio"], { env: { ...env, MCP_TOKEN: prep.token } });
    stop = () => session.close();
  } else {
    const port = await freePort();
    const proc = spawnServer(process.execPath, [...nodeArgs, "serve", "--port", String(port), "--host", "127.0.0.1"], { env });
    await waitForPort(port, proc);
    session = await httpClient(`http://127.0.0.1:${port}/mcp`, { Authorization: `Bearer ${prep.token}` });
    stop = async () => {
      await session.close();
      await proc.stop();
    };
  }
  const tools = await listAllTools(session.client);
  process.stderr.write(`start → tools/list (${tools.length} tools): ${Math.round(performance.now() - t0)} ms (under --cpu-prof)\n`);
  if (values.phase === "calls") {
    for (let i = 0; i < Number(values.calls); i++) {
      const r = await session.client.callTool({ name: spec.read.tool, arguments: spec.read.args });
      if (r.isError) throw new Error(JSON.stringify(r.content));
    }
  }
  await stop();
  await sleep(500);
  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  if (values.keep) copyFileSync(join(profDir, file), values.keep);
  const profile = JSON.parse(readFileSync(join(profDir, file), "utf8"));
  const summary = summarizeProfile(profile, top);
  if (values.callers) process.stdout.write(callers(profile, values.callers) + "\n\n");
  process.stdout.write(print(summary, `Countersign ${values.transport}, ${spec.name}, ${values.phase}${values.phase === "calls" ? ` (${values.calls} × ${spec.read.tool}, start-up included)` : ""}`) + "\n");
}

// Only as a script: summarizeProfile and callers are importable without side effects.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolvePath(process.argv[1])) {
  main().catch((err) => {
    process.stderr.write(`profile: ${err.stack ?? err}\n`);
    process.exit(1);
  });
}
