// Codegen benchmark: `countersign generate` on GitHub's spec (13 MB, 1223 operations), run from
// the compiled dist/. Reports the median wall time of 3 runs and the peak RSS of each run, and
// writes bench/results/codegen.json. Run after `npx tsc -p tsconfig.build.json`:
//   node bench/codegen.js [--runs N] [--spec FILE]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const runs = Number(opt("--runs", "3"));
const spec = opt("--spec", "test/fixtures/specs/stress-github-api.github.com.json.gz");
const out = "bench/results/tmp/codegen-github";
const TARGET_MS = 10_000;
const TARGET_RSS = 1024 ** 3;

if (!existsSync(path.join(root, "dist/src/cli/main.js"))) {
  console.error("bench/codegen: dist/ is missing; run `npx tsc -p tsconfig.build.json` first");
  process.exit(2);
}
const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
mkdirSync(path.join(root, "bench/results/tmp"), { recursive: true });

const samples = [];
for (let i = 0; i < runs; i++) {
  const cli = ["bin/countersign.js", "generate", "--spec", spec, "--out", out];
  // /usr/bin/time -f %M prints the child's peak RSS in KiB on its last stderr line.
  const [cmd, argv] = timeBin ? [timeBin, ["-f", "maxrss_kib=%M cpu_user_s=%U cpu_sys_s=%S", process.execPath, ...cli]] : [process.execPath, cli];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd: root, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    process.exit(1);
  }
  const m = /maxrss_kib=(\d+)/.exec(r.stderr ?? "");
  const rssBytes = m ? Number(m[1]) * 1024 : undefined;
  const cpu = /cpu_user_s=([\d.]+) cpu_sys_s=([\d.]+)/.exec(r.stderr ?? "");
  const cpuMs = cpu ? Math.round((Number(cpu[1]) + Number(cpu[2])) * 1000) : undefined;
  samples.push({ wallMs: Math.round(ms), cpuMs, peakRssBytes: rssBytes, loadAverage1m: Number(os.loadavg()[0].toFixed(2)), summary: r.stdout.trim().split("\n")[0] });
  console.log(`run ${i + 1}/${runs}: ${Math.round(ms)} ms wall, ${cpuMs ?? "n/a"} ms CPU, peak RSS ${rssBytes ? (rssBytes / 2 ** 20).toFixed(0) + " MiB" : "n/a"}, load ${os.loadavg()[0].toFixed(1)}`);
}
rmSync(path.join(root, out), { recursive: true, force: true });

// The same spec without upstream.d.ts (openapi-typescript), in memory: the generator's own cost.
const toolsOnlyScript = `
  const { generate } = await import(${JSON.stringify(path.join(root, "dist/codegen/generate.js"))});
  const c0 = process.cpuUsage(); const t0 = performance.now();
  const r = await generate({ specPath: ${JSON.stringify(spec)}, command: "bench", upstreamTypes: false });
  const c = process.cpuUsage(c0);
  if (!r.ok) { console.error(r.error); process.exit(1); }
  console.log(JSON.stringify({ wallMs: Math.round(performance.now() - t0), cpuMs: Math.round((c.user + c.system) / 1000), peakRssBytes: process.resourceUsage().maxRSS * 1024, tools: r.summary.tools, excluded: r.summary.excluded }));
`;
const toolsOnly = [];
for (let i = 0; i < runs; i++) {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", toolsOnlyScript], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  toolsOnly.push(JSON.parse(r.stdout.trim()));
}
const mid = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const toolsOnlySummary = {
  medianWallMs: mid(toolsOnly.map((x) => x.wallMs)),
  medianCpuMs: mid(toolsOnly.map((x) => x.cpuMs)),
  peakRssMiB: Math.round(Math.max(...toolsOnly.map((x) => x.peakRssBytes)) / 2 ** 20),
  tools: toolsOnly[0].tools,
  excluded: toolsOnly[0].excluded,
};
console.log(`tools only (no upstream types, in memory): median ${toolsOnlySummary.medianWallMs} ms wall, ${toolsOnlySummary.medianCpuMs} ms CPU, peak RSS ${toolsOnlySummary.peakRssMiB} MiB`);

const sorted = samples.map((s) => s.wallMs).sort((a, b) => a - b);
const medianMs = sorted[Math.floor(sorted.length / 2)];
const cpuSorted = samples.map((s) => s.cpuMs ?? 0).sort((a, b) => a - b);
const medianCpuMs = cpuSorted[Math.floor(cpuSorted.length / 2)] || null;
const peak = Math.max(...samples.map((s) => s.peakRssBytes ?? 0));
const result = {
  benchmark: "codegen",
  command: `node bin/countersign.js generate --spec ${spec} --out ${out}`,
  spec,
  runs,
  medianWallMs: medianMs,
  medianCpuMs,
  peakRssBytes: peak || null,
  peakRssMiB: peak ? Math.round(peak / 2 ** 20) : null,
  targets: { wallMs: TARGET_MS, peakRssBytes: TARGET_RSS },
  withinTargets: medianMs < TARGET_MS && (!peak || peak < TARGET_RSS),
  // On a busy shared machine wall time mostly measures waiting; CPU time is what the run costs.
  cpuWithinTarget: medianCpuMs !== null && medianCpuMs < TARGET_MS,
  samples,
  toolsOnly: toolsOnlySummary,
  machine: { cpus: os.cpus().length, loadAverage1m: Number(os.loadavg()[0].toFixed(2)), node: process.version },
  note: "Wall time is for the whole CLI process (start-up, parse, tools, openapi-typescript types, atomic write). The machine is shared: CPU time (user + sys) is the load-independent figure; loadAverage1m shows how busy the machine was.",
};
mkdirSync(path.join(root, "bench/results"), { recursive: true });
writeFileSync(path.join(root, "bench/results/codegen.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(`median ${medianMs} ms wall, ${medianCpuMs ?? "n/a"} ms CPU, peak RSS ${result.peakRssMiB ?? "n/a"} MiB (targets < ${TARGET_MS} ms, < 1024 MiB); wrote bench/results/codegen.json`);
