/**
 * Flat or wrapped request bodies: the rule in codegen/body-shape.ts decides from the spec alone,
 * the generator follows it, and describe_tool's `arguments` says which and why.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSpec } from "../../codegen/load-spec.js";
import { buildTools } from "../../codegen/operations.js";
import { DEFAULT_RULES } from "../../codegen/rules.js";
import { argumentShape } from "../../src/surface/argument-shape.js";
import { toolsOf } from "../surface/apis.js";

const dir = mkdtempSync(join(tmpdir(), "cs-body-shape-"));
let written = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One POST /things/{id} whose JSON body has `schema`, beside a `mode` query parameter. */
async function toolFor(schema: unknown, mediaType = "application/json"): Promise<ToolDescriptor> {
  const spec = {
    openapi: "3.1.0",
    info: { title: "t", version: "1" },
    paths: {
      "/things/{id}": {
        post: {
          operationId: "postThing",
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "string" } },
            { name: "mode", in: "query", schema: { type: "string" } },
          ],
          requestBody: { required: true, content: { [mediaType]: { schema } } },
          responses: { "200": { description: "ok" } },
        },
      },
    },
  };
  const file = join(dir, `spec-${++written}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const [tool] = buildTools(await loadSpec(file), DEFAULT_RULES).tools;
  return tool!;
}

const plain = { type: "object", required: ["name"], properties: { name: { type: "string" }, size: { type: "integer" } } };

describe("the body rule", () => {
  it("a plain JSON object of properties is flat: its properties are top-level arguments", async () => {
    const tool = await toolFor(plain);
    expect(tool.binding.body?.mode).toBe("flat");
    expect(Object.keys((tool.inputSchema as { properties: object }).properties).sort()).toEqual(["id", "mode", "name", "size"]);
    expect(argumentShape(tool)).toMatchObject({ path: ["id"], query: ["mode"], body: { shape: "flat", arguments: ["name", "size"] } });
  });

  it.each([
    ["minProperties", { ...plain, minProperties: 1 }, "its schema uses minProperties"],
    ["a combinator", { ...plain, anyOf: [{ required: ["name"] }, { required: ["size"] }] }, "its schema uses anyOf"],
    ["additionalProperties", { ...plain, additionalProperties: { type: "string" } }, "its schema allows additionalProperties"],
    ["a property named like a parameter", { type: "object", properties: { mode: { type: "string" } } }, 'its property "mode" is also a parameter\'s name'],
    ["an array", { type: "array", items: { type: "string" } }, "its schema is not `type: object` with properties"],
  ])("a body with %s is wrapped into `body`, and describe_tool says why", async (_label, schema, because) => {
    const tool = await toolFor(schema);
    expect(tool.binding.body).toMatchObject({ mode: "wrapped", argument: "body" });
    expect(Object.keys((tool.inputSchema as { properties: object }).properties).sort()).toEqual(["body", "id", "mode"]);
    expect(argumentShape(tool).body).toMatchObject({ shape: "wrapped", argument: "body", because });
  });

  it("a body sent as neither JSON nor a form is wrapped, naming its media type", async () => {
    const tool = await toolFor({ type: "string" }, "text/plain");
    expect(argumentShape(tool).body).toMatchObject({ shape: "wrapped", because: "it is sent as text/plain, not JSON or a form" });
  });

  it("is predictable: the same body schema is shaped the same way wherever it appears", async () => {
    for (const schema of [plain, { ...plain, minProperties: 1 }]) {
      const [a, b] = [await toolFor(schema), await toolFor(structuredClone(schema))];
      expect(a.binding.body).toEqual(b.binding.body);
    }
  });
});

describe("on real specs", () => {
  it.each(["workspace", "github"] as const)("%s: every body's shape in describe_tool agrees with the binding, and every wrapped one has a reason", async (api) => {
    const tools = await toolsOf(api);
    let flat = 0;
    let wrapped = 0;
    for (const tool of tools) {
      const shape = argumentShape(tool).body;
      const body = tool.binding.body;
      if (!body) {
        expect(shape).toBeUndefined();
        continue;
      }
      const props = (tool.inputSchema as { properties: Record<string, unknown> }).properties;
      if (shape?.shape === "flat") {
        flat++;
        expect(body.mode).toBe("flat");
        for (const a of shape.arguments) expect(props[a], `${tool.name}.${a}`).toBeDefined();
      } else {
        wrapped++;
        expect(body.mode).toBe("wrapped");
        expect(props[shape!.argument], tool.name).toBeDefined();
        expect(shape!.because, tool.name).not.toBe("the generator kept it whole");
      }
    }
    expect(flat).toBeGreaterThan(0);
    expect(wrapped).toBeGreaterThan(0);
  });

  it("update_task keeps its body wrapped because the PATCH needs at least one field", async () => {
    const tool = (await toolsOf("workspace")).find((t) => t.name === "update_task")!;
    expect(argumentShape(tool)).toMatchObject({ path: ["task_id"], body: { shape: "wrapped", argument: "body", because: "its schema uses minProperties" } });
  });
});
