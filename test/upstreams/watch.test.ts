/**
 * `countersign serve --watch --config FILE`: the config file edited under a running gateway adds
 * and removes upstreams without a restart. A call in flight to a removed backend finishes; open
 * sessions hear tools/list_changed; a broken edit changes nothing; an edited per-upstream rate
 * limit applies from the next call. Needs dist/.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGalaxyMock, type GalaxyMock } from "./galaxy-mock.js";
import { startSearchBackend, type SearchBackend } from "./search-backend.js";

type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

const CLI = join(process.cwd(), "bin/countersign.js");
const EVERYTHING = join(process.cwd(), "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
let work: string;
let configFile: string;
let env: Record<string, string>;
let galaxy: GalaxyMock;
let search: SearchBackend;
let serve: ChildProcess;
let serveLog = "";
let url: string;
let token: string;
let client: Client;
let heard = 0;

const galaxyBlock = () => ["  galaxy:", "    spec: galaxy.json", `    url: ${galaxy.url}`, "    credential: g-token"];
const everythingBlock = ["  everything:", `    mcp: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }`];
const searchBlock = () => ["  search:", `    mcp: { url: ${JSON.stringify(search.url)}, headers: { Authorization: "Bearer s-token" } }`];
const writeConfig = (lines: string[]) => writeFileSync(configFile, ["upstreams:", ...lines, ""].join("\n"));
const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as Result;
const names = async () => (await client.listTools()).tools.map((t) => t.name);

async function until(probe: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; gateway log:\n${serveLog}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "cs-upstreams-watch-"));
  writeFileSync(join(work, "galaxy.json"), gunzipSync(readFileSync("test/fixtures/specs/fixture-scalar-galaxy-3.1.json.gz")));
  [galaxy, search] = await Promise.all([startGalaxyMock("g-token"), startSearchBackend("s-token")]);
  configFile = join(work, "countersign.yaml");
  writeConfig([...galaxyBlock(), ...everythingBlock]);
  env = { PATH: process.env.PATH ?? "", HOME: work, COUNTERSIGN_DATA_DIR: join(work, "data"), LOG_LEVEL: "info" };
  const minted = spawnSync("node", [CLI, "tokens", "create", "--config", configFile, "--json", "--name", "watcher"], { env, encoding: "utf8" });
  token = (JSON.parse(minted.stdout) as { token: string }).token;
  serve = spawn("node", [CLI, "serve", "--watch", "--config", configFile, "--port", "0"], { env, stdio: ["ignore", "ignore", "pipe"] });
  serve.stderr!.on("data", (c: Buffer) => (serveLog += c.toString()));
  await until(() => /listening on (http:\/\/\S+)/.test(serveLog), "the gateway to listen", 60_000);
  url = /listening on (http:\/\/\S+)/.exec(serveLog)![1]!;
  client = new Client({ name: "agent", version: "1" });
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void heard++);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  if (serve && serve.exitCode === null) serve.kill("SIGKILL");
  await Promise.all([galaxy?.close(), search?.close()]);
});

describe("serve --watch with upstreams:", () => {
  it("an edit adds and removes upstreams without a restart; the call in flight to the removed one finishes", async () => {
    expect(await names()).toEqual(expect.arrayContaining(["galaxy_get_all_data", "everything_echo"]));
    const inFlight = call("everything_trigger_long_running_operation", { duration: 3, steps: 3 });
    // Sent before this echo on the same session; the edit lands while it runs (3 s).
    await until(async () => !(await call("everything_echo", { message: "ready" })).isError, "everything to answer");
    writeConfig([...galaxyBlock(), ...searchBlock()]);
    await until(() => heard > 0, "tools/list_changed after the edit");
    const after = await names();
    expect(after).toContain("search_find");
    expect(after.some((n) => n.startsWith("everything_"))).toBe(false);
    const finished = await inFlight;
    expect(finished.isError, JSON.stringify(finished)).toBeFalsy();
    expect(JSON.stringify(finished.content)).toMatch(/completed/i);
    expect((await call("search_find", { query: "new" })).structuredContent).toEqual({ hits: ["new"] });
    expect((await call("galaxy_get_all_data", { limit: 1 })).isError).toBeFalsy();
    const gone = await call("everything_echo", { message: "x" });
    expect(gone.isError).toBe(true);
    expect(gone.content[0]!.text).toMatch(/Unknown tool 'everything_echo'/);
  });

  it("a broken edit is logged and changes nothing", async () => {
    const before = await names();
    const heardBefore = heard;
    writeConfig([...galaxyBlock(), ...searchBlock(), "    urll: http://typo"]);
    await until(() => /config reload: .*upstreams\.search\.urll: unknown field/.test(serveLog), "the reload error in the log");
    expect(await names()).toEqual(before);
    expect(heard).toBe(heardBefore);
    expect((await call("search_find", { query: "still" })).isError).toBeFalsy();
  });

  it("an edited per-upstream rate limit applies from the next call, to that upstream only", async () => {
    const heardBefore = heard;
    const reloads = (serveLog.match(/upstreams replaced/g) ?? []).length;
    writeConfig([...galaxyBlock(), ...searchBlock(), "    rateLimits: { normal: 3 }"]);
    await until(() => (serveLog.match(/upstreams replaced/g) ?? []).length > reloads && heard > heardBefore, "the reload");
    // Earlier tests' calls to search may still be in this window: at most three calls pass in all.
    let refused: Result | undefined;
    for (let i = 0; i < 4 && !refused; i++) {
      // Over HTTP a refusal at admission is a 429, which the client throws.
      const r = await call("search_find", { query: `q${i}` }).catch((e: Error): Result => ({ isError: true, content: [{ type: "text", text: e.message }] }));
      if (r.isError) refused = r;
    }
    expect(refused?.content[0]!.text).toMatch(/normal bucket on upstream 'search' allows 3 calls per minute/);
    expect((await call("galaxy_get_all_data", { limit: 1 })).isError).toBeFalsy();
  });
});
