/** Atomic writes and --check: a run replaces the folder whole; --check lists stale files. */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadGenerated } from "../../codegen/load.js";
import { staleFiles, writeAtomically } from "../../codegen/output.js";
import { run } from "../../src/cli/generate.js";
import { fixture } from "./helpers.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "countersign-output-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

function quiet(): { stderr: () => string } {
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  return { stderr: () => err };
}

describe("writeAtomically", () => {
  it("replaces the folder, removing files that are no longer generated", async () => {
    const out = path.join(dir, "a");
    await writeAtomically(out, new Map([["one.ts", "1\n"], ["two.ts", "2\n"]]));
    await writeAtomically(out, new Map([["one.ts", "1b\n"]]));
    expect(await readdir(out)).toEqual(["one.ts"]);
    expect(await readFile(path.join(out, "one.ts"), "utf8")).toBe("1b\n");
    expect((await readdir(dir)).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("leaves the old folder untouched when writing fails", async () => {
    const out = path.join(dir, "b");
    await writeAtomically(out, new Map([["keep.ts", "old\n"]]));
    // A file name with a missing sub-folder cannot be written: the run fails half-way.
    await expect(writeAtomically(out, new Map([["a.ts", "new\n"], ["missing/b.ts", "x"]]))).rejects.toThrow();
    expect(await readdir(out)).toEqual(["keep.ts"]);
    expect(await readFile(path.join(out, "keep.ts"), "utf8")).toBe("old\n");
    expect((await readdir(dir)).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("staleFiles reports changed, missing and extra files", async () => {
    const out = path.join(dir, "c");
    await writeAtomically(out, new Map([["same.ts", "s"], ["changed.ts", "old"], ["extra.ts", "e"]]));
    expect(await staleFiles(out, new Map([["same.ts", "s"], ["changed.ts", "new"], ["new.ts", "n"]]))).toEqual([
      "changed.ts (differs)",
      "extra.ts (not generated any more)",
      "new.ts (missing)",
    ]);
  });
});

describe("generate --check and the loader", () => {
  it("exit 0 when fresh, 1 with the stale file list after an edit; loadGenerated reads what was written", async () => {
    const out = path.join(dir, "petstore");
    const spec = fixture("awkward-swagger2-petstore.json.gz");
    quiet();
    expect(await run(["--spec", spec, "--out", out])).toBe(0);
    expect(await run(["--spec", spec, "--out", out, "--check"])).toBe(0);
    vi.restoreAllMocks();

    const { manifest, tools } = await loadGenerated(out);
    expect(tools.length).toBe(manifest.tools.length);
    expect(manifest.modules.map((m) => m.file).sort()).toEqual(["pet.ts", "store.ts", "user.ts"]);
    expect(await readdir(out)).toEqual(["api-types.json", "index.ts", "manifest.json", "pet.ts", "store.ts", "types.ts", "upstream.d.ts", "user.ts"]);
    const types = await readFile(path.join(out, "types.ts"), "utf8");
    expect(types.split("\n").slice(1).join("\n")).toBe(await readFile("codegen/descriptor.ts", "utf8"));

    await writeFile(path.join(out, "pet.ts"), "// edited by hand\n");
    const io = quiet();
    expect(await run(["--spec", spec, "--out", out, "--check"])).toBe(1);
    expect(io.stderr()).toContain("pet.ts (differs)");
  }, 60_000);

  it("loadGenerated names the file when a module is not generator output", async () => {
    const out = path.join(dir, "broken");
    await writeAtomically(out, new Map([["manifest.json", JSON.stringify({ modules: [{ name: "m", file: "m.ts" }] })], ["m.ts", "export const x = 1;\n"]]));
    await expect(loadGenerated(out)).rejects.toThrow(/m\.ts: not a generated module file/);
  });
});

describe("option precedence", () => {
  it("flags win over environment, environment over the config file", async () => {
    const { existsSync } = await import("node:fs");
    const spec = fixture("fixture-cookie-params.json.gz");
    const config = path.join(dir, "precedence.yaml");
    await writeFile(config, `spec: ${JSON.stringify(spec)}\nout: ${JSON.stringify(path.join(dir, "from-config"))}\n`);
    quiet();
    const saved = process.env.COUNTERSIGN_OUT;
    try {
      expect(await run(["--config", config])).toBe(0);
      expect(existsSync(path.join(dir, "from-config", "manifest.json"))).toBe(true);
      process.env.COUNTERSIGN_OUT = path.join(dir, "from-env");
      expect(await run(["--config", config])).toBe(0);
      expect(existsSync(path.join(dir, "from-env", "manifest.json"))).toBe(true);
      expect(await run(["--config", config, "--out", path.join(dir, "from-flag")])).toBe(0);
      expect(existsSync(path.join(dir, "from-flag", "manifest.json"))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.COUNTERSIGN_OUT;
      else process.env.COUNTERSIGN_OUT = saved;
    }
  }, 60_000);
});
