/** `countersign lint`: the report's findings on clean, broken and awkwardly named specs, and the command's exit codes. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { lintSpec, renderMarkdown, type LintReport } from "../../codegen/lint.js";
import { DEFAULT_RULES } from "../../codegen/rules.js";
import { run } from "../../src/cli/lint.js";
import { fixture, generateSpec } from "./helpers.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "countersign-lint-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs the command with stdout and stderr captured. */
async function lintCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const code = await run(argv);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

describe("lint report", () => {
  it("agrees with the generator on the bundled spec and finds no problems there", async () => {
    const spec = path.resolve("openapi/workspace.yaml");
    const [report, g] = await Promise.all([lintSpec(spec, "workspace", DEFAULT_RULES), generateSpec(spec)]);
    expect(report.counts.tools).toBe(g.tools.length);
    expect(report.counts.modules).toBe(g.manifest.modules.length);
    expect(report.counts.excluded).toBe(g.manifest.excluded.length);
    expect(report.counts.writes).toBe(g.tools.filter((t) => t.policy.write).length);
    expect(report.counts.writes + report.counts.readOnly).toBe(report.counts.tools);
    expect(report.counts.deletes).toBe(g.tools.filter((t) => t.binding.method === "DELETE").length);
    expect(report.counts.sensitive).toBe(g.tools.filter((t) => t.policy.sensitive).length);
    expect(report.problems).toBe(0);
    expect(report.excluded.map((e) => e.reason)).toEqual(g.manifest.excluded.map((e) => e.reason));
    // Largest first, at most ten, costed as JSON characters / 4.
    expect(report.largest).toHaveLength(10);
    const sizes = report.largest.map((l) => l.approxTokens);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    const top = g.tools.find((t) => t.name === report.largest[0]!.tool)!;
    expect(report.largest[0]!.approxTokens).toBe(Math.ceil(JSON.stringify({ name: top.name, description: top.description, inputSchema: top.inputSchema }).length / 4));
  });

  it("on a broken spec: relaxed tools with their reasons, invalid operations, missing prose, and suggestions", async () => {
    const report = await lintSpec(fixture("broken-operations.yaml"), "broken", DEFAULT_RULES);
    expect(report.warnings.find((w) => w.pointer === "#/paths/~1pets/post/requestBody/content/application~1json/schema")?.tools).toEqual(["create_pet"]);
    expect(report.excluded.map((e) => e.reason.split(":")[0])).toEqual(["invalid", "invalid"]);
    expect(report.withoutDescription).toEqual(["create_pet", "get_healthy", "get_pet", "list_pets"]);
    expect(report.parametersWithoutDescription).toContainEqual({ tool: "list_pets", parameters: ["limit", "q", "sort", "kind"] });
    expect(report.problems).toBe(report.warnings.length + 4);
    expect(report.suggestions).toContain('Fix 10 spec problems listed under "Relaxed or dropped" (`countersign generate --strict` fails on them).');
    expect(report.suggestions.some((s) => s.startsWith("Add a summary to 4 operations"))).toBe(true);
    expect(report.modules).toEqual([
      { name: "healthy", tools: 1, from: "path" },
      { name: "pets", tools: 3, from: "path" },
    ]);

    const md = renderMarkdown(report);
    expect(md).toContain("## Relaxed or dropped (spec problems worked around)");
    expect(md).toContain("- `#/paths/~1pets/post/requestBody/content/application~1json/schema`: schema must be an object or a boolean, not null; accepted any value instead — tool `create_pet`");
    expect(md).toContain("14 problems (`--strict` fails).");
  });

  it("tells shortened, collided and route-made names apart", async () => {
    const long = `list${"VeryLong".repeat(10)}Things`;
    const spec = path.join(dir, "names.json");
    await writeFile(
      spec,
      JSON.stringify({
        openapi: "3.0.3",
        info: { title: "names", version: "1" },
        paths: {
          "/a": { get: { operationId: long, summary: "A.", tags: ["t"], responses: {} } },
          "/b": { get: { operationId: "getThing", summary: "B.", tags: ["t"], responses: {} } },
          "/c": { get: { operationId: "get_thing", summary: "C.", tags: ["t"], responses: {} } },
          "/d": { get: { summary: "D.", tags: ["t"], responses: {} } },
          "/e": { get: { operationId: "named", "x-mcp-name": "chosen", summary: "E.", tags: ["t"], responses: {} } },
        },
      }),
    );
    const report: LintReport = await lintSpec(spec, "names", DEFAULT_RULES);
    // In tool name order.
    expect(report.names.map((n) => [n.kind, n.tool.length <= 64, n.wanted])).toEqual([
      ["from-route", true, "get_d"],
      ["collided", true, "get_thing"],
      ["shortened", true, `list_${"very_long_".repeat(10)}things`],
    ]);
    expect(report.names[1]!.tool).toBe("get_thing_2");
    expect(report.problems).toBe(2);
    expect(report.suggestions.filter((s) => s.includes("`x-mcp-name`"))).toHaveLength(3);
  });
});

describe("countersign lint", () => {
  it("prints Markdown by default and exits 0; --strict exits 1 when there are problems", async () => {
    const broken = fixture("broken-operations.yaml");
    const md = await lintCli(["--spec", broken]);
    expect(md.code).toBe(0);
    expect(md.stdout.startsWith("# Lint: Broken pets 1\n")).toBe(true);
    const strict = await lintCli(["--spec", broken, "--strict"]);
    expect(strict.code).toBe(1);
    const clean = await lintCli(["--spec", fixture("swagger2-split/swagger.yaml"), "--strict", "--json"]);
    expect(clean.code).toBe(0);
    expect((JSON.parse(clean.stdout) as LintReport).counts.tools).toBe(4);
  });

  it("--json is the report; unreadable or non-OpenAPI specs and bad usage exit 2", async () => {
    const json = await lintCli(["--spec", fixture("broken-operations.yaml"), "--json"]);
    const report = JSON.parse(json.stdout) as LintReport;
    expect(report.counts.tools).toBe(4);
    expect(report.warnings).toHaveLength(10);
    const notOpenApi = path.join(dir, "plain.yaml");
    await writeFile(notOpenApi, "hello: world\n");
    const bad = await lintCli(["--spec", notOpenApi]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("not an OpenAPI document");
    expect((await lintCli(["--bogus"])).code).toBe(2);
    expect((await lintCli(["--spec", path.join(dir, "missing.yaml")])).stderr).toContain("cannot read spec file");
  });
});
