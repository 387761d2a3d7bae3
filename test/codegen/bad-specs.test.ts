/**
 * Bad specs. Unreadable or non-OpenAPI: exit code 2, a message naming the line or pointer, and the
 * old output untouched. A problem inside an operation is a warning naming its JSON pointer; with
 * --strict it is fatal the same way.
 */
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { run } from "../../src/cli/generate.js";

let dir: string;
let out: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "countersign-bad-spec-"));
  out = path.join(dir, "out");
  await mkdir(out);
  await writeFile(path.join(out, "sentinel.txt"), "old output\n");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Writes a spec, runs `generate`, and returns the exit code and stderr. */
async function generateBad(name: string, text: string, extra: string[] = []): Promise<{ code: number; stderr: string }> {
  const spec = path.join(dir, name);
  await writeFile(spec, text);
  let stderr = "";
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  const code = await run(["--spec", spec, "--out", out, ...extra]);
  vi.restoreAllMocks();
  return { code, stderr };
}

const OPENAPI = (paths: string): string => `openapi: 3.0.3\ninfo: { title: t, version: "1" }\npaths:\n${paths}`;

async function expectUntouched(): Promise<void> {
  expect(await readdir(out)).toEqual(["sentinel.txt"]);
  expect(await readFile(path.join(out, "sentinel.txt"), "utf8")).toBe("old output\n");
  // No temp folders left next to the target either.
  expect((await readdir(dir)).filter((f) => f.startsWith(".out."))).toEqual([]);
}

describe("problems inside operations, with --strict", () => {
  it("parameter with neither schema nor content", async () => {
    const r = await generateBad("no-schema.yaml", OPENAPI(`  /tasks:\n    get:\n      parameters:\n        - { name: q, in: query }\n      responses: { "200": { description: ok } }\n`), ["--strict"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("has 1 warning; nothing written");
    expect(r.stderr).toContain("#/paths/~1tasks/get/parameters/0: parameter has neither schema nor content");
    await expectUntouched();
  });

  it("unresolvable $ref names where the reference is written", async () => {
    const r = await generateBad(
      "bad-ref.yaml",
      OPENAPI(`  /tasks:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: { $ref: "#/components/schemas/Missing" }\n      responses: { "200": { description: ok } }\n`),
      ["--strict"],
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("#/paths/~1tasks/post/requestBody/content/application~1json/schema");
    expect(r.stderr).toContain('unresolvable $ref "#/components/schemas/Missing"');
    await expectUntouched();
  });

  it("missing relative file in a $ref", async () => {
    const r = await generateBad("bad-file.yaml", OPENAPI(`  /tasks:\n    get:\n      parameters:\n        - $ref: "./nowhere.yaml#/P"\n      responses: { "200": { description: ok } }\n`), ["--strict"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/#\/paths\/~1tasks\/get\/parameters\/0: unresolvable \$ref "\.\/nowhere\.yaml#\/P": cannot read nowhere\.yaml/);
    await expectUntouched();
  });

  it("remote $refs need --allow-remote-refs", async () => {
    const r = await generateBad("remote.yaml", OPENAPI(`  /tasks:\n    get:\n      parameters:\n        - $ref: "https://example.invalid/p.yaml#/P"\n      responses: { "200": { description: ok } }\n`), ["--strict"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not fetched without --allow-remote-refs");
    await expectUntouched();
  });

  it("path template without a parameter, bad extension values, undefined security scheme", async () => {
    const a = await generateBad("tmpl.yaml", OPENAPI(`  /tasks/{id}:\n    get:\n      responses: { "200": { description: ok } }\n`), ["--strict"]);
    expect(a.stderr).toContain("#/paths/~1tasks~1{id}/get: path template variable {id} has no path parameter");
    const b = await generateBad("name.yaml", OPENAPI(`  /tasks:\n    get:\n      x-mcp-name: Not Valid\n      responses: { "200": { description: ok } }\n`), ["--strict"]);
    expect(b.stderr).toContain("#/paths/~1tasks/get/x-mcp-name: must be a string matching [a-z0-9_]{1,64}");
    const c = await generateBad("sec.yaml", OPENAPI(`  /tasks:\n    get:\n      security: [{ nope: [] }]\n      responses: { "200": { description: ok } }\n`), ["--strict"]);
    expect(c.stderr).toContain('#/paths/~1tasks/get/security/0/nope: security scheme "nope" is not defined');
    for (const r of [a, b, c]) expect(r.code).toBe(2);
    await expectUntouched();
  });
});

describe("specs that fail whole", () => {
  it("unparseable YAML names the line", async () => {
    const r = await generateBad("broken.yaml", `openapi: 3.0.3\ninfo:\n  title: t\n  version: "1"\npaths:\n  /a: {\n    get: [\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml line \d+: invalid YAML/);
    await expectUntouched();
  });

  it("unreadable spec file", async () => {
    let stderr = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    const code = await run(["--spec", path.join(dir, "does-not-exist.yaml"), "--out", out]);
    vi.restoreAllMocks();
    expect(code).toBe(2);
    expect(stderr).toContain("cannot read spec file");
    await expectUntouched();
  });

  it("not an OpenAPI document / unsupported version", async () => {
    expect((await generateBad("plain.yaml", "hello: world\n")).stderr).toContain("not an OpenAPI document");
    const v = await generateBad("v4.yaml", `openapi: 4.0.0\ninfo: { title: t, version: "1" }\npaths: {}\n`);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain('#/openapi: unsupported OpenAPI version "4.0.0"');
    await expectUntouched();
  });

  it("a bad config file is exit 2 and names the key", async () => {
    const config = path.join(dir, "bad-config.yaml");
    await writeFile(config, "rules:\n  - id: billing\n    action: maybe\n");
    const r = await generateBad("ok.yaml", OPENAPI(`  /tasks:\n    get:\n      responses: { "200": { description: ok } }\n`), ["--config", config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('rules[0].action must be "exclude", "sensitive" or "approval"');
    await expectUntouched();
  });

  it("usage errors are exit 2", async () => {
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await run(["--bogus"])).toBe(2);
    expect(await run(["--spec"])).toBe(2);
  });
});

describe("problems inside operations, without --strict", () => {
  it("writes the output, prints each warning with its pointer and records it in the manifest", async () => {
    const target = path.join(dir, "relaxed-out");
    const spec = path.join(dir, "relaxed.yaml");
    await writeFile(
      spec,
      OPENAPI(`  /pets:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: null\n      responses: { "201": { description: created } }\n`),
    );
    let stderr = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const code = await run(["--spec", spec, "--out", target]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const pointer = "#/paths/~1pets/post/requestBody/content/application~1json/schema";
    expect(stderr).toBe(`countersign generate: warning: ${pointer}: schema must be an object or a boolean, not null; accepted any value instead\n`);
    const manifest = JSON.parse(await readFile(path.join(target, "manifest.json"), "utf8")) as { tools: { name: string }[]; warnings: unknown[] };
    expect(manifest.tools.map((t) => t.name)).toEqual(["post_pets"]);
    expect(manifest.warnings).toEqual([{ pointer, problem: "schema must be an object or a boolean, not null; accepted any value instead", tools: ["post_pets"] }]);
  });
});
