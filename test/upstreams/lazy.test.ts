/**
 * A lazy subprocess backend (`mcp: { command, lazy: true, idleMs }`): its tools are listed once at
 * start-up and the process stopped; the first call starts it (once, however many calls race), and
 * it stops again after `idleMs` without calls. Uses the real server-everything over stdio and
 * counts the gateway's own child processes. Needs dist/.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkUpstreams } from "../../src/upstreams/config.js";

type Result = { content: { type: string; text?: string }[]; isError?: boolean };

const CLI = join(process.cwd(), "bin/countersign.js");
const EVERYTHING = join(process.cwd(), "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const IDLE_MS = 1500;
let serve: ChildProcess;
let serveLog = "";
let client: Client;

/** The gateway's server-everything children, by their parent's pid. */
function children(): number[] {
  const out = spawnSync("ps", ["-o", "pid=,args=", "--ppid", String(serve.pid)], { encoding: "utf8" }).stdout;
  return out.split("\n").filter((l) => l.includes("server-everything")).map((l) => Number(l.trim().split(/\s+/)[0]));
}
const starts = () => serveLog.split("\n").filter((l) => l.includes("upstream everything is up")).length;

async function until(probe: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const echo = async (message: string) => {
  const r = (await client.callTool({ name: "everything_echo", arguments: { message } })) as Result;
  expect(r.isError, r.content.map((c) => c.text).join()).toBeFalsy();
  return r.content.map((c) => c.text).join();
};

beforeAll(async () => {
  const work = mkdtempSync(join(tmpdir(), "cs-upstreams-lazy-"));
  const configFile = join(work, "countersign.yaml");
  writeFileSync(configFile, [
    "upstreams:",
    "  everything:",
    `    mcp: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio], lazy: true, idleMs: ${IDLE_MS} }`,
    "",
  ].join("\n"));
  const env = { PATH: process.env.PATH ?? "", HOME: work, COUNTERSIGN_DATA_DIR: join(work, "data"), LOG_LEVEL: "info" };
  const minted = spawnSync("node", [CLI, "tokens", "create", "--config", configFile, "--json", "--name", "lazy"], { env, encoding: "utf8" });
  expect(minted.status, minted.stderr).toBe(0);
  const token = (JSON.parse(minted.stdout) as { token: string }).token;
  serve = spawn("node", [CLI, "serve", "--config", configFile, "--port", "0"], { env, stdio: ["ignore", "pipe", "pipe"] });
  serve.stdout!.on("data", (c: Buffer) => (serveLog += c.toString()));
  serve.stderr!.on("data", (c: Buffer) => (serveLog += c.toString()));
  await until(() => /listening on http:\/\/\S+/.test(serveLog) || serve.exitCode !== null, "the gateway to listen", 60_000);
  const url = /listening on (http:\/\/\S+)/.exec(serveLog)?.[1];
  expect(url, serveLog).toBeDefined();
  client = new Client({ name: "agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url!), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  if (serve && serve.exitCode === null) serve.kill("SIGKILL");
});

describe("a lazy MCP subprocess", () => {
  it("is listed but not running after start-up; two concurrent first calls start exactly one", async () => {
    // Listed once at start-up, then stopped: the tools are known, no process is left.
    await until(() => children().length === 0, "the listing process to stop");
    expect(starts()).toBe(1);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("everything_echo");
    expect(children()).toEqual([]);

    const [a, b] = await Promise.all([echo("one"), echo("two")]);
    expect([a, b]).toEqual(["Echo: one", "Echo: two"]);
    expect(children()).toHaveLength(1);
    expect(starts()).toBe(2);
    // A further call reuses the running process.
    const pid = children()[0];
    expect(await echo("three")).toBe("Echo: three");
    expect(children()).toEqual([pid]);
    expect(starts()).toBe(2);
  }, 60_000);

  it("stops after idleMs without calls, and the next call starts it again", async () => {
    const before = children();
    expect(before).toHaveLength(1);
    await until(() => children().length === 0, "the idle process to stop", IDLE_MS + 15_000);
    expect(serveLog).toMatch(/upstream everything stopped until its next call/);
    expect(await echo("again")).toBe("Echo: again");
    const after = children();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
    expect(starts()).toBe(3);
  }, 60_000);
});

describe("lazy and idleMs in the config", () => {
  const dir = tmpdir();
  it.each([
    [{ e: { mcp: { command: "x", lazy: "yes" } } }, /upstreams\.e\.mcp\.lazy: expected true or false, got "yes"/],
    [{ e: { mcp: { command: "x", lazy: true, idleMs: 0 } } }, /upstreams\.e\.mcp\.idleMs: expected a positive integer/],
    [{ e: { mcp: { command: "x", lazy: true, idleMs: 1.5 } } }, /upstreams\.e\.mcp\.idleMs: expected a positive integer/],
    [{ e: { mcp: { command: "x", idleMs: 1000 } } }, /upstreams\.e\.mcp\.idleMs: only applies with lazy: true/],
    [{ e: { mcp: { url: "http://y/mcp", lazy: true } } }, /upstreams\.e\.mcp\.lazy: only applies to a subprocess/],
  ])("refuses %j", (value, message) => {
    expect(() => checkUpstreams(value, dir)).toThrow(message);
  });
  it("accepts lazy with an idle timeout", () => {
    expect(checkUpstreams({ e: { mcp: { command: "x", lazy: true, idleMs: 60_000 } } }, dir)[0]).toMatchObject({ lazy: true, idleMs: 60_000 });
  });
});
