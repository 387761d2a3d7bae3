/**
 * Size of tools/list, in bytes and tokens, for the bundled spec and GitHub, in each exposure mode
 * and schema profile, against a naive one-tool-per-operation dump of the same operations.
 *
 *   npx tsc -p tsconfig.build.json && node bench/tokens.js
 *
 * Writes bench/results/tokens.json.
 *
 * The naive baseline is what simple OpenAPI→MCP converters emit, built from the spec itself (not
 * from our generator's output): per operation, name = operationId, description = summary + "\n\n"
 * + description, inputSchema = { type: "object", properties: each parameter's schema (fully
 * dereferenced, with its description), plus `body`: the fully dereferenced request body schema
 * (first JSON media type, else the first one), required = required parameters (+ body if
 * required) }. No outputSchema and no annotations (which makes the baseline smaller, not larger).
 * It covers the same operations as our `all` list (excluded operations are left out of both);
 * the figure over every operation is reported beside it.
 *
 * Output schemas are not listed by default (surface.listOutputSchemas; describe_tool always has
 * them); `all/defaultWithOutputSchemas` measures the list with them.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import $RefParser from "@apidevtools/json-schema-ref-parser";
import { getEncoding } from "js-tiktoken";
import { build, gatewayFor, listFor, ROOT } from "./surface-lib.js";

const TOKENIZER = "cl100k_base";
const enc = getEncoding(TOKENIZER);
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/** Modules a focused agent might ask for in `modules` mode. */
const FOCUS = { workspace: "tasks,comments,time_tracking", github: "issues,pulls,repos" };

function measure(payload) {
  const text = JSON.stringify(payload);
  return { bytes: Buffer.byteLength(text), tokens: enc.encode(text).length };
}

/** Naive tools for every operation of a spec (see the module comment). */
async function naiveTools(specRoot) {
  const doc = await $RefParser.dereference(structuredClone(specRoot), { dereference: { circular: "ignore" } });
  const tools = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method];
      if (!op) continue;
      const properties = {};
      const required = [];
      for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
        if (!p?.name) continue;
        properties[p.name] = { ...(p.schema ?? {}), ...(p.description ? { description: p.description } : {}) };
        if (p.required) required.push(p.name);
      }
      const content = op.requestBody?.content ?? {};
      const media = Object.keys(content).find((m) => m.includes("json")) ?? Object.keys(content)[0];
      if (media && content[media]?.schema) {
        properties.body = content[media].schema;
        if (op.requestBody.required) required.push("body");
      }
      tools.push({
        method: method.toUpperCase(),
        path,
        tool: {
          name: op.operationId ?? `${method}_${path}`,
          description: [op.summary, op.description].filter(Boolean).join("\n\n"),
          inputSchema: { type: "object", properties, ...(required.length ? { required } : {}) },
        },
      });
    }
  }
  return tools;
}

const results = { tokenizer: TOKENIZER, generatedAt: new Date().toISOString().slice(0, 10), note: "tools/list measured as JSON of { tools: [...] } (all pages joined)", apis: {} };

for (const api of ["workspace", "github"]) {
  const { spec, build: b } = await build(api);
  const gateway = await gatewayFor(b.tools);
  const naive = await naiveTools(spec.root);
  const exposed = new Set(b.tools.map((t) => `${t.binding.method} ${t.binding.path}`));
  const naiveSame = naive.filter((n) => exposed.has(`${n.method} ${n.path}`)).map((n) => n.tool);
  const baseline = { operations: naiveSame.length, ...measure({ tools: naiveSame }) };
  const baselineAll = { operations: naive.length, ...measure({ tools: naive.map((n) => n.tool) }) };

  const modes = {};
  for (const mode of ["all", "modules", "dynamic"]) {
    modes[mode] = {};
    for (const profile of ["default", "strict"]) {
      const params = { mode, profile, ...(mode === "modules" ? { modules: FOCUS[api] } : {}) };
      const listed = listFor(gateway, params);
      modes[mode][profile] = { tools: listed.length, ...measure({ tools: listed }) };
    }
  }
  // Opt-in variant: output schemas listed too (surface.listOutputSchemas).
  const withOutput = await gatewayFor(b.tools, { COUNTERSIGN_LIST_OUTPUT_SCHEMAS: "true" });
  modes.all.defaultWithOutputSchemas = { tools: listFor(withOutput, { mode: "all" }).length, ...measure({ tools: listFor(withOutput, { mode: "all" }) }) };
  await withOutput.close();
  const autoMode = listFor(gateway, {}).length === modes.all.default.tools ? "all" : "dynamic";
  const all = modes.all.default;
  results.apis[api] = {
    generatedTools: b.tools.length,
    modulesModeModules: FOCUS[api],
    autoModeForFullScope: autoMode,
    baselineSameOperations: baseline,
    baselineEveryOperation: baselineAll,
    modes,
    allDefaultVsBaseline: `${(((baseline.tokens - all.tokens) / baseline.tokens) * 100).toFixed(1)}% fewer tokens`,
    allStrictVsBaseline: `${(((baseline.tokens - modes.all.strict.tokens) / baseline.tokens) * 100).toFixed(1)}% fewer tokens`,
  };
  await gateway.close();
}

writeFileSync(join(ROOT, "bench/results/tokens.json"), `${JSON.stringify(results, null, 2)}\n`);
for (const [api, r] of Object.entries(results.apis)) {
  console.log(`\n${api}: ${r.generatedTools} tools (auto mode for a full-scope token: ${r.autoModeForFullScope})`);
  console.log(`  naive baseline (same ${r.baselineSameOperations.operations} operations): ${r.baselineSameOperations.bytes} B, ${r.baselineSameOperations.tokens} tokens`);
  console.log(`  naive baseline (all ${r.baselineEveryOperation.operations} operations): ${r.baselineEveryOperation.bytes} B, ${r.baselineEveryOperation.tokens} tokens`);
  for (const [mode, byProfile] of Object.entries(r.modes)) {
    for (const [profile, m] of Object.entries(byProfile)) console.log(`  ${mode.padEnd(8)} ${profile.padEnd(8)} ${String(m.tools).padStart(5)} tools ${String(m.bytes).padStart(9)} B ${String(m.tokens).padStart(8)} tokens`);
  }
  console.log(`  all/default vs baseline: ${r.allDefaultVsBaseline}; all/strict: ${r.allStrictVsBaseline}`);
}
console.log("\nwrote bench/results/tokens.json");
