/**
 * Every tool schema of the bundled spec and of GitHub's, in the `strict` profile, passes the MCP
 * Inspector's portability lint (its four rules, see portability-lint.ts) with no error and no
 * warning, and carries none of the constructs strict clients reject. A sample of generated argument
 * sets valid under the default schema must stay valid under the strict one.
 */
import { describe, expect, it } from "vitest";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { schemaForProfile } from "../../src/surface/schema-profile.js";
import { toolsOf } from "./apis.js";
import { inspectorLint, strictProfileLint, type Finding } from "./portability-lint.js";
import { rng, sample } from "./sample-args.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

function lintAll(tools: readonly ToolDescriptor[], profile: "default" | "strict"): Map<string, number> {
  const byRule = new Map<string, number>();
  const count = (fs: Finding[]) => fs.forEach((f) => byRule.set(`${f.severity}:${f.rule}`, (byRule.get(`${f.severity}:${f.rule}`) ?? 0) + 1));
  for (const t of tools) {
    const input = schemaForProfile(t.inputSchema, profile);
    count(inspectorLint(input, `${t.name}.inputSchema`));
    if (profile === "strict") count(strictProfileLint(input, `${t.name}.inputSchema`));
    if (t.outputSchema) {
      const output = schemaForProfile(t.outputSchema, profile);
      count(inspectorLint(output, `${t.name}.outputSchema`));
      if (profile === "strict") count(strictProfileLint(output, `${t.name}.outputSchema`));
    }
  }
  return byRule;
}

function preservesValidity(tools: readonly ToolDescriptor[], perTool: number): { checked: number; valid: number } {
  const ajv = addFormats(new Ajv2020({ strict: false, allowUnionTypes: true, logger: false }));
  const next = rng(20260321);
  let checked = 0;
  let valid = 0;
  for (const t of tools) {
    const original = ajv.compile(t.inputSchema);
    const strict = ajv.compile(schemaForProfile(t.inputSchema, "strict"));
    for (let i = 0; i < perTool; i++) {
      const args = sample(t.inputSchema, t.inputSchema as Record<string, unknown>, next);
      checked++;
      if (!original(args)) continue;
      valid++;
      if (!strict(args)) throw new Error(`${t.name}: strict rejects ${JSON.stringify(args).slice(0, 300)}: ${JSON.stringify(strict.errors)}`);
    }
  }
  return { checked, valid };
}

describe.each(["workspace", "github", "circular"] as const)("strict profile on %s", (api) => {
  it("passes the Inspector's portability lint and the strict-profile rules with no finding", async () => {
    const tools = await toolsOf(api);
    const before = lintAll(tools, "default");
    const after = lintAll(tools, "strict");
    console.log(`${api}: ${tools.length} tools; default profile findings ${JSON.stringify(Object.fromEntries(before))}; strict ${JSON.stringify(Object.fromEntries(after))}`);
    expect(Object.fromEntries(after)).toEqual({});
  });

  it("accepts every sampled argument set the default schema accepts", async () => {
    const tools = await toolsOf(api);
    // A fixed slice keeps the file fast: every 8th GitHub tool, every 2nd bundled one, all circular ones.
    const step = { github: 8, workspace: 2, circular: 1 }[api];
    const picked = tools.filter((_, i) => i % step === 0);
    const { checked, valid } = preservesValidity(picked, api === "circular" ? 40 : 4);
    console.log(`${api}: ${valid}/${checked} sampled argument sets valid under default, all valid under strict`);
    expect(valid).toBeGreaterThan(checked * 0.5);
  });
});
