/**
 * MCP servers behind `countersign serve --config`: `@modelcontextprotocol/server-everything` as a
 * subprocess over stdio and a Streamable HTTP server started here, next to the sample OpenAPI
 * API. Their tools go through the one chain: scoped tokens, pending writes, confirmation once.
 * The subprocess is killed with SIGKILL: its callers get an error naming it, the others keep
 * serving, and it comes back. Needs dist/.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { startSearchBackend, type SearchBackend } from "./search-backend.js";

type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

const CLI = join(process.cwd(), "bin/countersign.js");
const EVERYTHING = join(process.cwd(), "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const WS_TOKEN = "ws-service-token";
const SEARCH_TOKEN = "search-backend-token";
let work: string;
let configFile: string;
let env: Record<string, string>;
let workspace: RunningUpstream;
let search: SearchBackend;
let serve: ChildProcess;
let serveLog = "";
let url: string;
let allToken: string;
const clients: Client[] = [];

function mint(args: string[]): string {
  const out = spawnSync("node", [CLI, "tokens", "create", "--config", configFile, "--json", ...args], { env, encoding: "utf8" });
  expect(out.status, out.stderr).toBe(0);
  return (JSON.parse(out.stdout) as { token: string }).token;
}

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: "agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  clients.push(client);
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as Result;
const text = (r: Result) => r.content.map((c) => c.text ?? "").join("\n");

/** Polls `probe` until it is true (no fixed sleeps). */
async function until(probe: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The gateway's server-everything child, by its parent's pid. */
function everythingPid(): number | undefined {
  const out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(serve.pid)], { encoding: "utf8" });
  const line = out.split("\n").find((l) => l.includes("server-everything"));
  return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "cs-upstreams-mcp-"));
  [workspace, search] = await Promise.all([
    startUpstream({ spec: "openapi/workspace.yaml", port: 0, dataDir: join(work, "ws-data"), token: WS_TOKEN }),
    startSearchBackend(SEARCH_TOKEN),
  ]);
  configFile = join(work, "countersign.yaml");
  writeFileSync(
    configFile,
    [
      "upstreams:",
      "  workspace:",
      `    generated: ${join(process.cwd(), "generated/workspace")}`,
      `    url: ${workspace.baseUrl}`,
      `    credential: ${WS_TOKEN}`,
      "  everything:",
      `    mcp: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }`,
      "  search:",
      `    mcp: { url: ${JSON.stringify(search.url)}, headers: { Authorization: { env: SEARCH_MCP_AUTH } } }`,
      "    tools: { readOnly: [peek], write: [grow] }",
      "",
    ].join("\n"),
  );
  env = { PATH: process.env.PATH ?? "", HOME: work, COUNTERSIGN_DATA_DIR: join(work, "data"), SEARCH_MCP_AUTH: `Bearer ${SEARCH_TOKEN}`, LOG_LEVEL: "warn" };
  allToken = mint(["--name", "everyone"]);
  serve = spawn("node", [CLI, "serve", "--config", configFile, "--port", "0"], { env, stdio: ["ignore", "ignore", "pipe"] });
  serve.stderr!.on("data", (c: Buffer) => (serveLog += c.toString()));
  url = await new Promise<string>((resolve, reject) => {
    const look = () => {
      const m = /listening on (http:\/\/\S+)/.exec(serveLog);
      if (m) resolve(m[1]!);
    };
    serve.stderr!.on("data", look);
    serve.once("exit", (code) => reject(new Error(`serve exited ${code}: ${serveLog}`)));
  });
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  if (serve && serve.exitCode === null) serve.kill("SIGKILL");
  await Promise.all([workspace?.close(), search?.close()]);
});

