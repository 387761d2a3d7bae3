/**
 * `x-mcp-header` on a Parameter Object: the argument's property carries the declaration in the
 * tool's input schema (SEP-2243); an invalid declaration is a warning naming it, and is dropped.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSpec, type Generated } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "cs-mcp-header-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = {
  openapi: "3.1.0",
  info: { title: "Routed", version: "1" },
  paths: {
    "/regions/{region}/items": {
      get: {
        operationId: "listItems",
        parameters: [
          { name: "region", in: "path", required: true, "x-mcp-header": "Region", schema: { type: "string" } },
          { name: "X-Tenant", in: "header", "x-mcp-header": "Tenant", schema: { type: "string" } },
          { name: "limit", in: "query", "x-mcp-header": "Limit", schema: { type: "integer" } },
          { name: "tags", in: "query", "x-mcp-header": "Tags", schema: { type: "array", items: { type: "string" } } },
          { name: "dup", in: "query", "x-mcp-header": "region", schema: { type: "string" } },
          { name: "bad", in: "query", "x-mcp-header": "Not A Token", schema: { type: "string" } },
        ],
        responses: { "200": { description: "ok" } },
      },
    },
  },
};

describe("x-mcp-header on parameters", () => {
  let g: Generated;
  beforeAll(async () => {
    const file = join(dir, "routed.json");
    writeFileSync(file, JSON.stringify(spec));
    g = await generateSpec(file);
  });

  it("puts the declaration on the argument's property, for string, integer and boolean arguments", () => {
    const props = (g.tools[0]!.inputSchema as { properties: Record<string, Record<string, unknown>> }).properties;
    expect(props.region).toEqual({ type: "string", "x-mcp-header": "Region" });
    expect(props["X-Tenant"]).toEqual({ type: "string", "x-mcp-header": "Tenant" });
    expect(props.limit).toEqual({ type: "integer", "x-mcp-header": "Limit" });
    for (const name of ["tags", "dup", "bad"]) expect(props[name], name).not.toHaveProperty("x-mcp-header");
  });

  it("warns about each declaration it drops, saying why", () => {
    const problems = (g.manifest.warnings ?? []).map((w) => `${w.pointer}: ${w.problem}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/parameters\/3\/x-mcp-header: only a string, integer or boolean argument can be mirrored into a header \(this one is "array"\); ignored/),
        expect.stringMatching(/parameters\/4\/x-mcp-header: header name "region" is already declared by another parameter .*case-insensitive/),
        expect.stringMatching(/parameters\/5\/x-mcp-header: must be a header name/),
      ]),
    );
    expect(problems.filter((p) => p.includes("x-mcp-header"))).toHaveLength(3);
  });
});
