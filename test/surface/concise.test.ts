import { describe, expect, it } from "vitest";
import { createArgumentValidator } from "../../src/stages/validate.js";
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

describe("describeRepeatsOnce remembers lists", () => {
  const cursor = { type: "string", description: "Opaque cursor." };
  const [a, b, c] = ["a", "b", "c"].map((name) => ({ name, inputSchema: { type: "object", properties: { cursor } } }));

  it("answers the same list again with the same tools, in a fresh array", () => {
    const first = describeRepeatsOnce([a, b]);
    const again = describeRepeatsOnce([a, b]);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    expect(again[1]).toBe(first[1]);
    again.pop();
    expect(describeRepeatsOnce([a, b])).toHaveLength(2);
  });

  it("works a different list out anew, even with the same first tool", () => {
    describeRepeatsOnce([a, b]);
    const other = describeRepeatsOnce([a, c]) as any[];
    expect(other[1].name).toBe("c");
    expect(other[1].inputSchema.properties.cursor).toEqual({ type: "string" });
    // Alone, b is the first to carry the text, so it keeps it.
    expect((describeRepeatsOnce([b]) as any[])[0].inputSchema.properties.cursor).toEqual(cursor);
    expect(describeRepeatsOnce([])).toEqual([]);
  });
});

describe("listedSchema with memoised texts", () => {
  it("drops a description restating its property only at the top level, the same each time", () => {
    const schema = () => ({ type: "object", properties: { task_id: { type: "string", description: "ID of the task." }, body: { type: "object", properties: { task_id: { type: "string", description: "ID of the task." } } } } });
    for (let i = 0; i < 2; i++) {
      const s = listedSchema(schema(), "default") as any;
      expect(s.properties.task_id).toEqual({ type: "string" });
      expect(s.properties.body.properties.task_id.description).toBe("ID of the task.");
    }
    // Nothing else to say: the restated text stays rather than leaving an empty schema.
    expect((listedSchema({ type: "object", properties: { task_id: { description: "ID of the task." } } }, "default") as any).properties.task_id).toEqual({ description: "ID of the task." });
  });

  it("lists without validation-only keywords, which the validate stage still enforces", () => {
    const inputSchema = {
      type: "object",
      properties: {
        title: { type: "string", minLength: 1, maxLength: 10 },
        tags: { type: "array", uniqueItems: true, items: { type: "string" } },
        meta: { type: "object", additionalProperties: { type: "string" } },
      },
      required: ["title"],
      additionalProperties: false,
    };
    const listed = listedSchema(inputSchema, "default") as any;
    expect(listed.additionalProperties).toBeUndefined();
    expect(listed.properties.title).toEqual({ type: "string" });
    expect(listed.properties.tags).toEqual({ type: "array", items: { type: "string" } });
    // An open map keeps its value schema: only `false` is dropped.
    expect(listed.properties.meta.additionalProperties).toEqual({ type: "string" });
    expect(listed.required).toEqual(["title"]);

    const tool = { name: "t", inputSchema } as never;
    const validator = createArgumentValidator();
    expect(validator.validate(tool, { title: "ok", tags: ["a"] }).ok).toBe(true);
    const refused = validator.validate(tool, { title: "far too long a title", tags: ["a", "a"], extra: 1 });
    expect(refused.ok).toBe(false);
    const paths = (refused as { problems: { path: string }[] }).problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(["/title", "/tags"]));
  });
});
