/**
 * What the README tells each kind of user to do, run as they would: Claude Desktop starting
 * `countersign stdio` with the printed entry, a stdio-only client reaching the running gateway
 * through `countersign connect` and through `mcp-remote`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemo, stopDemo, type RunningDemo } from "./start-demo.js";

const require = createRequire(import.meta.url);

describe("the demo's set-ups work from real clients", () => {
  let dir: string;
  let demo: RunningDemo;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "demo-clients-"));
    demo = await startDemo(dir);
  }, 90_000);
  afterAll(async () => {
    if (demo) await stopDemo(demo);
    rmSync(dir, { recursive: true, force: true });
  });

  /** List, search, read, write (pending → confirmed), read back upstream, see the activity. */
  async function scenario(transport: StdioClientTransport, label: string): Promise<void> {
    const client = new Client({ name: `readme-${label}`, version: "1.0.0" });
    await client.connect(transport);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("confirm_action");
      const found = await client.callTool({ name: "search_tools", arguments: { query: "create a task" } });
      expect(JSON.stringify(found.structuredContent)).toContain("create_task");
      const projects = (await demo.upstream("/projects?limit=1")).data as { id: string; name: string }[];
      const read = await client.callTool({ name: "get_project", arguments: { project_id: projects[0].id } });
      expect((read.structuredContent as { name: string }).name).toBe(projects[0].name);
      const title = `Task from ${label}`;
      const pending = await client.callTool({ name: "create_task", arguments: { project_id: projects[0].id, title } });
      const confirmToken = (pending.structuredContent as { confirm_token?: string }).confirm_token;
      expect(confirmToken).toBeTruthy();
      const titles = async () => ((await demo.upstream(`/tasks?project_id=${projects[0].id}&limit=100`)).data as { title: string }[]).map((t) => t.title);
      expect(await titles()).not.toContain(title);
      const confirmed = await client.callTool({ name: "confirm_action", arguments: { confirm_token: confirmToken } });
      expect(confirmed.isError).toBeFalsy();
      expect(await titles()).toContain(title);
      const activity = await client.callTool({ name: "get_activity", arguments: { limit: 20 } });
      const types = ((activity.structuredContent as { events: { type: string; tool?: string }[] }).events ?? []).map((e) => e.type);
      expect(types).toContain("pending");
      expect(types).toContain("confirmed");
    } finally {
      await client.close();
    }
  }

  it("Claude Desktop: `countersign stdio` started with the printed entry", async () => {
    const entry = demo.desktop.mcpServers.countersign;
    await scenario(new StdioClientTransport({ command: process.execPath, args: entry.args, env: { ...(process.env as Record<string, string>), ...entry.env }, stderr: "pipe" }), "stdio");
  });

  it("a stdio client through `countersign connect` to the running gateway", async () => {
    await scenario(
      new StdioClientTransport({ command: process.execPath, args: ["bin/countersign.js", "connect", demo.mcpUrl], env: { ...(process.env as Record<string, string>), MCP_TOKEN: demo.token }, stderr: "pipe" }),
      "connect",
    );
  });

  it("a stdio client through mcp-remote to the running gateway", async () => {
    const proxy = require.resolve("mcp-remote/dist/proxy.js");
    await scenario(
      new StdioClientTransport({
        command: process.execPath,
        args: [proxy, demo.mcpUrl, "--header", `Authorization:Bearer ${demo.token}`],
        env: { ...(process.env as Record<string, string>), MCP_REMOTE_CONFIG_DIR: join(dir, "mcp-auth") },
        stderr: "pipe",
      }),
      "mcp-remote",
    );
  }, 60_000);
});
