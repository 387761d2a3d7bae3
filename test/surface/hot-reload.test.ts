/**
 * `serve --watch`: regenerating generated/ while a client is connected swaps the tools without
 * dropping the session or a call in flight, and the client receives tools/list_changed.
 * Real pieces throughout: the generator writes the folder, the gateway serves Streamable HTTP,
 * the SDK's Client listens, a local upstream answers.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { generate } from "../../codegen/generate.js";
import { writeAtomically } from "../../codegen/output.js";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createLog } from "../../src/log.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { watchForGateway, type Watcher } from "../../src/surface/hot-reload.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";

const TOKEN = mintToken();

function spec(version: string, extra: boolean): object {
  const op = (operationId: string, summary: string) => ({
    get: { operationId, summary, tags: ["things"], responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { value: { type: "string" } } } } } } } },
  });
  return {
    openapi: "3.1.0",
    info: { title: "Reloadable", version },
    tags: [{ name: "things", description: "Things." }],
    paths: { "/slow": op("getSlowThing", "Get the slow thing"), "/a": op("getA", "Get A"), ...(extra ? { "/b": op("getB", "Get B") } : {}) },
  };
}

async function generateInto(dir: string, work: string, version: string, extra: boolean): Promise<void> {
  const file = join(work, `spec-${version}.json`);
  writeFileSync(file, JSON.stringify(spec(version, extra)));
  const out = await generate({ specPath: file, command: "test", api: "reloadable", upstreamTypes: false });
  if (!out.ok) throw new Error(out.error);
  await writeAtomically(dir, out.files);
}

let upstream: Server;
let gateway: Gateway;
let http: HttpHandle;
let watcher: Watcher;
let work: string;
let dir: string;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const send = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ value: `from ${req.url}` }));
    };
    if (req.url?.startsWith("/slow")) setTimeout(send, 800);
    else send();
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  work = mkdtempSync(join(tmpdir(), "cs-reload-"));
  dir = join(work, "generated", "reloadable");
  await generateInto(dir, work, "1", false);
  const tokens = createMemoryTokenStore();
  await tokens.create({ id: "tok_r", hash: hashToken(TOKEN), name: "r", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() });
  const config = resolveConfig({
    env: { COUNTERSIGN_DATA_DIR: join(work, "data"), COUNTERSIGN_GENERATED_DIR: dir, COUNTERSIGN_UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, LOG_LEVEL: "silent" },
  });
  gateway = await createGateway(config, { tokens, log: createLog("silent") });
  http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  watcher = await watchForGateway(gateway, http, 50);
});

afterAll(async () => {
  watcher?.close();
  await http?.close();
  await gateway?.close();
  await new Promise<void>((resolve) => upstream?.close(() => resolve()));
});

describe("serve --watch", () => {
  it("reloads a regenerated folder: list_changed reaches the client, the session and the call in flight survive", async () => {
    const client = new Client({ name: "reload-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${http.url}?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changed++;
    });
    const before = (await client.listTools()).tools.map((t) => t.name);
    const slow = before.find((n) => n.includes("slow"))!;
    expect(slow).toBeDefined();
    expect(before.some((n) => n.endsWith("_b") || n === "get_b")).toBe(false);

    const inFlight = client.callTool({ name: slow, arguments: {} });
    await new Promise((r) => setTimeout(r, 100));
    await generateInto(dir, work, "2", true);

    await expect.poll(() => changed, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(watcher.reloads()).toBe(1);
    const result = await inFlight;
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result.content)).toContain("from /slow");

    const after = (await client.listTools()).tools.map((t) => t.name);
    const added = after.filter((n) => !before.includes(n));
    expect(added).toHaveLength(1);
    const b = await client.callTool({ name: added[0], arguments: {} });
    expect(JSON.stringify(b.content)).toContain("from /b");
    expect(gateway.registry.manifest?.version).toBe("2");
    await client.close();
  });

  it("keeps the current tools when the folder disappears mid-swap or is broken", async () => {
    const tools = gateway.registry.tools.length;
    writeFileSync(join(dir, "manifest.json"), "{ not json");
    await new Promise((r) => setTimeout(r, 400));
    expect(gateway.registry.tools.length).toBe(tools);
    expect(watcher.reloads()).toBe(1);
  });
});
