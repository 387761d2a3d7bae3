/**
 * References to earlier writes' results (src/code/refs.ts) and the TypeScript declarations of the
 * api object (codegen/api-types.ts).
 */
import { describe, expect, it } from "vitest";
import { fillRefs, refsIn } from "../../src/code/refs.js";
import { GatewayError } from "../../src/errors.js";
import { buildApiTypes, renderApiTypes, toolDeclaration } from "../../codegen/api-types.js";
import { TASK_TOOLS } from "../fixtures/confirm/tasks-api.js";

describe("references", () => {
  const results = new Map<number, unknown>([[1, { id: "p-1", owner: { id: 7 }, tags: ["a"] }], [2, { id: "t-2" }]]);

  it("finds every step a value refers to, anywhere inside it", () => {
    expect([...refsIn({ a: "${w1.id}", b: ["x ${w2.id} y", { c: "${w1.owner.id}" }], d: 3 })].sort()).toEqual([1, 2]);
    expect(refsIn({ a: "$w1.id", b: "{w1.id}", c: "${x1.id}" }).size).toBe(0);
  });

  it("fills a whole-value reference with the value's own type, and one inside a string as text", () => {
    expect(fillRefs({ project_id: "${w1.id}", owner: "${w1.owner.id}", tags: "${w1.tags}", title: "For ${w1.id} and ${w2.id}", n: 5 }, results))
      .toEqual({ project_id: "p-1", owner: 7, tags: ["a"], title: "For p-1 and t-2", n: 5 });
    expect(fillRefs(["${w2.id}", { deep: ["${w1.owner.id}"] }], results)).toEqual(["t-2", { deep: [7] }]);
    expect(fillRefs({ whole: "${w1}" }, results)).toEqual({ whole: { id: "p-1", owner: { id: 7 }, tags: ["a"] } });
  });

  it("refuses a reference to a step that has not run, or to a field its result does not have", () => {
    expect(() => fillRefs({ a: "${w3.id}" }, results)).toThrow(GatewayError);
    expect(() => fillRefs({ a: "${w3.id}" }, results)).toThrow("refers to a write that has not run");
    expect(() => fillRefs({ a: "${w1.nope}" }, results)).toThrow("has no field 'nope'");
  });
});

describe("api types", () => {
  it("declares each tool with its arguments, optional ones marked, and a write's Pending result", () => {
    const create = TASK_TOOLS.find((t) => t.name === "create_task")!;
    expect(toolDeclaration(create).declaration).toMatch(/^\/\*\* Create a task in a project\. Write: sends nothing, joins the run's change set\. \*\/\ncreate_task\(args: \{ project_id: number; title: string; status\?: .*\}\): Promise<Pending>;$/);
    const list = TASK_TOOLS.find((t) => t.name === "list_tasks")!;
    expect(toolDeclaration(list).declaration.split("\n")[1]).toBe("list_tasks(args: { project_id: number }): Promise<unknown>;");
  });

  it("renders modules as namespaces, with only the allowed tools", () => {
    const file = buildApiTypes(TASK_TOOLS);
    const text = renderApiTypes(file, ["tasks"], (name) => name !== "create_task");
    expect(text).toContain("type Pending = {");
    expect(text).toContain("declare namespace api.tasks {");
    expect(text).toContain("function list_tasks(");
    expect(text).not.toContain("function create_task(");
  });

  it("turns $defs into named types and quotes names that are not identifiers", () => {
    const tool = {
      ...TASK_TOOLS[0]!,
      name: "get_thing",
      inputSchema: { type: "object", properties: { "If-Match": { type: "string" }, ids: { type: "array", items: { type: "string" } } }, required: ["ids"] },
      outputSchema: { type: "object", properties: { item: { $ref: "#/$defs/Thing" }, kind: { enum: ["a", "b"] }, n: { type: ["integer", "null"] } }, $defs: { Thing: { type: "object", properties: { id: { type: "string" }, next: { $ref: "#/$defs/Thing" } }, required: ["id"] } } },
    };
    const d = toolDeclaration(tool);
    expect(d.declaration.split("\n")[1]).toBe('get_thing(args: { "If-Match"?: string; ids: string[] }): Promise<{ item?: Thing; kind?: "a" | "b"; n?: number | null }>;');
    expect(d.types).toEqual({ Thing: "{ id: string; next?: Thing }" });
  });
});
