/**
 * Where Countersign's cold start goes, phase by phase, inside one fresh process: module imports
 * (the SDK, then the gateway's own graph), loading the generated registry, building the gateway,
 * and answering the first tools/list, with the RSS after each phase. Run beside the floor's figure in peers.md.
 *
 *   node bench/lib/startup-phases.js --generated DIR [--runs 3]
 *
 * With --child it measures once and prints JSON; the parent runs fresh children and takes medians.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values } = parseArgs({ options: { generated: { type: "string" }, runs: { type: "string", default: "3" }, child: { type: "boolean" } } });

async function measure(dir) {
  const marks = { process_to_script_ms: performance.now() };
  let t = performance.now();
  const lap = (name) => {
    const now = performance.now();
    marks[name] = now - t;
    t = now;
    // RSS after each phase (no forced GC: this is what the process holds at that point).
    marks[name.replace(/_ms$/, "_rss_mb")] = process.memoryUsage().rss / 2 ** 20;
  };
  await import("@modelcontextprotocol/sdk/server/index.js");
  await import("@modelcontextprotocol/sdk/server/streamableHttp.js");
  lap("import_sdk_ms");
  const { createGateway } = await import("../../dist/src/app.js");
  const { resolveConfig } = await import("../../dist/src/config.js");
  await import("../../dist/src/transports/http/index.js");
  lap("import_gateway_ms");
  const { loadRegistry } = await import("../../dist/src/registry.js");
  const registry = await loadRegistry(dir);
  lap("load_registry_ms");
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: mkdtempSync(join(tmpdir(), "cs-bench-phases-")), COUNTERSIGN_GENERATED_DIR: dir, COUNTERSIGN_MODE: "all", LOG_LEVEL: "silent" } });
  const gateway = await createGateway(config, { registry });
  lap("create_gateway_ms");
  const principal = { tokenId: "tok_phases", subject: "bench", modules: "all", readOnly: false, tier: "default" };
  const listed = gateway.listTools({ principal, params: {}, transport: "http", sessionId: "phases" });
  JSON.stringify(listed);
  lap("first_tools_list_ms");
  marks.tools = listed.length;
  marks.total_ms = performance.now();
  await gateway.close();
  return marks;
}

if (values.child) {
  process.stdout.write(JSON.stringify(await measure(values.generated)) + "\n");
  process.exit(0);
} else {
  if (!values.generated) {
    process.stderr.write("startup-phases: --generated DIR is required (a `countersign generate` output)\n");
    process.exit(2);
  }
  const runs = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", "--generated", values.generated], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
    runs.push(JSON.parse(r.stdout));
  }
  const med = (k) => {
    const xs = runs.map((r) => r[k]).sort((a, b) => a - b);
    return Math.round(xs[Math.floor(xs.length / 2)]);
  };
  const keys = Object.keys(runs[0]).filter((k) => k.endsWith("_ms") || k.endsWith("_mb"));
  process.stdout.write(JSON.stringify({ runs: runs.length, tools: runs[0].tools, median: Object.fromEntries(keys.map((k) => [k, med(k)])) }, null, 2) + "\n");
}
