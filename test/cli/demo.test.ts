import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemo, stopDemo, type RunningDemo } from "./start-demo.js";

describe("countersign demo", () => {
  let dir: string;
  let demo: RunningDemo;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "demo-"));
    // A missing generated folder is generated on the way (what a fresh clone does).
    demo = await startDemo(dir, ["--generated", join(dir, "gen")]);
  }, 90_000);
  afterAll(async () => {
    if (demo?.child.exitCode === null) demo.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints a working dev token and set-ups that point at the running services", async () => {
    const entry = demo.desktop.mcpServers.countersign;
    expect(entry.env.MCP_TOKEN).toBe(demo.token);
    expect(entry.args[1]).toBe("stdio");
    expect(entry.env.COUNTERSIGN_GENERATED_DIR).toBe(join(dir, "gen"));
    expect(demo.out).toContain(`mcp-remote ${demo.mcpUrl} --header "Authorization:Bearer ${demo.token}"`);
    expect(demo.out).toContain(`connect ${demo.mcpUrl}`);
    expect((await demo.upstream("/projects")).data.length).toBeGreaterThan(0);
    // The token is stored hashed, never in clear.
    expect(readFileSync(join(dir, "data", "tokens.json"), "utf8")).not.toContain(demo.token);
  });

  it("says where its data is, when the token expires, and what a client is shown (11 tools of 296) and how to see more", async () => {
    expect(demo.out).toMatch(new RegExp(`data dir\\s+${join(dir, "data").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect(demo.out).toMatch(/It is named 'demo', sees every module, and expires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in 7 days\)\./);
    expect(demo.out).toContain("the API has 296 tools, over the 128 many clients accept, so a client sees 11 tools (dynamic mode)");
    expect(demo.out).toContain(`${demo.mcpUrl}?mode=all`);
    expect(demo.out).toContain(`${demo.mcpUrl}?mode=code`);
    const client = new Client({ name: "demo-count", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(demo.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${demo.token}` } } }));
    expect((await client.listTools()).tools).toHaveLength(11);
    await client.close();
  });

  it("serves the tools over HTTP with the printed token, and a confirmed write reaches the upstream", async () => {
    const client = new Client({ name: "demo-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(demo.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${demo.token}` } } }));
    const call = async (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });
    const project = ((await call("list_projects", {})).structuredContent as { data: { id: string; name: string }[] }).data[0];
    expect(project.name).toBeTruthy();
    const pending = await call("create_task", { project_id: project.id, title: "Written through the demo" });
    const confirmToken = (pending.structuredContent as { confirm_token: string }).confirm_token;
    expect(confirmToken).toBeTruthy();
    const titles = async () => ((await demo.upstream(`/tasks?project_id=${project.id}&limit=100`)).data as { title: string }[]).map((t) => t.title);
    expect(await titles()).not.toContain("Written through the demo");
    const confirmed = await call("confirm_action", { confirm_token: confirmToken });
    expect(confirmed.isError).toBeFalsy();
    expect(await titles()).toContain("Written through the demo");
    await client.close();
  });

  it("refuses a wrong token over HTTP", async () => {
    const res = await fetch(demo.mcpUrl, {
      method: "POST",
      headers: { authorization: "Bearer csk_wrong", "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
    });
    expect(res.status).toBe(401);
  });

  it("stops cleanly on Ctrl-C", async () => {
    expect(await stopDemo(demo)).toBe(0);
  });
});
