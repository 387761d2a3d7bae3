import { describe, expect, it } from "vitest";
import { compose } from "../../src/pipeline.js";
import { checkExclusions, createPolicy, createPolicyStage } from "../../src/stages/policy.js";
import { context, principal, tool } from "../tokens/fixtures.js";

const tools = [
  tool("list_tasks"),
  tool("create_task", { write: true }),
  tool("list_projects", { module: "projects" }),
  tool("delete_project", { module: "projects", method: "DELETE", write: true }),
  tool("get_invoice", { module: "billing", excluded: "billing and payments are never exposed" }),
  tool("search_tasks", { method: "POST", write: false }),
  tool("export_all", { module: "admin", operationId: "adminExportAll" }),
];
const byName = (n: string) => tools.find((t) => t.name === n)!;

describe("policy", () => {
  const policy = createPolicy({ exclusions: checkExclusions([{ operationId: "admin*", reason: "admin exports are off in this deployment" }, { tool: "list_projects", module: "projects" }]) });

  it("lists only in-scope, allowed, non-excluded tools", () => {
    expect(policy.visibleTools(principal(), tools).map((t) => t.name)).toEqual(["list_tasks", "create_task", "delete_project", "search_tasks"]);
    expect(policy.visibleTools(principal({ readOnly: true }), tools).map((t) => t.name)).toEqual(["list_tasks", "search_tasks"]);
    expect(policy.visibleTools(principal({ modules: ["projects"] }), tools).map((t) => t.name)).toEqual(["delete_project"]);
    expect(policy.visibleTools(principal({ modules: [] }), tools)).toEqual([]);
  });

  it("refuses with a message naming the tool and why, before anything downstream", async () => {
    let reached = 0;
    const run = compose([createPolicyStage({ policy }), async () => void reached++]);
    const refuse = async (name: string, p = principal()) => {
      const err = await run(context(byName(name), { principal: p })).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: "forbidden" });
      return err as Error & { details: Record<string, unknown> };
    };
    const scope = await refuse("delete_project", principal({ modules: ["tasks"] }));
    expect(scope.message).toMatch(/'delete_project'.*module 'projects'.*outside this token's scope \(modules: tasks\)/);
    expect(scope.details.reason).toBe("scope");
    const ro = await refuse("delete_project", principal({ readOnly: true }));
    expect(ro.message).toBe("Tool 'delete_project' changes data (DELETE /delete_project) and this token is read-only");
    expect(ro.details.reason).toBe("read_only");
    const spec = await refuse("get_invoice");
    expect(spec.message).toMatch(/'get_invoice' is excluded and can't be called: billing and payments/);
    const cfg = await refuse("export_all");
    expect(cfg.message).toMatch(/admin exports are off/);
    const cfg2 = await refuse("list_projects");
    expect(cfg2.message).toMatch(/excluded by the gateway configuration/);
    expect(reached).toBe(0);
    await run(context(byName("search_tasks"), { principal: principal({ readOnly: true }) }));
    const ctx = context(byName("create_task"), { principal: principal({ modules: ["tasks"] }) });
    await run(ctx);
    expect(reached).toBe(2);
  });

  it("validates config exclusions, naming the bad entry", () => {
    expect(() => checkExclusions({})).toThrow(/exclusions must be a list/);
    expect(() => checkExclusions([{}])).toThrow(/exclusions\[0\] must name at least one of upstream, tool, module, operationId/);
    expect(() => checkExclusions([{ tool: "a" }, { tol: "b" }])).toThrow(/exclusions\[1\]\.tol is not a known field/);
    expect(() => checkExclusions([{ module: 3 }])).toThrow(/exclusions\[0\]\.module must be a non-empty string/);
    expect(checkExclusions(undefined)).toEqual([]);
  });

  it("treats patterns literally apart from *", () => {
    const p = createPolicy({ exclusions: [{ tool: "list.tasks" }] });
    expect(p.exclusionOf(tool("list_tasks"))).toBeUndefined();
    expect(p.exclusionOf(tool("list.tasks"))).toBeDefined();
  });
});
