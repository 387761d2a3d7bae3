/** The real third-party specs generate with zero errors, valid unique names and strict-compiling schemas. */
import { describe, expect, it } from "vitest";
import { byOperationId, expectSound, fixture, generateSpec } from "./helpers.js";


describe("parameter styles", () => {
  it("3.0: carries style/explode per argument, with OpenAPI defaults filled in", async () => {
    const { tools } = await generateSpec(fixture("fixture-parameter-styles-3.0.json.gz"));
    expectSound(tools);
    const args = tools.flatMap((t) => t.binding.arguments);
    const deep = args.find((a) => a.style === "deepObject");
    expect(deep).toMatchObject({ in: "query", explode: true });
    expect(args.some((a) => a.in === "path" && a.style === "label")).toBe(true);
    expect(args.some((a) => a.in === "path" && a.style === "matrix")).toBe(true);
    expect(args.some((a) => a.style === "pipeDelimited")).toBe(true);
    expect(args.some((a) => a.style === "spaceDelimited")).toBe(true);
    // Defaults: query/cookie → form + explode, path/header → simple, no explode.
    for (const a of args) {
      if (a.style === "form") expect(typeof a.explode).toBe("boolean");
      if (a.in === "header") expect(a.style).toBe("simple");
    }
    const cookie = args.filter((a) => a.in === "cookie");
    expect(cookie.length).toBeGreaterThan(0);
    expect(cookie.every((a) => a.style === "form")).toBe(true);
  });

  it("3.1: same bindings from a 3.1 document", async () => {
    const { tools } = await generateSpec(fixture("fixture-parameter-styles-3.1.json.gz"));
    expectSound(tools);
    expect(tools.flatMap((t) => t.binding.arguments).some((a) => a.style === "deepObject")).toBe(true);
  });
});

describe("cookies", () => {
  it("puts cookie parameters in the input schema with location cookie", async () => {
    const { tools } = await generateSpec(fixture("fixture-cookie-params.json.gz"));
    expectSound(tools);
    const [tool] = tools;
    expect(tool!.binding.arguments.map((a) => [a.name, a.in, a.style, a.explode])).toEqual([
      ["foo", "cookie", "form", true],
      ["bar", "cookie", "form", true],
    ]);
    expect(Object.keys(tool!.inputSchema.properties as object)).toEqual(["foo", "bar"]);
  });
});

describe("recursion", () => {
  it("keeps recursive schemas as $defs references instead of expanding them", async () => {
    const { tools } = await generateSpec(fixture("fixture-circular-request-bodies.json.gz"));
    expectSound(tools);
    const direct = byOperationId(tools, "directCircular");
    const defs = direct.inputSchema.$defs as Record<string, unknown>;
    expect(Object.keys(defs)).toContain("TreeNode");
    expect(JSON.stringify(direct.inputSchema)).toContain('"$ref":"#/$defs/TreeNode"');
    const indirect = byOperationId(tools, "indirectCircular");
    expect(Object.keys(indirect.inputSchema.$defs as object).sort()).toEqual(["Company", "Person"]);
    // A recursive response is unwrapped one level so the output schema is still an object.
    expect(indirect.outputSchema?.type).toBe("object");
  });
});

describe("allOf / oneOf (Scalar Galaxy, 3.1)", () => {
  it("merges allOf and keeps oneOf/anyOf", async () => {
    const { tools } = await generateSpec(fixture("fixture-scalar-galaxy-3.1.json.gz"));
    expectSound(tools);
    const text = JSON.stringify(tools.map((t) => [t.inputSchema, t.outputSchema]));
    expect(text).not.toContain('"allOf"');
    expect(text).not.toMatch(/"(discriminator|example|examples|xml|externalDocs|nullable|readOnly|writeOnly)"\s*:/);
    expect(text).toMatch(/"(oneOf|anyOf)"/);
  });
});

describe("Swagger 2.0", () => {
  it("converts Petstore and binds formData and path parameters", async () => {
    const { tools, manifest } = await generateSpec(fixture("awkward-swagger2-petstore.json.gz"));
    expectSound(tools);
    expect(tools.length + manifest.excluded.length).toBe(20);
    const upload = byOperationId(tools, "uploadFile");
    expect(upload.binding.body?.mediaType).toBe("multipart/form-data");
    expect(upload.binding.body?.fileProperties).toEqual(["file"]);
    const find = byOperationId(tools, "findPetsByStatus");
    expect(find.binding.arguments[0]).toMatchObject({ name: "status", in: "query", style: "form", explode: true });
    expect(find.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    const del = byOperationId(tools, "deletePet");
    expect(del.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: true });
    expect(del.policy.write).toBe(true);
    expect(find.binding.serverPath).toBe("/v2");
  });
});
