/**
 * Writes hand-made tool descriptors as a generated folder, in the generator's own layout
 * (codegen/emit.ts `emitHandMade`, read by codegen/load.ts), so tests that need a small API on
 * disk don't each reinvent the format.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { emitHandMade } from "../../codegen/emit.js";

/** Writes `tools` under `dir` (created if missing) and returns `dir`. */
export function writeGenerated(dir: string, tools: readonly ToolDescriptor[], api = "fixture"): string {
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of emitHandMade(api, tools, "test fixture")) writeFileSync(join(dir, file), text);
  return dir;
}

/** Writes `tools` into a fresh temporary folder and returns its path. */
export function writeGeneratedTemp(tools: readonly ToolDescriptor[], api = "fixture"): string {
  return writeGenerated(mkdtempSync(join(tmpdir(), "cs-gen-")), tools, api);
}
