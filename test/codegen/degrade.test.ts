/** A problem inside one operation relaxes that part (with a warning naming its pointer) or excludes the operation; the rest is untouched. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { byOperationId, expectSound, fixture, generateSpec } from "./helpers.js";

const BODY_SCHEMA = "#/paths/~1pets/post/requestBody/content/application~1json/schema";

describe("broken operations", async () => {
  const g = await generateSpec(fixture("broken-operations.yaml"));
  const warnings = g.manifest.warnings ?? [];
  const warningAt = (pointer: string): string[] => warnings.filter((w) => w.pointer === pointer).map((w) => w.problem);
  const props = (t: ToolDescriptor): Record<string, unknown> => t.inputSchema.properties as Record<string, unknown>;

  it("still makes sound tools of every operation that can have one", () => {
    expectSound(g.tools);
    expect(g.tools.map((t) => t.name).sort()).toEqual(["create_pet", "get_healthy", "get_pet", "list_pets"]);
  });

  it("a null body schema becomes an unconstrained body, with a warning at its pointer", () => {
    const t = byOperationId(g.tools, "createPet");
    expect(props(t).body).toEqual({});
    expect(t.binding.body).toMatchObject({ mode: "wrapped", argument: "body", mediaType: "application/json", required: true });
    expect(warningAt(BODY_SCHEMA)).toEqual(["schema must be an object or a boolean, not null; accepted any value instead"]);
    expect(warnings.find((w) => w.pointer === BODY_SCHEMA)?.tools).toEqual(["create_pet"]);
  });

  it("relaxes a broken $ref, a parameter without schema and an unknown type; keeps the later of duplicate parameters", () => {
    const t = byOperationId(g.tools, "listPets");
    expect(props(t).limit).toEqual({});
    expect(props(t).q).toEqual({});
    expect(props(t).sort).toEqual({ type: "integer" });
    expect(props(t).kind).toEqual({});
    expect(warningAt("#/paths/~1pets/get/parameters/0/schema")[0]).toMatch(/^unresolvable \$ref "#\/components\/schemas\/NoSuchThing".*; accepted any value instead$/);
    expect(warningAt("#/paths/~1pets/get/parameters/1")).toEqual(["parameter has neither schema nor content; accepted any value instead"]);
    expect(warningAt("#/paths/~1pets/get/parameters/3")).toEqual(['duplicate parameter "sort" in query; the later one is used']);
    expect(warningAt("#/paths/~1pets/get/parameters/4/schema/type")).toEqual(['unknown type "strin"; ignored']);
  });

  it("a broken component is reported where it is, once, for every tool that uses it", () => {
    const w = warnings.find((x) => x.pointer === "#/components/schemas/Page/properties/items/items");
    expect(w?.problem).toBe("schema must be an object or a boolean, not a number; accepted any value instead");
    expect(w?.tools).toEqual(["list_pets"]);
    const out = byOperationId(g.tools, "listPets").outputSchema as { properties: Record<string, unknown> };
    expect(out.properties.items).toEqual({ type: "array", items: {} });
  });

  it("a missing path parameter is added as a required string; a bad x-mcp-write falls back to the method", () => {
    const t = byOperationId(g.tools, "getPet");
    expect(props(t).petId).toEqual({ type: "string" });
    expect(t.inputSchema.required).toEqual(["petId"]);
    expect(t.policy.write).toBe(false);
    expect(warningAt("#/paths/~1pets~1{petId}/get")).toEqual(["path template variable {petId} has no path parameter; a required string argument was added"]);
    expect(warningAt("#/paths/~1pets~1{petId}/get/x-mcp-write")).toEqual(["must be true or false; ignored (a read by its method)"]);
  });

  it("excludes what cannot be a sane tool, with reason invalid: what and where", () => {
    expect(g.manifest.excluded).toEqual([
      {
        operationId: "deletePet",
        method: "DELETE",
        path: "/pets/{petId}",
        reason: 'invalid: security scheme "undefinedScheme" is not defined in components.securitySchemes (#/paths/~1pets~1{petId}/delete/security/0/undefinedScheme)',
      },
      { operationId: "put_pets_pet_id", method: "PUT", path: "/pets/{petId}", reason: "invalid: operation must be an object, not a string (#/paths/~1pets~1{petId}/put)" },
    ]);
    expect(warningAt("#/paths/~1pets~1{petId}/put")).toEqual(["operation must be an object, not a string; the operation was excluded"]);
  });

  it("leaves the healthy operation exactly as it would be alone", () => {
    const t = byOperationId(g.tools, "getHealthy");
    expect(props(t)).toEqual({ verbose: { type: "boolean" } });
    expect(t.outputSchema).toEqual({ type: "object", properties: { ok: { type: "boolean" } } });
    expect(warnings.some((w) => w.tools.includes("get_healthy"))).toBe(false);
  });

  it("records warnings sorted by pointer", () => {
    const pointers = warnings.map((w) => w.pointer);
    expect(pointers).toEqual([...pointers].sort());
    expect(warnings.length).toBe(10);
  });
});

describe("Swagger 2.0 split across files", async () => {
  const g = await generateSpec(fixture("swagger2-split/swagger.yaml"));

  it("resolves parameters, responses, path items and schemas from the other files", () => {
    expectSound(g.tools);
    expect(g.manifest.warnings).toBeUndefined();
    expect(g.tools.map((t) => t.name).sort()).toEqual(["create_pet", "delete_pet", "get_pet", "list_pets"]);
    const list = byOperationId(g.tools, "listPets");
    expect(list.inputSchema.properties).toEqual({
      limit: { description: "How many pets to return.", type: "integer", format: "int32", minimum: 1, maximum: 100 },
      tags: { description: "Only pets with one of these tags.", type: "array", items: { type: "string" } },
    });
    expect(list.binding.arguments.find((a) => a.name === "tags")).toMatchObject({ style: "form", explode: false });
    expect(list.binding.serverPath).toBe("/v1");
    expect(list.binding.security).toEqual([[{ name: "apiKey", type: "apiKey", in: "header", paramName: "X-Api-Key", scopes: [] }]]);
  });

  it("converts a body parameter from another file into a flat JSON body", () => {
    const create = byOperationId(g.tools, "createPet");
    expect(create.binding.body).toMatchObject({ mediaType: "application/json", mode: "flat", required: true });
    expect(create.inputSchema.required).toEqual(["name"]);
    expect((create.outputSchema as { properties: Record<string, unknown> }).properties).toHaveProperty("id");
  });

  it("takes path-level parameters from a path item in a subfolder", () => {
    const get = byOperationId(g.tools, "getPet");
    expect(get.inputSchema.properties).toEqual({ petId: { type: "string", pattern: "^[a-z0-9-]+$" } });
    const del = byOperationId(g.tools, "deletePet");
    expect(del.binding.arguments.map((a) => `${a.in}:${a.wireName}`)).toEqual(["path:petId", "header:X-Reason"]);
  });
});

describe("Swagger 2.0 with fields the converter cannot take", () => {
  it("drops a mistyped basePath and an operation's mistyped produces, with warnings, and converts the rest", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "countersign-swagger2-"));
    try {
      const file = path.join(dir, "bad-types.json");
      const spec = {
        swagger: "2.0",
        info: { title: "t", version: "1" },
        basePath: 5,
        paths: {
          "/things": {
            get: { operationId: "listThings", produces: 5, responses: { "200": { description: "ok", schema: { type: "object", properties: { n: { type: "integer" } } } } } },
            post: { operationId: "addThing", parameters: [{ in: "body", name: "body", schema: { type: "object", properties: { name: { type: "string" } } } }], responses: { "201": { description: "ok" } } },
          },
        },
      };
      await writeFile(file, JSON.stringify(spec));
      const g = await generateSpec(file);
      expectSound(g.tools);
      expect(g.tools.map((t) => t.name).sort()).toEqual(["add_thing", "list_things"]);
      expect(g.manifest.warnings).toEqual([
        { pointer: "#/basePath", problem: "must be a string; ignored", tools: [] },
        { pointer: "#/paths/~1things/get/produces", problem: "must be a list of strings; ignored", tools: [] },
      ]);
      expect(byOperationId(g.tools, "addThing").inputSchema.properties).toEqual({ name: { type: "string" } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a broken security scheme", () => {
  it("excludes only the operations that use it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "countersign-scheme-"));
    try {
      const file = path.join(dir, "scheme.json");
      const spec = {
        openapi: "3.0.3",
        info: { title: "t", version: "1" },
        components: { securitySchemes: { broken: { $ref: "#/components/nowhere" }, key: { type: "apiKey", in: "header", name: "X-Key" } } },
        paths: {
          "/open": { get: { operationId: "openThing", security: [{ key: [] }], responses: {} } },
          "/locked": { get: { operationId: "lockedThing", security: [{ broken: [] }], responses: {} } },
        },
      };
      await writeFile(file, JSON.stringify(spec));
      const g = await generateSpec(file);
      expect(g.tools.map((t) => t.name)).toEqual(["open_thing"]);
      expect(g.manifest.excluded).toEqual([
        { operationId: "lockedThing", method: "GET", path: "/locked", reason: 'invalid: unresolvable $ref "#/components/nowhere": nothing at that location (#/components/securitySchemes/broken)' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("contradictory and mistyped schema keywords", () => {
  it("relax an allOf no value can satisfy and drop keyword values of the wrong type, with warnings", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "countersign-keywords-"));
    try {
      const file = path.join(dir, "keywords.json");
      const body = {
        type: "object",
        properties: {
          both: { description: "Never satisfiable.", allOf: [{ type: "string" }, { type: "integer" }] },
          count: { type: "integer", minimum: "one", maxLength: -2 },
          colour: { type: "string", enum: "red" },
          fine: { allOf: [{ type: "number" }, { type: "integer", minimum: 0 }] },
        },
      };
      const spec = {
        openapi: "3.0.3",
        info: { title: "t", version: "1" },
        paths: { "/things": { post: { operationId: "addThing", requestBody: { content: { "application/json": { schema: body } } }, responses: {} } } },
      };
      await writeFile(file, JSON.stringify(spec));
      const g = await generateSpec(file);
      expectSound(g.tools);
      expect(g.tools[0]!.inputSchema.properties).toEqual({
        both: { description: "Never satisfiable." },
        count: { type: "integer" },
        colour: { type: "string" },
        fine: { type: "integer", minimum: 0 },
      });
      const at = "#/paths/~1things/post/requestBody/content/application~1json/schema/properties";
      expect((g.manifest.warnings ?? []).map((w) => `${w.pointer}: ${w.problem}`)).toEqual([
        `${at}/both/allOf: allOf requires types that no value has at once (string, integer); accepted any value instead`,
        `${at}/colour/enum: invalid value "red" for enum; ignored`,
        `${at}/count/maxLength: invalid value -2 for maxLength; ignored`,
        `${at}/count/minimum: invalid value "one" for minimum; ignored`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
