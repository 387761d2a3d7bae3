/**
 * `countersign stdio --config` serving a 2026-07-28 client (the SDK v2 client pinned to it): an
 * MCP backend's tools/list_changed reaches the client through `subscriptions/listen`, the new tool
 * is listed and callable. Needs dist/.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSearchBackend, type SearchBackend } from "./search-backend.js";

const CLI = join(process.cwd(), "bin/countersign.js");
const SEARCH_TOKEN = "search-backend-token";

let work: string;
let search: SearchBackend;
let env: Record<string, string>;
let configFile: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "cs-upstreams-stdio26-"));
  search = await startSearchBackend(SEARCH_TOKEN);
  configFile = join(work, "countersign.yaml");
  writeFileSync(configFile, ["upstreams:", "  search:", `    mcp: { url: ${JSON.stringify(search.url)}, headers: { Authorization: { env: SEARCH_MCP_AUTH } } }`, ""].join("\n"));
  env = { PATH: process.env.PATH ?? "", HOME: work, COUNTERSIGN_DATA_DIR: join(work, "data"), SEARCH_MCP_AUTH: `Bearer ${SEARCH_TOKEN}`, LOG_LEVEL: "warn", COUNTERSIGN_MODE: "all" };
});
afterAll(() => search?.close());

describe("countersign stdio --config, 2026-07-28", () => {
  it("tells a listening client that a backend's tools changed; the new tool is then listed and callable", async () => {
    const minted = spawnSync("node", [CLI, "tokens", "create", "--config", configFile, "--name", "stdio26", "--json"], { env, encoding: "utf8" });
    expect(minted.status, minted.stderr).toBe(0);
    const token = (JSON.parse(minted.stdout) as { token: string }).token;
    const client = new Client({ name: "v2-stdio-listen", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await client.connect(new StdioClientTransport({ command: "node", args: [CLI, "stdio", "--config", configFile], env: { ...env, MCP_TOKEN: token }, stderr: "pipe" }));
    try {
      expect(client.getProtocolEra()).toBe("modern");
      const names = async () => (await client.listTools()).tools.map((t) => t.name);
      expect(await names()).not.toContain("search_fresh");
      let changed!: () => void;
      const notified = new Promise<void>((resolve) => (changed = resolve));
      client.setNotificationHandler("notifications/tools/list_changed", async () => changed());
      const subscription = await client.listen({ toolsListChanged: true });
      expect(subscription.honoredFilter).toMatchObject({ toolsListChanged: true });
      expect((await client.callTool({ name: "search_grow", arguments: {} })).content).toEqual([{ type: "text", text: "grown" }]);
      await notified;
      expect(await names()).toContain("search_fresh");
      expect((await client.callTool({ name: "search_fresh", arguments: {} })).content).toEqual([{ type: "text", text: "fresh" }]);
      await subscription.close();
    } finally {
      await client.close();
    }
  }, 60_000);
});
