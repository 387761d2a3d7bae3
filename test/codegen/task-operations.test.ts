/**
 * `x-mcp-task: required` (an operation that runs only as a task, MCP tasks extension): carried
 * into the tool's policy; any other value is a warning naming the pointer, and is ignored.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../codegen/config.js";
import { loadSpec } from "../../codegen/load-spec.js";
import { buildTools } from "../../codegen/operations.js";

const SPEC = `
openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /exports:
    post: { operationId: exportAll, x-mcp-write: false, x-mcp-task: required, responses: { "200": { description: ok } } }
  /imports:
    post: { operationId: importAll, x-mcp-task: maybe, responses: { "200": { description: ok } } }
  /items:
    get: { operationId: listItems, responses: { "200": { description: ok } } }
`;

describe("x-mcp-task", () => {
  it("required goes into the policy; another value warns and is ignored; absent adds nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-task-spec-"));
    writeFileSync(join(dir, "spec.yaml"), SPEC);
    const built = buildTools(await loadSpec(join(dir, "spec.yaml")), parseConfig({}, "test config").rules);
    const byName = Object.fromEntries(built.tools.map((t) => [t.name, t]));
    expect(byName.export_all!.policy.task).toBe("required");
    expect(byName.import_all!.policy).not.toHaveProperty("task");
    expect(byName.list_items!.policy).not.toHaveProperty("task");
    expect(built.warnings.map((w) => [w.pointer, w.problem])).toContainEqual(["#/paths/~1imports/post/x-mcp-task", 'must be "required"; ignored']);
  });
});
