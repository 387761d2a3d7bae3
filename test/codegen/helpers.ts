/** Shared helpers for the codegen tests: generate a fixture in memory and check its tools. */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import path from "node:path";
import { expect } from "vitest";
import type { ToolDescriptor, Manifest } from "../../codegen/descriptor.js";
import { generate, type GenerateRequest } from "../../codegen/generate.js";
import { parseModuleFile } from "../../codegen/load.js";

// ajv-formats is CommonJS; its default export is the plugin function at run time.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export const FIXTURES = path.resolve("test/fixtures/specs");

/** Path of a fixture spec under test/fixtures/specs. */
export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

export interface Generated {
  readonly files: ReadonlyMap<string, string>;
  readonly manifest: Manifest;
  readonly tools: ToolDescriptor[];
}

/** Generates a spec in memory (no upstream types unless asked) and parses its module files. */
export async function generateSpec(specPath: string, extra: Partial<GenerateRequest> = {}): Promise<Generated> {
  const outcome = await generate({ specPath, command: "countersign generate --spec test-fixture", upstreamTypes: false, ...extra });
  if (!outcome.ok) throw new Error(`generation failed: ${outcome.error}`);
  const manifest = JSON.parse(outcome.files.get("manifest.json")!) as Manifest;
  const tools: ToolDescriptor[] = [];
  for (const m of manifest.modules) tools.push(...parseModuleFile(outcome.files.get(m.file)!, m.file));
  return { files: outcome.files, manifest, tools };
}

/** Compiles every input and output schema in ajv 2020 strict mode; returns the failures. */
export function compileFailures(tools: readonly ToolDescriptor[]): string[] {
  // optimize: false only skips code-size passes; every strict-mode check still runs.
  const ajv = new Ajv2020({ strict: true, code: { optimize: false } });
  addFormats(ajv);
  const failures: string[] = [];
  // Identical schemas (a shared response, say) compile once; a failure is still reported per tool.
  const verdicts = new Map<string, string | undefined>();
  for (const t of tools) {
    for (const [kind, schema] of [["input", t.inputSchema], ["output", t.outputSchema]] as const) {
      if (!schema) continue;
      const key = JSON.stringify(schema);
      if (!verdicts.has(key)) {
        try {
          ajv.compile(schema);
          verdicts.set(key, undefined);
        } catch (err) {
          verdicts.set(key, (err as Error).message);
        }
      }
      const problem = verdicts.get(key);
      if (problem !== undefined) failures.push(`${t.name} ${kind}: ${problem}`);
    }
  }
  return failures;
}

/** Names that are not `[a-z0-9_]{1,64}` or that repeat. */
export function nameProblems(tools: readonly ToolDescriptor[]): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const t of tools) {
    if (!/^[a-z0-9_]{1,64}$/.test(t.name)) problems.push(`invalid: ${t.name}`);
    if (seen.has(t.name)) problems.push(`duplicate: ${t.name}`);
    seen.add(t.name);
  }
  return problems;
}

/** The tool for an operationId (fails the test when missing). */
export function byOperationId(tools: readonly ToolDescriptor[], operationId: string): ToolDescriptor {
  const t = tools.find((x) => x.operationId === operationId);
  if (!t) throw new Error(`no tool for operationId ${operationId}`);
  return t;
}

/** The common assertions for any generated API: valid unique names, strict schemas, flat object inputs. */
export function expectSound(tools: readonly ToolDescriptor[]): void {
  expect(tools.length).toBeGreaterThan(0);
  expect(nameProblems(tools)).toEqual([]);
  expect(compileFailures(tools)).toEqual([]);
  for (const t of tools) {
    expect(t.inputSchema.type).toBe("object");
    expect(t.inputSchema.additionalProperties).toBe(false);
    if (t.outputSchema) expect(t.outputSchema.type).toBe("object");
  }
}
