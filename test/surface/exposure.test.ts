import { describe, expect, it } from "vitest";
import { AUTO_TOOL_LIMIT, DISCOVERY_TOOLS, parseModuleList, visibleForSession } from "../../src/surface/exposure.js";
import { tool, trackerTools } from "./tool-fixtures.js";

const many = Array.from({ length: AUTO_TOOL_LIMIT + 1 }, (_, i) =>
  tool({ name: `thing_${i}`, module: i % 2 ? "odd" : "even", method: "GET", path: `/things/${i}`, description: `Thing ${i}.` }),
);

describe("visibleForSession", () => {
  it("all: every tool in the token's scope, plus search and describe", () => {
    const v = visibleForSession({ tools: trackerTools, principalScope: "all", mode: "all" });
    expect(v.tools).toEqual(trackerTools.map((t) => t.name));
    expect(v.metaTools).toEqual(["list_modules", "search_tools", "describe_tool"]);
    const scoped = visibleForSession({ tools: trackerTools, principalScope: ["time"], mode: "all" });
    expect(scoped.tools).toEqual(["time_entries_list", "time_entries_create"]);
  });

  it("modules: only the named modules, limited to the token's scope", () => {
    const v = visibleForSession({ tools: trackerTools, principalScope: ["tasks", "comments"], mode: "modules", modulesParam: ["comments", "people", "nope"] });
    expect(v.tools).toEqual(["comments_create", "comments_list"]);
    expect(v.ignoredModules).toEqual(["people", "nope"]);
    expect(v.metaTools).toEqual(DISCOVERY_TOOLS.filter((t) => t !== "get_api_types"));
  });

  it("modules without a list falls back to the token's scope", () => {
    const v = visibleForSession({ tools: trackerTools, principalScope: ["people"], mode: "modules" });
    expect(v.tools).toEqual(["members_list", "members_remove"]);
  });

  it("?modules= alone selects the modules mode", () => {
    const v = visibleForSession({ tools: trackerTools, principalScope: "all", modulesParam: ["time"] });
    expect(v.mode).toBe("modules");
    expect(v.tools).toEqual(["time_entries_list", "time_entries_create"]);
  });

  it("dynamic: only meta-tools, then the modules the session enabled", () => {
    const v = visibleForSession({ tools: trackerTools, principalScope: "all", mode: "dynamic" });
    expect(v.tools).toEqual([]);
    expect(v.metaTools).toEqual(["list_modules", "search_tools", "describe_tool", "call_tool", "enable_modules"]);
    const enabled = visibleForSession({ tools: trackerTools, principalScope: ["tasks"], mode: "dynamic", enabledModules: ["tasks", "people"] });
    expect(enabled.tools).toEqual(["tasks_list", "tasks_get", "tasks_create", "tasks_update", "tasks_delete"]);
    expect(enabled.ignoredModules).toEqual(["people"]);
  });

  it("auto: all up to 128 tools in scope, dynamic above", () => {
    expect(visibleForSession({ tools: many, principalScope: "all" }).mode).toBe("dynamic");
    expect(visibleForSession({ tools: many, principalScope: ["odd"] }).mode).toBe("all");
    expect(visibleForSession({ tools: many.slice(0, AUTO_TOOL_LIMIT), principalScope: "all" }).mode).toBe("all");
    expect(visibleForSession({ tools: trackerTools, principalScope: "all", autoLimit: 3 }).mode).toBe("dynamic");
  });

  it("parses module lists", () => {
    expect(parseModuleList(" a, b,,a ")).toEqual(["a", "b"]);
    expect(parseModuleList("")).toBeUndefined();
    expect(parseModuleList(undefined)).toBeUndefined();
  });
});