describe("MCP servers behind the gateway", () => {
  it("lists their tools namespaced next to the OpenAPI ones, and reads go straight through", async () => {
    const client = await connect(allToken);
    const tools = (await client.listTools()).tools;
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["workspace_list_tasks", "everything_echo", "everything_toggle_simulated_logging", "search_find", "search_index_document"]));
    for (const n of names) expect(n).toMatch(/^[a-z0-9_]{1,64}$/);
    expect(tools.find((t) => t.name === "search_peek")?.annotations?.readOnlyHint).toBe(true);
    expect(tools.find((t) => t.name === "search_grow")?.annotations?.readOnlyHint).toBeFalsy();

    const echo = await call(client, "everything_echo", { message: "hi" });
    expect(echo.isError, text(echo)).toBeFalsy();
    expect(text(echo)).toBe("Echo: hi");
    const found = await call(client, "search_find", { query: "launch" });
    expect(found.structuredContent).toEqual({ hits: ["launch"] });
    expect((await call(client, "search_peek")).isError).toBeFalsy();
    expect(search.ran.peek).toBe(1);

    // The same validation as any tool: a wrong argument never reaches the backend.
    const bad = await call(client, "search_find", { query: 7 });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/query/);
    expect(search.ran.find).toBe(1);

    const described = await call(client, "describe_tool", { name: "everything_echo" });
    expect(described.structuredContent).toMatchObject({ upstream: "everything", module: "everything_tools", mcp: { upstream: "everything", tool: "echo" } });
  });

  it("a tool that is not read-only comes back pending, with the tool, its arguments and annotations, and runs once on confirm", async () => {
    const client = await connect(allToken);
    const pending = await call(client, "search_index_document", { title: "Q3 plan", body: "…" });
    expect(pending.structuredContent?.status, text(pending)).toBe("pending_confirmation");
    expect(pending.structuredContent!.preview).toMatchObject({ tool: "search_index_document", method: "tools/call", url: "mcp://search/index_document", body: { title: "Q3 plan", body: "…" }, annotations: { readOnlyHint: false } });
    expect(text(pending)).toMatch(/Annotations: /);
    expect(search.ran.index_document).toBeUndefined();
    const { action_id, confirm_token } = pending.structuredContent!;
    const done = await call(client, "confirm_action", { action_id, confirm_token });
    expect(text(done)).toMatch(/indexed Q3 plan/);
    const again = await call(client, "confirm_action", { action_id, confirm_token });
    expect(text(again)).toMatch(/already/i);
    expect(search.ran.index_document).toBe(1);

    const toggle = await call(client, "everything_toggle_simulated_logging");
    expect(toggle.structuredContent?.status).toBe("pending_confirmation");
    const ran = await call(client, "confirm_action", { action_id: toggle.structuredContent!.action_id, confirm_token: toggle.structuredContent!.confirm_token });
    expect(ran.isError, text(ran)).toBeFalsy();
  });

  it("a token scoped to one backend sees and calls nothing of the others", async () => {
    const client = await connect(mint(["--name", "searcher", "--upstreams", "search"]));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("search_find");
    expect(names.some((n) => n.startsWith("everything_") || n.startsWith("workspace_"))).toBe(false);
    const direct = await call(client, "everything_echo", { message: "x" });
    expect(text(direct)).toMatch(/belongs to upstream 'everything', which is outside this token's scope \(upstreams: search\)/);
    expect((await call(client, "call_tool", { name: "everything_echo", arguments: { message: "x" } })).isError).toBe(true);
    expect(text(await call(client, "describe_tool", { name: "everything_echo" }))).toMatch(/Unknown tool/);
    const hits = (await call(client, "search_tools", { query: "echo message", limit: 50 })).structuredContent!.tools as { name: string }[];
    expect(hits.every((h) => h.name.startsWith("search_"))).toBe(true);
  });

  it("relays a backend's tools/list_changed: the new tool is listed and callable", async () => {
    const client = await connect(allToken);
    let heard = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void heard++);
    const pending = await call(client, "search_grow");
    await call(client, "confirm_action", { action_id: pending.structuredContent!.action_id, confirm_token: pending.structuredContent!.confirm_token });
    await until(async () => heard > 0, "tools/list_changed from the gateway");
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("search_fresh");
    expect(text(await call(client, "search_fresh"))).toBe("fresh");
  });

  it("relays a backend's progress notifications to the client that asked", async () => {
    const client = await connect(allToken);
    const seen: number[] = [];
    const r = (await client.callTool({ name: "everything_trigger_long_running_operation", arguments: { duration: 1, steps: 3 } }, undefined, { onprogress: (p) => void seen.push(p.progress) })) as Result;
    expect(r.isError, text(r)).toBeFalsy();
    // The last step may race the result; at least one step reaches the client, in order.
    expect(seen.length).toBeGreaterThan(0);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it("a client's cancellation reaches the backend", async () => {
    const client = await connect(allToken);
    const abort = new AbortController();
    const pending = client.callTool({ name: "search_wait", arguments: {} }, undefined, { signal: abort.signal });
    await until(async () => (search.ran.wait ?? 0) > 0, "the backend to start the call");
    abort.abort();
    await expect(pending).rejects.toThrow();
    await until(async () => (search.ran.wait_cancelled ?? 0) > 0, "the backend to see the cancellation");
  });

  it("audit records and metrics name the upstream", async () => {
    const client = await connect(allToken);
    await call(client, "everything_echo", { message: "audited" });
    const metrics = await (await fetch(new URL("/metrics", url))).text();
    expect(metrics).toMatch(/countersign_tool_calls_total\{tool="everything_echo",module="everything_tools",outcome="ok",upstream="everything"\} \d+/);
    expect(metrics).toMatch(/countersign_upstream_duration_seconds_count\{status="2xx",upstream="search"\} \d+/);
    await until(async () => {
      const records = (await readFile(join(work, "data", "audit", "audit.jsonl"), "utf8").catch(() => "")).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { tool: string; upstream?: string });
      return records.some((r) => r.tool === "everything_echo" && r.upstream === "everything") && records.some((r) => r.tool === "search_index_document" && r.upstream === "search");
    }, "audit records naming the upstream");
  });

  it("kill -9 of the subprocess: its callers get an error naming it, the others keep serving, and it is restarted", async () => {
    const client = await connect(allToken);
    const pid = everythingPid();
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, "SIGKILL");
    let down: Result | undefined;
    await until(async () => {
      const r = await call(client, "everything_echo", { message: "x" });
      if (r.isError) down = r;
      return r.isError === true;
    }, "the killed backend's error");
    expect(text(down!)).toMatch(/MCP upstream 'everything' (is down|went away)/);
    expect(down!.structuredContent?.error).toMatchObject({ code: "upstream_unavailable", retryable: true });
    // Everything else keeps serving meanwhile.
    expect((await call(client, "workspace_list_tasks", { limit: 1 })).isError).toBeFalsy();
    expect((await call(client, "search_find", { query: "still" })).isError).toBeFalsy();
    await until(async () => !(await call(client, "everything_echo", { message: "back" })).isError, "the backend's restart");
    expect(everythingPid()).not.toBe(pid);
    expect(serveLog).toMatch(/upstream everything is down/);
  });

  it("an HTTP backend that stops: its callers get an error naming it, the others keep serving, and it is back when it is", async () => {
    const client = await connect(allToken);
    expect((await call(client, "search_find", { query: "before" })).isError).toBeFalsy();
    const port = Number(new URL(search.url).port);
    await search.close();
    const down = await call(client, "search_find", { query: "while down" });
    expect(down.isError).toBe(true);
    expect(text(down)).toMatch(/MCP upstream 'search' (is down|went away)/);
    expect(down.structuredContent?.error).toMatchObject({ code: "upstream_unavailable" });
    expect(text(await call(client, "everything_echo", { message: "meanwhile" }))).toBe("Echo: meanwhile");
    search = await startSearchBackend(SEARCH_TOKEN, port);
    await until(async () => !(await call(client, "search_find", { query: "after" })).isError, "the HTTP backend to be reconnected");
    expect(search.ran.find).toBeGreaterThanOrEqual(1);
  });
});

