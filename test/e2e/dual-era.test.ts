/**
 * The real CLI speaking both protocol generations: `countersign stdio` spawned by the SDK v2
 * client pinned to 2026-07-28, in auto mode, and by the 1.x client; a revoked token refused on
 * the next 2026-07-28 request over stdio. Needs dist/ (built by test/global-setup.ts unless
 * COUNTERSIGN_SKIP_BUILD=1).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client as ClientV2 } from "@modelcontextprotocol/client";
import { StdioClientTransport as StdioV2 } from "@modelcontextprotocol/client/stdio";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as StdioV1 } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureTools } from "../fixtures/tools/index.js";
import { writeGenerated } from "../support/generated.js";
import { startFixtureUpstream, type FixtureUpstream } from "../fixtures/upstream/server.mjs";
import { call, expectAck, settled, tap, TASK_CLIENT_CAPABILITIES, tasks, until } from "../mcp/tasks-client.js";

const CLI = join(process.cwd(), "bin/countersign.js");
let up: FixtureUpstream;
let env: Record<string, string>;

function mint(name: string): { token: string; id: string } {
  const minted = spawnSync("node", [CLI, "tokens", "create", "--name", name, "--json"], { env, encoding: "utf8" });
  expect(minted.status, minted.stderr).toBe(0);
  return JSON.parse(minted.stdout) as { token: string; id: string };
}

beforeAll(async () => {
  up = await startFixtureUpstream();
  const work = mkdtempSync(join(tmpdir(), "cs-dual-era-"));
  const generated = join(work, "generated");
  writeGenerated(generated, fixtureTools(), "fixture");
  env = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    COUNTERSIGN_DATA_DIR: join(work, "data"),
    COUNTERSIGN_UPSTREAM_URL: up.url,
    COUNTERSIGN_GENERATED_DIR: generated,
    LOG_LEVEL: "warn",
  };
});
afterAll(() => up.close());

function stdioV2(token: string, mode: "auto" | { pin: string }) {
  const client = new ClientV2({ name: "v2-stdio", version: "1" }, { versionNegotiation: { mode } });
  const transport = new StdioV2({ command: "node", args: [CLI, "stdio"], env: { ...env, MCP_TOKEN: token }, stderr: "pipe" });
  return { client, transport };
}

describe("countersign stdio, both generations", () => {
  it("serves the v2 client pinned to 2026-07-28", async () => {
    const { token } = mint("pinned");
    const { client, transport } = stdioV2(token, { pin: "2026-07-28" });
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe("modern");
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("get_item");
    const before = up.requests.length;
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "s26" } })).structuredContent).toEqual({ id: "s26", name: "Widget" });
    expect(up.requests.slice(before).map((r) => r.url)).toEqual(["/v1/items/s26"]);
    await client.close();
  });

  it("the v2 client in auto mode lands on 2026-07-28; the 1.x client keeps its 2025 session", async () => {
    const { token } = mint("auto");
    const { client, transport } = stdioV2(token, "auto");
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe("modern");
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "auto" } })).structuredContent).toEqual({ id: "auto", name: "Widget" });
    await client.close();

    const v1 = new ClientV1({ name: "v1-stdio", version: "1" });
    await v1.connect(new StdioV1({ command: "node", args: [CLI, "stdio"], env: { ...env, MCP_TOKEN: token }, stderr: "pipe" }));
    expect(v1.getServerVersion()?.name).toBe("countersign");
    expect((await v1.callTool({ name: "get_item", arguments: { item_id: "v1" } })).structuredContent).toEqual({ id: "v1", name: "Widget" });
    await v1.close();
  });

  it("a token revoked while a 2026-07-28 client is connected is refused on its next call", async () => {
    const { token, id } = mint("revoked");
    const { client, transport } = stdioV2(token, { pin: "2026-07-28" });
    await client.connect(transport);
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "1" } })).isError).toBeFalsy();
    const revoked = spawnSync("node", [CLI, "tokens", "revoke", id], { env, encoding: "utf8" });
    expect(revoked.status, revoked.stderr).toBe(0);
    const before = up.requests.length;
    const refused = await client.callTool({ name: "get_item", arguments: { item_id: "2" } });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toMatch(/unauthorized/);
    expect(up.requests.length).toBe(before);
    await client.close();
  });

  it("tasks over stdio: a slow call becomes a task polled to its result; a cancel aborts the upstream request", async () => {
    const { token } = mint("tasks");
    const client = new ClientV2({ name: "v2-stdio-tasks", version: "1" }, { capabilities: TASK_CLIENT_CAPABILITIES, versionNegotiation: { mode: { pin: "2026-07-28" } } });
    const t = await tap(client, new StdioV2({ command: "node", args: [CLI, "stdio"], env: { ...env, MCP_TOKEN: token, COUNTERSIGN_POLL_AFTER_MS: "300" }, stderr: "pipe" }));
    const created = await call(t, "get_slow", { ms: 700 });
    expect(created).toMatchObject({ resultType: "task", status: "working" });
    const done = await settled(t, created.taskId!);
    expect(done.status).toBe("completed");
    expect(JSON.stringify(done.result)).toContain('\\"slept\\":700');
    const aborted = up.aborted.length;
    const long = await call(t, "get_slow", { ms: 30_000 });
    expectAck(await tasks(t, "tasks/cancel", { taskId: long.taskId }));
    await until(() => up.aborted.length === aborted + 1);
    expect((await tasks(t, "tasks/get", { taskId: long.taskId })).status).toBe("cancelled");
    await client.close();
  });
});
