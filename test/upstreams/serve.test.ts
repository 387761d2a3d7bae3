/**
 * One `countersign serve --config FILE` in front of two OpenAPI upstreams: the bundled sample API
 * (its generated folder, the real sample service) and the Scalar Galaxy spec (generated at
 * start-up from `spec:`) in front of a local mock of it. Tokens are
 * minted with the real CLI; an SDK client talks Streamable HTTP. Needs dist/.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { startGalaxyMock, type GalaxyMock } from "./galaxy-mock.js";

type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

const CLI = join(process.cwd(), "bin/countersign.js");
const WS_TOKEN = "ws-service-token";
const GX_TOKEN = "galaxy-service-token";
let work: string;
let configFile: string;
let env: Record<string, string>;
let workspace: RunningUpstream;
let galaxy: GalaxyMock;
let serve: ChildProcess;
let url: string;
let allToken: string;
let galaxyToken: string;
const clients: Client[] = [];

function cli(args: string[]) {
  return spawnSync("node", [CLI, ...args], { env, encoding: "utf8" });
}

function mint(args: string[]): string {
  const out = cli(["tokens", "create", "--config", configFile, "--json", ...args]);
  expect(out.status, out.stderr).toBe(0);
  return (JSON.parse(out.stdout) as { token: string }).token;
}

async function connect(token: string, query = "?mode=all"): Promise<Client> {
  const client = new Client({ name: "agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}${query}`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  clients.push(client);
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as Result;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "cs-upstreams-"));
  const galaxySpec = join(work, "galaxy.json");
  writeFileSync(galaxySpec, gunzipSync(readFileSync("test/fixtures/specs/fixture-scalar-galaxy-3.1.json.gz")));
  [workspace, galaxy] = await Promise.all([
    startUpstream({ spec: "openapi/workspace.yaml", port: 0, dataDir: join(work, "ws-data"), token: WS_TOKEN }),
    startGalaxyMock(GX_TOKEN),
  ]);
  configFile = join(work, "countersign.yaml");
  writeFileSync(
    configFile,
    [
      "upstreams:",
      "  workspace:",
      `    generated: ${join(process.cwd(), "generated/workspace")}`,
      `    url: ${workspace.baseUrl}`,
      "    credential: { env: WORKSPACE_API_TOKEN }",
      "  galaxy:",
      "    spec: galaxy.json",
      `    url: ${galaxy.url}`,
      `    credential: ${GX_TOKEN}`,
      "",
    ].join("\n"),
  );
  env = { PATH: process.env.PATH ?? "", HOME: work, COUNTERSIGN_DATA_DIR: join(work, "data"), WORKSPACE_API_TOKEN: WS_TOKEN, LOG_LEVEL: "warn" };
  allToken = mint(["--name", "everyone"]);
  galaxyToken = mint(["--name", "astronomer", "--upstreams", "galaxy"]);
  serve = spawn("node", [CLI, "serve", "--config", configFile, "--port", "0"], { env, stdio: ["ignore", "ignore", "pipe"] });
  url = await new Promise<string>((resolve, reject) => {
    let seen = "";
    serve.stderr!.on("data", (c: Buffer) => {
      seen += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(seen);
      if (m) resolve(m[1]!);
    });
    serve.once("exit", (code) => reject(new Error(`serve exited ${code}: ${seen}`)));
  });
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  if (serve && serve.exitCode === null) serve.kill("SIGKILL");
  await Promise.all([workspace?.close(), galaxy?.close()]);
});

describe("serve --config with two OpenAPI upstreams", () => {
  it("lists both upstreams' tools under their prefixes and calls each through its own upstream and credential", async () => {
    const client = await connect(allToken);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("workspace_list_tasks");
    expect(names).toContain("galaxy_get_all_data");
    expect(names.filter((n) => !/^(workspace|galaxy)_/.test(n)).every((n) => !n.startsWith("list_tasks"))).toBe(true);
    for (const n of names) expect(n).toMatch(/^[a-z0-9_]{1,64}$/);

    const planets = await call(client, "galaxy_get_all_data", { limit: 2 });
    expect(planets.isError, JSON.stringify(planets)).toBeFalsy();
    expect(JSON.stringify(planets.structuredContent ?? planets.content)).toMatch(/"id"/);
    const tasks = await call(client, "workspace_list_tasks", { limit: 2 });
    expect(tasks.isError, JSON.stringify(tasks)).toBeFalsy();

    const described = await call(client, "describe_tool", { name: "galaxy_get_planet" });
    expect(described.structuredContent).toMatchObject({ upstream: "galaxy", module: "galaxy_planets", http: { method: "GET", path: "/planets/{planetId}" } });
    const modules = (await call(client, "list_modules")).structuredContent!.modules as { name: string }[];
    expect(modules.map((m) => m.name)).toEqual(expect.arrayContaining(["galaxy_planets", "workspace_tasks"]));
  });

  it("a write to the second upstream comes back pending and runs once on confirm", async () => {
    const client = await connect(allToken);
    const list = await call(client, "galaxy_get_all_data", { limit: 1 });
    const id = JSON.stringify(list.structuredContent).match(/"id":\s*(\d+)/)?.[1];
    expect(id).toBeDefined();
    const pending = await call(client, "galaxy_delete_planet", { planetId: Number(id) });
    expect(pending.structuredContent?.status, JSON.stringify(pending)).toBe("pending_confirmation");
    const { action_id, confirm_token } = pending.structuredContent!;
    const done = await call(client, "confirm_action", { action_id, confirm_token });
    expect(done.isError, JSON.stringify(done)).toBeFalsy();
    const again = await call(client, "confirm_action", { action_id, confirm_token });
    expect(JSON.stringify(again)).toMatch(/already/i);
    const gone = await call(client, "galaxy_get_planet", { planetId: Number(id) });
    expect(gone.structuredContent?.error).toMatchObject({ upstream_status: 404 });
    expect(galaxy.seen.filter((s) => s === `DELETE /planets/${id}`)).toHaveLength(1);
  });

  it("a token scoped to one upstream sees and calls nothing of the other, on every path", async () => {
    const client = await connect(galaxyToken);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("galaxy_get_all_data");
    expect(names.some((n) => n.startsWith("workspace_"))).toBe(false);

    const direct = await call(client, "workspace_list_tasks", {});
    expect(direct.isError).toBe(true);
    expect(direct.content[0]!.text).toMatch(/belongs to upstream 'workspace', which is outside this token's scope \(upstreams: galaxy\)/);
    const viaCallTool = await call(client, "call_tool", { name: "workspace_list_tasks", arguments: {} });
    expect(viaCallTool.isError).toBe(true);
    expect(viaCallTool.content[0]!.text).toMatch(/outside this token's scope/);
    const described = await call(client, "describe_tool", { name: "workspace_list_tasks" });
    expect(described.isError).toBe(true);
    expect(described.content[0]!.text).toMatch(/Unknown tool 'workspace_list_tasks'/);
    const found = await call(client, "search_tools", { query: "list tasks", limit: 50 });
    const hits = (found.structuredContent!.tools as { name: string }[]).map((t) => t.name);
    expect(hits.some((n) => n.startsWith("workspace_"))).toBe(false);
    const modules = (await call(client, "list_modules")).structuredContent!.modules as { name: string }[];
    expect(modules.length).toBeGreaterThan(0);
    expect(modules.every((m) => m.name.startsWith("galaxy_"))).toBe(true);
    // Its own upstream still works.
    expect((await call(client, "galaxy_get_all_data", { limit: 1 })).isError).toBeFalsy();
    // The dynamic surface (meta-tools only) is scoped the same way.
    const dynamic = await connect(galaxyToken, "?mode=dynamic");
    const search = await call(dynamic, "search_tools", { query: "task project comment", limit: 50 });
    expect((search.structuredContent!.tools as { name: string }[]).every((t) => t.name.startsWith("galaxy_"))).toBe(true);
  });

  it("tokens create refuses an upstream the config does not name, and --upstreams without a config naming any", () => {
    const bad = cli(["tokens", "create", "--config", configFile, "--name", "x", "--upstreams", "galaxy,githb"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--upstreams: unknown upstream githb \(the configuration has workspace, galaxy\)/);
    const none = cli(["tokens", "create", "--name", "x", "--upstreams", "galaxy"]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/--upstreams: the configuration names no upstreams/);
  });

  it("serve refuses a config whose upstream is wrong, naming the key, before listening", () => {
    const broken = join(work, "broken.yaml");
    writeFileSync(broken, `upstreams:\n  galaxy:\n    spec: galaxy.json\n    url: ${galaxy.url}\n    credential: { env: GALAXY_TOKEN_UNSET }\n`);
    const out = spawnSync("node", [CLI, "serve", "--config", broken, "--port", "0"], { env, encoding: "utf8", timeout: 30_000 });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/upstreams\.galaxy\.credential: the variable GALAXY_TOKEN_UNSET is not set/);
    const clash = join(work, "clash.yaml");
    writeFileSync(clash, `upstreams:\n  one:\n    spec: galaxy.json\n    prefix: false\n  two:\n    spec: galaxy.json\n    prefix: false\n`);
    const clashed = spawnSync("node", [CLI, "serve", "--config", clash, "--port", "0"], { env, encoding: "utf8", timeout: 30_000 });
    expect(clashed.status).toBe(1);
    expect(clashed.stderr).toMatch(/comes from both upstream 'one' .* and upstream 'two'/);
  });
});

describe("stdio --config with two OpenAPI upstreams", () => {
  it("serves a scoped token's upstream only, over stdio", async () => {
    const client = new Client({ name: "desktop-like", version: "1" });
    await client.connect(new StdioClientTransport({ command: "node", args: [CLI, "stdio", "--config", configFile, "--mode", "all"], env: { ...env, MCP_TOKEN: galaxyToken }, stderr: "pipe" }));
    clients.push(client);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("galaxy_get_planet");
    expect(names.some((n) => n.startsWith("workspace_"))).toBe(false);
    const planet = await call(client, "galaxy_get_planet", { planetId: 2 });
    expect(planet.isError, JSON.stringify(planet)).toBeFalsy();
    expect(JSON.stringify(planet.structuredContent)).toMatch(/Jupiter/);
    expect((await call(client, "workspace_list_tasks", {})).isError).toBe(true);
  });
});
