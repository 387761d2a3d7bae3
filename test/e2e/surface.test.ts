/**
 * The large-surface features end to end: a real gateway behind the real Streamable HTTP transport,
 * driven by the SDK's Client — exposure modes per connection, discovery meta-tools, call_tool
 * through the full chain, enable_modules with tools/list_changed, schema profiles.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createRegistry } from "../../src/registry.js";
import { isDiscoveryTool } from "../../src/surface/exposure.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { startTasksUpstream, TASK_TOOLS, type TasksUpstream } from "../fixtures/confirm/tasks-api.js";
import { trackerTools } from "../surface/tool-fixtures.js";
import { inspectorLint, strictProfileLint } from "../surface/portability-lint.js";

const CREDENTIAL = mintToken();
const SCOPED = mintToken();
const TINY = mintToken();
const TOOLS = [...TASK_TOOLS, ...trackerTools];
/** Meta-tools every session lists whatever its mode (confirm_action, ...). */
const alwaysListed = () => gateway.metaTools.map((t) => t.name).filter((n) => !isDiscoveryTool(n));

let upstream: TasksUpstream;
let gateway: Gateway;
let http: HttpHandle;
const clients: Client[] = [];

async function connect(query = "", credential = CREDENTIAL): Promise<Client> {
  const client = new Client({ name: "surface-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${http.url}${query}`), {
    requestInit: { headers: { Authorization: `Bearer ${credential}` } },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}

async function names(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((t) => t.name);
}

beforeAll(async () => {
  upstream = await startTasksUpstream();
  const dataDir = mkdtempSync(join(tmpdir(), "cs-surface-"));
  const config = resolveConfig({
    env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_UPSTREAM_URL: upstream.url, LOG_LEVEL: "silent" },
    file: { rateLimits: { tiers: { tiny: { normal: 3, sensitive: 1 } } } },
  });
  const tokens = createMemoryTokenStore();
  const record = { readOnly: false, tier: "default", createdAt: new Date().toISOString() };
  await tokens.create({ id: "tok_all", hash: hashToken(CREDENTIAL), name: "agent", modules: "all", ...record });
  await tokens.create({ id: "tok_scoped", hash: hashToken(SCOPED), name: "scoped", modules: ["time", "people"], ...record });
  await tokens.create({ id: "tok_tiny", hash: hashToken(TINY), name: "tiny", modules: "all", ...record, tier: "tiny" });
  gateway = await createGateway(config, { registry: createRegistry(TOOLS), tokens });
  http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await http?.close();
  await gateway?.close();
  await upstream?.close();
});

describe("exposure modes per connection", () => {
  it("auto picks all for a small scope: every tool, search and describe, no call_tool", async () => {
    const listed = await names(await connect());
    for (const t of TOOLS) expect(listed).toContain(t.name);
    expect(listed).toEqual(expect.arrayContaining(["list_modules", "search_tools", "describe_tool", ...alwaysListed()]));
    expect(listed).not.toContain("call_tool");
    expect(listed).not.toContain("enable_modules");
  });

  it("a token's module scope limits what every mode lists", async () => {
    const listed = await names(await connect("", SCOPED));
    expect(listed.filter((n) => TOOLS.some((t) => t.name === n)).sort()).toEqual(["members_list", "members_remove", "time_entries_create", "time_entries_list"]);
    const dynamic = await connect("?mode=dynamic", SCOPED);
    const hits = await dynamic.callTool({ name: "search_tools", arguments: { query: "delete a task" } });
    expect((hits.structuredContent as { tools: { module: string }[] }).tools.every((h) => ["time", "people"].includes(h.module))).toBe(true);
  });

  it("?mode=dynamic lists only meta-tools", async () => {
    const listed = await names(await connect("?mode=dynamic"));
    expect(listed.sort()).toEqual(["call_tool", "describe_tool", "enable_modules", "list_modules", "search_tools", ...alwaysListed()].sort());
  });

  it("?modules= lists only the named modules, plus the meta-tools", async () => {
    const listed = await names(await connect("?modules=time,people"));
    const generated = listed.filter((n) => TOOLS.some((t) => t.name === n));
    expect(generated.sort()).toEqual(["members_list", "members_remove", "time_entries_create", "time_entries_list"]);
    expect(listed).toContain("enable_modules");
  });

  it("?modules= naming an unknown module is refused as enable_modules refuses it, not answered with the default set", async () => {
    const c = await connect("?modules=time,nope");
    const err = await c.listTools().then(
      () => undefined,
      (e: unknown) => e as { code: number; message: string },
    );
    expect(err?.code).toBe(-32602);
    expect(err?.message).toMatch(/Unknown module\(s\) in \?modules=: nope; list_modules shows the modules you can use/);
    const viaTool = await c.callTool({ name: "enable_modules", arguments: { modules: ["nope"] } });
    expect(viaTool.isError).toBe(true);
    expect(JSON.stringify(viaTool.content)).toMatch(/Unknown module\(s\): nope; list_modules shows the modules you can use/);
  });

  it("?modules= naming a module outside the token's scope is refused the same way", async () => {
    const c = await connect("?modules=time,tasks", SCOPED);
    await expect(c.listTools()).rejects.toThrow(/Unknown module\(s\) in \?modules=: tasks/);
    expect((await (await connect("?modules=time", SCOPED)).listTools()).tools.map((t) => t.name)).toContain("time_entries_list");
  });

  it("refuses an unknown mode with HTTP 400 naming the parameter", async () => {
    const res = await fetch(`${http.url}?mode=everything`, {
      method: "POST",
      headers: { Authorization: `Bearer ${CREDENTIAL}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/mode/);
  });

  it("?profile=strict lists portable schemas", async () => {
    const { tools } = await (await connect("?profile=strict")).listTools();
    for (const t of tools) {
      expect(strictProfileLint(t.inputSchema, t.name)).toEqual([]);
      expect(inspectorLint(t.inputSchema, t.name).filter((f) => f.severity === "error")).toEqual([]);
    }
  });
});

describe("discovery meta-tools in dynamic mode", () => {
  let client: Client;
  beforeAll(async () => {
    client = await connect("?mode=dynamic");
  });

  it("list_modules shows each module with its size", async () => {
    const r = await client.callTool({ name: "list_modules", arguments: {} });
    const modules = (r.structuredContent as { modules: { name: string; tools: number; listed: boolean }[] }).modules;
    expect(modules.find((m) => m.name === "people")).toEqual({ name: "people", description: "", tools: 2, listed: false });
  });

  it("search_tools ranks by purpose and answers name, module, summary, score", async () => {
    const r = await client.callTool({ name: "search_tools", arguments: { query: "remove a member from the workspace", limit: 3 } });
    const hits = (r.structuredContent as { tools: { name: string; module: string; summary: string; score: number }[] }).tools;
    expect(hits[0]).toEqual({ name: "members_remove", module: "people", summary: "Remove a member from the workspace.", score: expect.any(Number) });
    expect(hits.length).toBeLessThanOrEqual(3);
    const filtered = await client.callTool({ name: "search_tools", arguments: { query: "delete", module: "comments" } });
    expect((filtered.structuredContent as { tools: { module: string }[] }).tools.every((h) => h.module === "comments")).toBe(true);
    const bad = await client.callTool({ name: "search_tools", arguments: { query: "x", module: "nope" } });
    expect(bad.isError).toBe(true);
  });

  it("describe_tool returns the schema, annotations and HTTP binding", async () => {
    const r = await client.callTool({ name: "describe_tool", arguments: { name: "tasks_create" } });
    const d = r.structuredContent as Record<string, any>;
    expect(d.http).toEqual({ method: "POST", path: "/projects/{project_id}/tasks" });
    expect(d.inputSchema.properties.due_date).toEqual({ type: "string", format: "date" });
    expect(d.annotations).toEqual({ readOnlyHint: false, destructiveHint: false });
    expect(d.write).toBe(true);
    // Where each argument goes (these fixtures bind none; test/codegen/body-shape.test.ts has real ones).
    expect(d.arguments).toEqual({});
    const strict = await (await connect("?mode=dynamic&profile=strict")).callTool({ name: "describe_tool", arguments: { name: "tasks_create" } });
    expect((strict.structuredContent as Record<string, any>).inputSchema.properties.due_date).toEqual({ type: "string", description: "(format: date)" });
    expect((await client.callTool({ name: "describe_tool", arguments: { name: "no_such_tool" } })).isError).toBe(true);
  });

  it("call_tool runs a read through the chain and returns the upstream's answer", async () => {
    const r = await client.callTool({ name: "call_tool", arguments: { name: "list_tasks", arguments: { project_id: 42 } } });
    expect(r.isError).toBeFalsy();
    expect(JSON.stringify(r.content)).toContain("Draft launch plan");
  });

  it("call_tool of a write returns a pending action, and nothing reaches the upstream", async () => {
    const before = upstream.writes.length;
    const r = await client.callTool({ name: "call_tool", arguments: { name: "create_task", arguments: { project_id: 42, title: "Via call_tool" } } });
    const s = r.structuredContent as Record<string, unknown>;
    expect(s.status).toBe("pending_confirmation");
    expect(String(s.confirm_token)).toMatch(/^cfm_/);
    expect(upstream.writes.length).toBe(before);
  });

  it("call_tool validates like a direct call", async () => {
    const r = await client.callTool({ name: "call_tool", arguments: { name: "list_tasks", arguments: { project_id: "forty-two" } } });
    expect(r.isError).toBe(true);
    expect((r.structuredContent as { error: { code: string } }).error.code).toBe("invalid_arguments");
  });

  it("call_tool counts once against the rate limit, like a direct call, and answers HTTP 429 past it", async () => {
    const c = await connect("?mode=dynamic", TINY);
    // The session's initialize took the first of the token's 3 points.
    for (let i = 0; i < 2; i++) {
      const r = await c.callTool({ name: "call_tool", arguments: { name: "list_tasks", arguments: { project_id: 42 } } });
      expect(r.isError, JSON.stringify(r.structuredContent)).toBeFalsy();
    }
    await expect(c.callTool({ name: "call_tool", arguments: { name: "list_tasks", arguments: { project_id: 42 } } })).rejects.toThrow(/429|rate/i);
  });

  it("enable_modules adds tools and the client receives tools/list_changed", async () => {
    const c = await connect("?mode=dynamic");
    let changed = 0;
    c.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changed++;
    });
    const r = await c.callTool({ name: "enable_modules", arguments: { modules: ["time"] } });
    expect(r.isError).toBeFalsy();
    await expect.poll(() => changed, { timeout: 5000 }).toBe(1);
    const listed = await names(c);
    expect(listed).toEqual(expect.arrayContaining(["time_entries_list", "time_entries_create", "search_tools"]));
    expect(listed).not.toContain("tasks_list");
    const unknown = await c.callTool({ name: "enable_modules", arguments: { modules: ["billing"] } });
    expect(unknown.isError).toBe(true);
  });
});
