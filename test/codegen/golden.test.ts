/** generated/workspace/ is exactly what the generator makes from openapi/workspace.yaml today. */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadGenerated } from "../../codegen/load.js";
import { run } from "../../src/cli/generate.js";
import { compileFailures, nameProblems } from "./helpers.js";

const SPEC = "openapi/workspace.yaml";
const OUT = "generated/workspace";
const haveSpec = existsSync(SPEC);

function captureOutput(): { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  return { stdout: () => out, stderr: () => err };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.skipIf(!haveSpec)("golden: generated/workspace", () => {
  it("regenerates byte for byte (`countersign generate --check` exits 0)", async () => {
    const io = captureOutput();
    const code = await run(["--check"]);
    vi.restoreAllMocks();
    expect(io.stderr(), "stale files (run `make generate`)").toBe("");
    expect(code).toBe(0);
    expect(io.stdout()).toMatch(/is up to date/);
  }, 60_000);

  it("lists 270-320 tools in at least 35 modules, with the risky operations excluded", async () => {
    const { manifest, tools } = await loadGenerated(OUT);
    expect(manifest.tools.length).toBeGreaterThanOrEqual(270);
    expect(manifest.tools.length).toBeLessThanOrEqual(320);
    expect(manifest.modules.length).toBeGreaterThanOrEqual(35);
    expect(tools.map((t) => t.name).sort()).toEqual(manifest.tools.map((t) => t.name));
    expect(nameProblems(tools)).toEqual([]);
    expect(compileFailures(tools)).toEqual([]);
    const reasons = manifest.excluded.map((e) => `${e.path} ${e.reason}`).join("\n");
    for (const rule of ["billing", "token-management", "oauth-flows", "binary-import-export"]) expect(reasons).toContain(`(rule ${rule})`);
    const toolPaths = new Set(manifest.tools.map((t) => `${t.method} ${t.path}`));
    for (const e of manifest.excluded) expect(toolPaths.has(`${e.method} ${e.path}`)).toBe(false);
    expect(tools.some((t) => t.binding.path.startsWith("/billing"))).toBe(false);
  });

  it("leaves Idempotency-Key to the gateway: the spec's header is no tool argument", async () => {
    const { tools } = await loadGenerated(OUT);
    const createTask = tools.find((t) => t.name === "create_task")!;
    expect(createTask.details).toContain("Idempotency-Key");
    const headers = tools.flatMap((t) => t.binding.arguments.filter((a) => a.in === "header").map((a) => a.wireName.toLowerCase()));
    expect(headers).toContain("if-match");
    expect(headers).not.toContain("idempotency-key");
  });

  it("starts every file with the header naming the spec sha256 and the command", async () => {
    const { manifest } = await loadGenerated(OUT);
    expect(manifest.command).toBe(`countersign generate --spec ${SPEC}`);
    for (const name of await readdir(OUT)) {
      const text = await readFile(path.join(OUT, name), "utf8");
      if (name === "manifest.json") {
        expect(text.split("\n")[1]).toContain(manifest.specSha256);
        continue;
      }
      const first = text.split("\n")[0]!;
      expect(first).toContain(manifest.specSha256);
      expect(first).toContain(manifest.command);
      expect(first).not.toMatch(/\/(work|tmp|home|Users)\//);
    }
  });
});

if (!haveSpec) {
  describe("golden: generated/workspace", () => {
    it.skip("skipped: openapi/workspace.yaml does not exist yet", () => undefined);
  });
}
