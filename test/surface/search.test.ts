import { describe, expect, it } from "vitest";
import { createToolSearch, toolSearchFor, warmToolSearch } from "../../src/surface/search.js";
import { stem, synonymsOf, words } from "../../src/surface/text.js";
import { trackerTools } from "./tool-fixtures.js";

const search = createToolSearch(trackerTools);
const top = (q: string, n = 1) => search.search(q, { limit: n }).map((h) => h.name);

describe("text normalisation", () => {
  it("splits identifiers and stems inflections onto one key", () => {
    expect(words("listIssueComments time_entries /repos/{owner}")).toEqual(["list", "issue", "comments", "time", "entries", "repos", "owner"]);
    for (const group of [["task", "tasks"], ["entry", "entries"], ["release", "releases", "released", "releasing"], ["log", "logged", "logging"], ["box", "boxes"]]) {
      expect(new Set(group.map(stem)).size, group.join()).toBe(1);
    }
    expect(stem("status")).toBe("status");
  });

  it("synonyms are looked up by stem", () => {
    expect(synonymsOf(stem("delete"))).toContain(stem("remove"));
    expect(synonymsOf(stem("logged"))).toContain(stem("entries"));
  });
});

describe("tool search", () => {
  it("ranks by what the request means", () => {
    expect(top("delete a task")).toEqual(["tasks_delete"]);
    expect(top("remove the task")).toEqual(["tasks_delete"]);
    expect(top("creating new tasks")).toEqual(["tasks_create"]);
    expect(top("add a comment to the ticket")).toEqual(["comments_create"]);
    expect(top("move the task to done")).toEqual(["tasks_update"]);
    expect(top("who logged time last week", 2)).toContain("time_entries_list");
    expect(top("kick someone out of the workspace")).toEqual(["members_remove"]);
  });

  it("tolerates typos and prefixes", () => {
    expect(top("delte taks")).toEqual(["tasks_delete"]);
    expect(top("comm", 2).every((n) => n.startsWith("comments_"))).toBe(true);
  });

  it("answers name, module, summary and a score, best first", () => {
    const hits = search.search("list tasks");
    expect(hits[0]).toEqual({ name: "tasks_list", module: "tasks", summary: "List tasks in a project.", score: expect.any(Number) });
    const scores = hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("puts an exact tool name first", () => {
    const hits = search.search("members_list");
    expect(hits[0].name).toBe("members_list");
    expect(Number.isFinite(hits[0].score)).toBe(true);
  });

  it("filters by module and scope, and clamps the limit", () => {
    expect(search.search("list", { module: "comments" }).map((h) => h.module)).toEqual(["comments"]);
    expect(search.search("task", { allow: (t) => t.module !== "tasks" }).some((h) => h.module === "tasks")).toBe(false);
    expect(search.search("a task", { limit: 2 })).toHaveLength(2);
    expect(search.search("task list get create comment member time", { limit: 500 }).length).toBeLessThanOrEqual(50);
    expect(search.search("the of a")).toEqual([]);
  });

  it("builds one index per tool list", () => {
    expect(toolSearchFor(trackerTools)).toBe(toolSearchFor(trackerTools));
    expect(toolSearchFor([...trackerTools])).not.toBe(toolSearchFor(trackerTools));
  });
});

describe("warming the index in the background", () => {
  const queries = ["list tasks", "delete a comment", "log time on a task", "project members"];
  const expected = queries.map((q) => search.search(q, { limit: 5 }));

  it("answers a search made before warming is done exactly as a fully built index", () => {
    const tools = [...trackerTools];
    warmToolSearch(tools);
    expect(queries.map((q) => toolSearchFor(tools).search(q, { limit: 5 }))).toEqual(expected);
  });

  it("fills the index a few tools per turn and then answers the same", async () => {
    const tools = [...trackerTools];
    warmToolSearch(tools);
    for (let i = 0; i < tools.length; i++) await new Promise((r) => setImmediate(r));
    expect(queries.map((q) => toolSearchFor(tools).search(q, { limit: 5 }))).toEqual(expected);
    expect(expected.flat().length).toBeGreaterThan(0);
  });

  it("can start later, and answers the same then", async () => {
    const tools = [...trackerTools];
    warmToolSearch(tools, { afterMs: 20 });
    await new Promise((r) => setTimeout(r, 40));
    for (let i = 0; i < tools.length; i++) await new Promise((r) => setImmediate(r));
    expect(queries.map((q) => toolSearchFor(tools).search(q, { limit: 5 }))).toEqual(expected);
  });
});
