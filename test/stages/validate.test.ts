import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createLog } from "../../src/log.js";
import { createArgumentValidator } from "../../src/stages/validate.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";
import { fixtureTool } from "../fixtures/tools/index.js";
import { callAs } from "../support/call.js";

describe("argument validator", () => {
  const v = createArgumentValidator();

  it("accepts valid arguments", () => {
    expect(v.validate(fixtureTool("search_items"), { q: "x", limit: 10, sort: "asc", filter: { owner: { id: 1 } } })).toEqual({ ok: true });
  });

  it("lists every failing path with its reason", () => {
    const out = v.validate(fixtureTool("search_items"), { limit: 0, sort: "up", filter: { owner: { id: "x" } }, extra: 1 });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.problems).toEqual(
      expect.arrayContaining([
        { path: "(root)", reason: "unknown argument 'extra'" },
        { path: "/filter/owner/id", reason: "must be integer" },
        { path: "/limit", reason: "must be >= 1" },
        { path: "/sort", reason: 'must be one of ["asc","desc"]' },
      ]),
    );
  });

  it("names missing required arguments", () => {
    const out = v.validate(fixtureTool("create_item"), { project_id: 1 });
    expect(out).toEqual({ ok: false, problems: [{ path: "(root)", reason: "missing required argument 'name'" }] });
  });

  it("compiles each tool lazily, once, and reuses it", () => {
    const compile = vi.spyOn(Ajv2020.prototype, "compile");
    const fresh = createArgumentValidator();
    expect(compile).not.toHaveBeenCalled();
    const tool = fixtureTool("get_item");
    fresh.validate(tool, { item_id: "1" });
    fresh.validate(tool, { item_id: 1 });
    fresh.validate(tool, { item_id: "2" });
    expect(compile).toHaveBeenCalledTimes(1);
    compile.mockRestore();
  });

  it("still validates a schema that strict mode rejects (unknown keyword), instead of failing the tool", () => {
    const tool = { ...fixtureTool("get_item"), inputSchema: { type: "object", properties: { item_id: { type: "string", "x-odd": 1 } }, required: ["item_id"] } };
    const lenient = createArgumentValidator(createLog("silent"));
    expect(lenient.validate(tool, {})).toMatchObject({ ok: false });
    expect(lenient.validate(tool, { item_id: "a" })).toEqual({ ok: true });
  });

  it("compiles x-mcp-header (an argument mirrored in a header) in strict mode, as an annotation", () => {
    const tool = { ...fixtureTool("get_item"), inputSchema: { type: "object", properties: { item_id: { type: "string", "x-mcp-header": "Item" } }, required: ["item_id"], additionalProperties: false } };
    const warnings: unknown[] = [];
    const log = { ...createLog("silent"), warn: (...args: unknown[]) => void warnings.push(args) } as ReturnType<typeof createLog>;
    const validator = createArgumentValidator(log);
    expect(validator.validate(tool, { item_id: "a" })).toEqual({ ok: true });
    expect(validator.validate(tool, { item_id: 1 })).toMatchObject({ ok: false });
    expect(warnings).toEqual([]); // no fallback to lenient compilation
  });
});

describe("validate stage in the chain", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.upstream.reset());

  const call = (args: Record<string, unknown>) =>
    callAs(h.gateway, h.token, "get_item", args);

  it("answers invalid arguments with a tool error and makes no upstream request", async () => {
    const result = await call({ item_id: 5, bogus: true });
    expect(result.isError).toBe(true);
    expect(result.content[0]).toEqual({
      type: "text",
      text: "Error (invalid_arguments): Invalid arguments for get_item: (root): unknown argument 'bogus'; /item_id: must be string",
    });
    expect(result.structuredContent).toMatchObject({ error: { code: "invalid_arguments", problems: expect.any(Array) } });
    expect(h.upstream.requests).toHaveLength(0);
  });

  it("lets valid arguments through to the upstream", async () => {
    const result = await call({ item_id: "5" });
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent).toEqual({ id: "5", name: "Widget" });
    expect(h.upstream.requests).toHaveLength(1);
  });
});
