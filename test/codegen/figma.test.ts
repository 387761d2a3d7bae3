/** A real third-party spec generates with zero errors, valid unique names and strict-compiling schemas. */
import { describe, expect, it } from "vitest";
import { expectSound, fixture, generateSpec } from "./helpers.js";


describe("OpenAPI 3.1 type arrays (Figma)", () => {
  it("keeps [T, null] and splits wider unions so strict ajv accepts them", async () => {
    const { tools, manifest } = await generateSpec(fixture("awkward-oas31-figma.yaml.gz"));
    expectSound(tools);
    expect(tools.length + manifest.excluded.length).toBe(54);
    expect(JSON.stringify(tools.map((t) => t.outputSchema))).toMatch(/"type":\["[a-z]+","null"\]/);
  });
});
