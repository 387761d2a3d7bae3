/**
 * The real CLI as clients run it: `countersign stdio` spawned by an SDK client (as Claude
 * Desktop does), `countersign serve` reached over HTTP and through mcp-remote.
 * Needs dist/ (built by test/global-setup.ts unless COUNTERSIGN_SKIP_BUILD=1).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureTools } from "../fixtures/tools/index.js";
import { writeGenerated } from "../support/generated.js";
import { startFixtureUpstream, type FixtureUpstream } from "../fixtures/upstream/server.mjs";

const CLI = join(process.cwd(), "bin/countersign.js");
let up: FixtureUpstream;
let work: string;
let generated: string;
let token: string;
let env: Record<string, string>;

/** Writes the fixture tools as a generated folder (manifest + one module file). */
function writeFixture(dir: string): void {
  writeGenerated(dir, fixtureTools(), "fixture");
}

beforeAll(async () => {
  up = await startFixtureUpstream();
  work = mkdtempSync(join(tmpdir(), "cs-e2e-"));
  generated = join(work, "generated");
  writeFixture(generated);
  env = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    COUNTERSIGN_DATA_DIR: join(work, "data"),
    COUNTERSIGN_UPSTREAM_URL: up.url,
    COUNTERSIGN_GENERATED_DIR: generated,
    LOG_LEVEL: "warn",
    // Listed output schemas make clients check structuredContent: errors must then carry their details as text.
    COUNTERSIGN_LIST_OUTPUT_SCHEMAS: "true",
  };
  const minted = spawnSync("node", [CLI, "tokens", "create", "--name", "e2e", "--json"], { env, encoding: "utf8" });
  expect(minted.status, minted.stderr).toBe(0);
  token = JSON.parse(minted.stdout).token;
});
afterAll(() => up.close());

async function exercise(client: Client): Promise<void> {
  const names = (await client.listTools()).tools.map((t) => t.name);
  expect(names).toContain("get_item");
  expect(names).not.toContain("pay_invoice");
  const before = up.requests.length;
  const result = await client.callTool({ name: "get_item", arguments: { item_id: "e2e" } });
  expect(result.structuredContent).toEqual({ id: "e2e", name: "Widget" });
  expect(up.requests.slice(before).map((r) => r.url)).toEqual(["/v1/items/e2e"]);
  const invalid = await client.callTool({ name: "get_item", arguments: {} });
  expect(invalid.isError).toBe(true);
  // get_item has an outputSchema: the error's details travel as JSON text, not structuredContent.
  expect(invalid.structuredContent).toBeUndefined();
  expect(JSON.parse((invalid.content as { text: string }[]).at(-1)!.text)).toMatchObject({ error: { code: "invalid_arguments" } });
  expect(up.requests.length).toBe(before + 1);
}

describe("countersign stdio", () => {
  it("serves an SDK client started as a subprocess with MCP_TOKEN", async () => {
    const transport = new StdioClientTransport({ command: "node", args: [CLI, "stdio"], env: { ...env, MCP_TOKEN: token }, stderr: "pipe" });
    const client = new Client({ name: "claude-desktop-like", version: "1" });
    await client.connect(transport);
    await exercise(client);
    const pid = transport.pid!;
    await client.close();
    await expect.poll(() => {
      try {
        process.kill(pid, 0);
        return "alive";
      } catch {
        return "gone";
      }
    }).toBe("gone");
  });

  it("exits 2 with a clear message when MCP_TOKEN is missing or refused", () => {
    const missing = spawnSync("node", [CLI, "stdio"], { env, encoding: "utf8", input: "" });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/MCP_TOKEN is not set/);
    expect(missing.stdout).toBe("");
    const bad = spawnSync("node", [CLI, "stdio"], { env: { ...env, MCP_TOKEN: "csk_typo" }, encoding: "utf8", input: "" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/MCP_TOKEN refused: .*malformed/i);
    expect(bad.stdout).toBe("");
  });
});

describe("countersign serve", () => {
  let serve: ChildProcess;
  let url: string;
  beforeAll(async () => {
    serve = spawn("node", [CLI, "serve", "--port", "0", "--generated", generated, "--upstream", up.url], { env, stdio: ["ignore", "ignore", "pipe"] });
    url = await new Promise<string>((resolve, reject) => {
      let seen = "";
      serve.stderr!.on("data", (c: Buffer) => {
        seen += c.toString();
        const m = /listening on (http:\/\/\S+)/.exec(seen);
        if (m) resolve(m[1]!);
      });
      serve.once("exit", (code) => reject(new Error(`serve exited ${code}: ${seen}`)));
    });
  });
  afterAll(() => {
    if (serve.exitCode === null) serve.kill("SIGKILL");
  });

  it("serves an SDK client over Streamable HTTP", async () => {
    const client = new Client({ name: "hosted-agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    await exercise(client);
    await client.close();
  });

  it("serves a client through mcp-remote, as Claude Desktop would run it", async () => {
    const transport = new StdioClientTransport({
      command: join(process.cwd(), "node_modules/.bin/mcp-remote"),
      args: [url, "--header", `Authorization: Bearer ${token}`, "--allow-http", "--transport", "http-only"],
      env: { ...env, MCP_REMOTE_CONFIG_DIR: join(work, "mcp-remote") },
      stderr: "pipe",
    });
    const client = new Client({ name: "claude-desktop-via-mcp-remote", version: "1" });
    await client.connect(transport);
    await exercise(client);
    await client.close();
  });

  it("stops cleanly on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => serve.once("exit", (code) => resolve(code)));
    serve.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
