/**
 * Writes hand-made tool descriptors as a generated folder, in the generator's own layout
 * (manifest.json + one module file per module, parsed by codegen/load.ts), so tests that need a
 * small API on disk don't each reinvent the format.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Manifest, ToolDescriptor } from "../../codegen/descriptor.js";
import { TOOLS_MARKER } from "../../codegen/emit.js";

/** Writes `tools` under `dir` (created if missing) and returns `dir`. */
export function writeGenerated(dir: string, tools: readonly ToolDescriptor[], api = "fixture"): string {
  mkdirSync(dir, { recursive: true });
  const modules = [...new Set(tools.map((t) => t.module))].sort();
  for (const name of modules) {
    const mine = tools.filter((t) => t.module === name);
    writeFileSync(join(dir, `${name}.ts`), `// test fixture\nimport type { ToolDescriptor } from "./types.js";\n\n${TOOLS_MARKER}${JSON.stringify(mine, null, 2)};\n`);
  }
  const manifest: Manifest = {
    api,
    title: api,
    version: "1",
    specSha256: "0".repeat(64),
    command: "test fixture",
    modules: modules.map((name) => ({ name, description: `${name} tools.`, tools: tools.filter((t) => t.module === name).length, file: `${name}.ts` })),
    tools: tools.map((t) => ({ name: t.name, module: t.module, method: t.binding.method, path: t.binding.path, write: t.policy.write, sensitive: t.policy.sensitive, annotations: t.annotations })),
    excluded: [],
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
  return dir;
}

/** Writes `tools` into a fresh temporary folder and returns its path. */
export function writeGeneratedTemp(tools: readonly ToolDescriptor[], api = "fixture"): string {
  return writeGenerated(mkdtempSync(join(tmpdir(), "cs-gen-")), tools, api);
}
