import { describe, expect, it } from "vitest";
import { conciseAnnotations, describeRepeatsOnce, firstSentence, listedSchema, restatesName } from "../../src/surface/concise.js";

describe("concise listing", () => {
  it("keeps the first sentence, skipping abbreviations, and cuts long ones at a word", () => {
    expect(firstSentence("Task filters, as accepted by listTasks (e.g. status, assignee). More text.")).toBe("Task filters, as accepted by listTasks (e.g. status, assignee).");
    expect(firstSentence("The   name.\nSecond line.")).toBe("The name.");
    const long = firstSentence(`A unique key ${"that makes a create safe to retry ".repeat(6)}end.`, 60);
    expect(long.length).toBeLessThanOrEqual(60);
    expect(long.endsWith("…")).toBe(true);
  });

  it("drops descriptions that only restate the parameter name, and nested titles", () => {
    expect(restatesName("task_id", "ID of the task.")).toBe(true);
    expect(restatesName("limit", "Maximum number of items to return.")).toBe(false);
    const s = listedSchema(
      { type: "object", title: "Args", properties: { task_id: { type: "string", description: "The ID of the task." }, body: { title: "Body", type: "object", description: "First. Second." } } },
      "default",
    ) as any;
    expect(s.title).toBe("Args");
    expect(s.properties.task_id).toEqual({ type: "string" });
    expect(s.properties.body).toEqual({ type: "object", description: "First." });
  });

  it("omits annotation hints MCP already implies", () => {
    expect(conciseAnnotations({ title: "List tasks", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true }, "List tasks", "List tasks")).toEqual({ readOnlyHint: true });
    expect(conciseAnnotations({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true }, "x", "x")).toBeUndefined();
    expect(conciseAnnotations({ readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false }, "x", "x")).toEqual({ destructiveHint: false, idempotentHint: true, openWorldHint: false });
  });

  it("describes a repeated parameter once per list", () => {
    const cursor = { type: "string", description: "Opaque cursor." };
    const tools = ["a", "b", "c"].map((name) => ({ name, inputSchema: { type: "object", properties: { cursor, [`${name}_x`]: { type: "string", description: "Other." } } } }));
    const out = describeRepeatsOnce(tools) as any[];
    expect(out[0].inputSchema.properties.cursor).toEqual(cursor);
    expect(out[1].inputSchema.properties.cursor).toEqual({ type: "string" });
    expect(out[2].inputSchema.properties.c_x.description).toBe("Other.");
    expect(tools[1].inputSchema.properties.cursor).toBe(cursor); // inputs untouched
  });
});

describe("describeRepeatsOnce in nested bodies", () => {
  it("drops a repeated nested description and leaves the first", () => {
    const body = { type: "object", properties: { name: { type: "string", description: "Report name." } } };
    const tools = ["create_report", "update_report"].map((name) => ({ name, inputSchema: { type: "object", properties: { body } } }));
    const out = describeRepeatsOnce(tools) as any[];
    expect(out[0].inputSchema.properties.body.properties.name.description).toBe("Report name.");
    expect(out[1].inputSchema.properties.body.properties.name).toEqual({ type: "string" });
    expect(out[0]).toBe(tools[0]);
  });
});
