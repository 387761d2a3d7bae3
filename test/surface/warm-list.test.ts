/**
 * warmToolList (src/app.ts): `serve` fills the tools/list cache while the first client connects,
 * for the tools the configured exposure mode lists. The list a real client then gets is the one an
 * unwarmed gateway gives; nothing is warmed that the mode would not list; it stops when the
 * registry is swapped under it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { createGateway, warmToolList, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createLog } from "../../src/log.js";
import { createRegistry } from "../../src/registry.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { toolsOf } from "./apis.js";

const TOKEN = mintToken();
const servers: { gateway: Gateway; http: HttpHandle }[] = [];

async function serve(tools: readonly ToolDescriptor[], env: Record<string, string> = { COUNTERSIGN_MODE: "all" }): Promise<{ gateway: Gateway; url: string }> {
  const tokens = createMemoryTokenStore();
  await tokens.create({ id: "tok_warm", hash: hashToken(TOKEN), name: "warm", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() });
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: mkdtempSync(join(tmpdir(), "cs-warm-")), LOG_LEVEL: "silent", ...env } });
  // Each gateway its own descriptor objects, so one's cache cannot serve the other.
  const gateway = await createGateway(config, { registry: createRegistry(structuredClone(tools) as ToolDescriptor[]), tokens, log: createLog("silent") });
  const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  servers.push({ gateway, http });
  return { gateway, url: http.url };
}

async function listAll(url: string): Promise<unknown[]> {
  const client = new Client({ name: "warm-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
  const tools: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  await client.close();
  return tools;
}

let github: readonly ToolDescriptor[];
beforeAll(async () => {
  github = await toolsOf("github");
}, 120_000);

afterAll(async () => {
  for (const s of servers) {
    await s.http.close();
    await s.gateway.close();
  }
});

describe("warmToolList", () => {
  it("warms every tool, and a client's list is the one an unwarmed gateway gives", async () => {
    const warm = await serve(github);
    const cold = await serve(github);
    expect(await warmToolList(warm.gateway, 50)).toBe(github.length);
    const [warmList, coldList] = await Promise.all([listAll(warm.url), listAll(cold.url)]);
    expect(warmList.length).toBeGreaterThan(1000);
    expect(warmList).toEqual(coldList);
  });

  it("warms what the configured mode lists: the configured modules' tools, nothing in dynamic or in auto above its limit", async () => {
    const modules = [...new Set(github.map((t) => t.module))].slice(0, 2);
    const inModules = github.filter((t) => modules.includes(t.module)).length;
    expect(inModules).toBeGreaterThan(0);
    expect(await warmToolList((await serve(github, { COUNTERSIGN_MODE: "modules", COUNTERSIGN_MODULES: modules.join(",") })).gateway)).toBe(inModules);
    expect(await warmToolList((await serve(github, { COUNTERSIGN_MODE: "dynamic" })).gateway)).toBe(0);
    expect(await warmToolList((await serve(github, {})).gateway)).toBe(0);
    expect(await warmToolList((await serve(github.slice(0, 100), {})).gateway)).toBe(100);
  });

  it("stops when the registry is swapped under it", async () => {
    const { gateway } = await serve(github);
    const warming = warmToolList(gateway, 10);
    gateway.replaceRegistry(createRegistry(github.slice(0, 5)));
    expect(await warming).toBeLessThan(github.length);
  });
});
