/**
 * What search indexes beside the words of a tool: the request's verb (intent), the resource a path
 * is about, agent nouns found by their verb, synonyms of common API vocabulary, and the keywords a
 * spec adds with `x-mcp-keywords` (on an operation or on its tag).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { loadSpec } from "../../codegen/load-spec.js";
import { buildTools } from "../../codegen/operations.js";
import { DEFAULT_RULES } from "../../codegen/rules.js";
import { intentFactor, queryIntents, toolIntent } from "../../src/surface/intent.js";
import { createToolSearch } from "../../src/surface/search.js";
import { toolsOf } from "./apis.js";

const dir = mkdtempSync(join(tmpdir(), "cs-search-meaning-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function build(spec: object): Promise<ReturnType<typeof buildTools>> {
  const file = join(dir, `spec-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return buildTools(await loadSpec(file), DEFAULT_RULES);
}

const ok = { "200": { description: "ok" } };

/** A cloud API that calls its servers by a product name, as real ones do. */
const cloud = {
  openapi: "3.0.3",
  info: { title: "cloud", version: "1" },
  tags: [{ name: "droplets", description: "Virtual machines", "x-mcp-keywords": ["server", "vm"] }, { name: "volumes" }, { name: "images", "x-mcp-keywords": { os: true } }],
  paths: {
    "/v2/droplets": {
      get: { operationId: "droplets_list", tags: ["droplets"], summary: "List all Droplets", responses: ok },
      post: { operationId: "droplets_create", tags: ["droplets"], summary: "Create a new Droplet", responses: ok },
    },
    "/v2/droplets/{id}": { delete: { operationId: "droplets_destroy", tags: ["droplets"], summary: "Destroy a Droplet", parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: ok } },
    "/v2/volumes": { get: { operationId: "volumes_list", tags: ["volumes"], summary: "List block storage", "x-mcp-keywords": "disk, drive", responses: ok } },
    "/v2/snapshots": { get: { operationId: "snapshots_list", summary: "List snapshots", "x-mcp-keywords": 42, responses: ok } },
    "/v2/images": { get: { operationId: "images_list", tags: ["images"], summary: "List images", responses: ok } },
  },
};

describe("x-mcp-keywords", () => {
  it("on a tag or an operation become the tool's keywords, and search finds the tool by them", async () => {
    const built = await build(cloud);
    const byName = new Map(built.tools.map((t) => [t.name, t]));
    expect(byName.get("droplets_list")?.keywords).toEqual(["server", "vm"]);
    expect(byName.get("volumes_list")?.keywords).toEqual(["disk", "drive"]);
    expect(byName.get("snapshots_list")?.keywords).toBeUndefined();
    expect(built.warnings.map((w) => w.pointer)).toContain("#/paths/~1v2~1snapshots/get/x-mcp-keywords");
    expect(built.warnings.map((w) => w.pointer)).toContain("#/tags/2/x-mcp-keywords");
    expect(byName.get("images_list")?.keywords).toBeUndefined();
    const search = createToolSearch(built.tools, built.modules);
    expect(search.search("show me all my servers", { limit: 1 })[0]?.name).toBe("droplets_list");
    expect(search.search("spin up a new VM", { limit: 1 })[0]?.name).toBe("droplets_create");
    expect(search.search("shut down and delete the server", { limit: 1 })[0]?.name).toBe("droplets_destroy");
    expect(search.search("which disks do I have", { limit: 1 })[0]?.name).toBe("volumes_list");
  });

  it("a tag's description is indexed with its module: a request in its words finds the tools", async () => {
    const spec = structuredClone(cloud);
    spec.tags[0] = { name: "droplets", description: "Virtual machines" } as (typeof spec.tags)[0];
    const built = await build(spec);
    const withModules = createToolSearch(built.tools, built.modules);
    expect(withModules.search("virtual machines", { limit: 3 }).map((h) => h.module)).toEqual(["droplets", "droplets", "droplets"]);
    // Without the module's description no word of the request names a droplet.
    expect(createToolSearch(built.tools).search("virtual machines", { limit: 3 }).filter((h) => h.module === "droplets")).toEqual([]);
  });

  it("are absent from every tool of a spec that has none (the generated output does not change)", async () => {
    for (const t of await toolsOf("workspace")) expect(t.keywords).toBeUndefined();
  });
});

describe("intent", () => {
  it("reads the request's leading verb, past the polite words", () => {
    expect(queryIntents("please add a customer")).toEqual(new Set(["create"]));
    expect(queryIntents("can you remove Sam from the team")).toEqual(new Set(["delete"]));
    expect(queryIntents("show all my repos")).toEqual(new Set(["list"]));
    expect(queryIntents("how many open issues")).toEqual(new Set(["list"]));
    expect(queryIntents("sprint burndown chart")).toBeUndefined();
  });

  it("reads a tool's intent from its method and path", async () => {
    const tools = await toolsOf("stripe");
    const intent = (name: string) => toolIntent(tools.find((t) => t.name === name)!);
    expect(intent("get_customers")).toBe("list");
    expect(intent("get_customers_customer")).toBe("get");
    expect(intent("get_balance")).toBe("get");
    expect(intent("post_customers")).toBe("create");
    expect(intent("post_customers_customer")).toBe("update");
    expect(intent("delete_customers_customer")).toBe("delete");
    expect(intent("post_payouts_payout_cancel")).toBe("action");
  });

  it("lifts a match, lowers a read for a write and a write for a read, and leaves requests without a verb alone", () => {
    expect(intentFactor(new Set(["create"]), "create")).toBeGreaterThan(1);
    expect(intentFactor(new Set(["create"]), "list")).toBeLessThan(1);
    expect(intentFactor(new Set(["list"]), "delete")).toBeLessThan(1);
    expect(intentFactor(undefined, "delete")).toBe(1);
  });
});

describe("what a path is about, and nouns found by their verb", () => {
  it("ranks the collection itself first for its plain request", async () => {
    const search = createToolSearch(await toolsOf("stripe"));
    // (GET /customers/search is a list of customers too; a customer's tax ids still come close.)
    expect(search.search("list all my customers", { limit: 3 }).map((h) => h.name)).toContain("get_customers");
    expect(search.search("delete the customer", { limit: 1 })[0]?.name).toBe("delete_customers_customer");
    expect(search.search("add a new customer", { limit: 1 })[0]?.name).toBe("post_customers");
  });

  it("finds followers, contributors and reviewers by the verb", async () => {
    const search = createToolSearch((await toolsOf("github")) as ToolDescriptor[]);
    const top5 = (q: string) => search.search(q, { limit: 5 }).map((h) => h.name);
    expect(top5("who follows octocat")).toContain("users_list_followers_for_user");
    expect(top5("who contributed to this repo")).toContain("repos_list_contributors");
    expect(top5("ask someone to review my pull request")).toContain("pulls_request_reviewers");
  });
});
