import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Starts `countersign demo` on free ports and waits for its set-up text. */
function startDemo(dir: string): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(process.execPath, ["bin/countersign.js", "demo", "--port", "0", "--upstream-port", "0", "--data-dir", join(dir, "data"), "--generated", join(dir, "gen")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start in time:\n${out}\n${err}`)), 60_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("Press Ctrl-C to stop.")) {
        clearTimeout(timer);
        resolve({ child, out });
      }
    });
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    child.once("exit", (code) => reject(new Error(`demo exited with ${code}:\n${out}\n${err}`)));
  });
}

describe("countersign demo", () => {
  let dir: string;
  let demo: { child: ChildProcess; out: string };
  let mcpUrl: string;
  let token: string;
  let desktop: { mcpServers: { countersign: { env: Record<string, string>; args: string[] } } };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "demo-"));
    demo = await startDemo(dir);
    mcpUrl = /gateway \(Streamable HTTP\)\s+(\S+)/.exec(demo.out)![1];
    token = /^\s+(csk_\S+)$/m.exec(demo.out)![1];
    const json = demo.out.slice(demo.out.indexOf("{", demo.out.indexOf("claude_desktop_config.json")), demo.out.indexOf("── Clients"));
    desktop = JSON.parse(json);
  }, 90_000);
  afterAll(async () => {
    if (demo?.child.exitCode === null) demo.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints a working dev token and set-ups that point at the running services", async () => {
    expect(desktop.mcpServers.countersign.env.MCP_TOKEN).toBe(token);
    expect(desktop.mcpServers.countersign.args[1]).toBe("stdio");
    expect(demo.out).toContain(`mcp-remote ${mcpUrl} --header "Authorization:Bearer ${token}"`);
    // The upstream named in the Claude Desktop entry answers with its own bearer token.
    const env = desktop.mcpServers.countersign.env;
    const projects = await fetch(`${env.COUNTERSIGN_UPSTREAM_URL}/v1/projects`, { headers: { authorization: `Bearer ${env.COUNTERSIGN_UPSTREAM_TOKEN}` } });
    expect(projects.status).toBe(200);
    // The token is stored hashed, never in clear.
    expect(readFileSync(join(dir, "data", "tokens.json"), "utf8")).not.toContain(token);
  });

  it("serves the tools over HTTP with the printed token, and a confirmed write reaches the upstream", async () => {
    const client = new Client({ name: "demo-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const call = async (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });
    const listed = await call("list_projects", {});
    const project = (listed.structuredContent as { data: { id: string; name: string }[] }).data[0];
    expect(project.name).toBeTruthy();
    const pending = await call("create_task", { project_id: project.id, title: "Written through the demo" });
    const confirmToken = (pending.structuredContent as { confirm_token: string }).confirm_token;
    expect(confirmToken).toBeTruthy();
    const env = desktop.mcpServers.countersign.env;
    const upstream = (path: string) => fetch(`${env.COUNTERSIGN_UPSTREAM_URL}/v1${path}`, { headers: { authorization: `Bearer ${env.COUNTERSIGN_UPSTREAM_TOKEN}` } }).then((r) => r.json() as Promise<{ data: { title: string }[] }>);
    const titles = async () => (await upstream(`/tasks?project_id=${project.id}&limit=100`)).data.map((t) => t.title);
    expect(await titles()).not.toContain("Written through the demo");
    const confirmed = await call("confirm_action", { confirm_token: confirmToken });
    expect(confirmed.isError).toBeFalsy();
    expect(await titles()).toContain("Written through the demo");
    await client.close();
  });

  it("stops cleanly on Ctrl-C", async () => {
    const exited = new Promise<number | null>((r) => demo.child.once("exit", (code) => r(code)));
    demo.child.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});
