/** A real third-party spec generates with zero errors, valid unique names and strict-compiling schemas. */
import { describe, expect, it } from "vitest";
import { expectSound, fixture, generateSpec } from "./helpers.js";


describe("multipart (Box)", () => {
  it("marks file parts and keeps the multipart media type", async () => {
    const { tools } = await generateSpec(fixture("awkward-multipart-box.json.gz"));
    expectSound(tools);
    const multipart = tools.filter((t) => t.binding.body?.mediaType === "multipart/form-data");
    expect(multipart.length).toBeGreaterThan(0);
    const upload = multipart.find((t) => t.binding.body?.fileProperties?.includes("file"));
    expect(upload, "an upload tool with a file part").toBeDefined();
    const fileSchema = (upload!.inputSchema.properties as Record<string, Record<string, unknown>>)[upload!.binding.body!.mode === "flat" ? "file" : "body"];
    expect(fileSchema).toBeDefined();
    expect(JSON.stringify(upload!.inputSchema)).not.toContain('"format":"binary"');
  });
});
