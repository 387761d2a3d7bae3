/**
 * State without sessions: `enable_modules` answers a 2026-07-28 client (the v2 client pinned) with
 * a sealed handle; sent back in `_meta["io.countersign/state"]` it lists the enabled modules' tools
 * on the plain path and through the SDK's handler alike, on another gateway with the same secret
 * key too; altered, expired and other tokens' handles are refused with -32602 naming why.
 */
import { randomBytes } from "node:crypto";
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type HttpHandle } from "../../../src/transports/http/index.js";
import { STATE_META_KEY } from "../../../src/mcp/state-handle.js";
import { startAppHarness, type AppHarness } from "../../app-harness.js";

const MODERN = "2026-07-28";
const KEY = randomBytes(32).toString("base64");

async function connect(url: string, token: string): Promise<ClientV2> {
  const client = new ClientV2({ name: "state-handle-test", version: "1.0.0" }, { versionNegotiation: { mode: { pin: MODERN } } });
  await client.connect(new TransportV2(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

const carrying = (state: string) => ({ _meta: { [STATE_META_KEY]: state } });

/**
 * The listed tool names, fetched afresh: the v2 client caches tools/list for its ttlMs whatever
 * `_meta` the request carries, so a client whose handle changed must not serve the list from there.
 */
async function list(client: ClientV2, state?: string): Promise<string[]> {
  return (await client.listTools(state ? carrying(state) : undefined, { cacheMode: "bypass" })).tools.map((t) => t.name);
}

describe("2026-07-28 state handle", () => {
  let clock = Date.now();
  const now = () => clock;
  let a: AppHarness;
  let b: AppHarness;
  let serverA: HttpHandle;
  let serverB: HttpHandle;

  beforeAll(async () => {
    const env = { COUNTERSIGN_SECRET_KEY: KEY, COUNTERSIGN_STATE_TTL_MS: "60000" };
    a = await startAppHarness({ env, overrides: { now } });
    // A second replica: its own gateway and server, the same secret key and token store.
    b = await startAppHarness({ env, overrides: { now, tokens: a.gateway.deps.tokens } });
    serverA = await startHttpServer(a.gateway, { port: 0, host: "127.0.0.1" });
    serverB = await startHttpServer(b.gateway, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await serverA?.close();
    await serverB?.close();
    await a?.close();
    await b?.close();
  });

  async function enable(client: ClientV2, modules: string[], state?: string): Promise<{ state: string; enabled: string[]; meta: unknown }> {
    const result = await client.callTool({ name: "enable_modules", arguments: { modules }, ...(state ? carrying(state) : {}) });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    const sc = result.structuredContent as { state: string; enabled: string[] };
    return { state: sc.state, enabled: sc.enabled, meta: result._meta };
  }

  it("enable_modules hands back a handle that lists the modules' tools, here and on another replica", async () => {
    const client = await connect(`${serverA.url}?mode=dynamic`, a.token);
    const before = await list(client);
    expect(before).not.toContain("get_item");
    const { state, enabled, meta } = await enable(client, ["items"]);
    expect(enabled).toEqual(["items"]);
    expect(meta).toMatchObject({ [STATE_META_KEY]: state });
    const withState = await list(client, state);
    expect(withState).toContain("get_item");
    // Without the handle, nothing is remembered.
    expect(await list(client)).not.toContain("get_item");
    // Another replica with the same key lists them, and calls one with the handle (not the plain path).
    const other = await connect(`${serverB.url}?mode=dynamic`, a.token);
    expect(await list(other, state)).toContain("get_item");
    const called = await other.callTool({ name: "get_item", arguments: { item_id: "7" }, ...carrying(state) });
    expect(called.structuredContent).toEqual({ id: "7", name: "Widget" });
    expect(serverA.sessionCount() + serverB.sessionCount()).toBe(0);
    await client.close();
    await other.close();
  });

  it("refuses an altered handle, an expired one and another token's with -32602 naming why", async () => {
    const client = await connect(`${serverA.url}?mode=dynamic`, a.token);
    const { state } = await enable(client, ["items"]);
    const flipped = state.slice(0, -2) + (state.at(-2) === "A" ? "B" : "A") + state.at(-1);
    await expect(list(client, flipped)).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/io\.countersign\/state.*altered, or issued to another token/) });
    await expect(client.listTools({ _meta: { [STATE_META_KEY]: 42 } }, { cacheMode: "bypass" })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/must be the string enable_modules returned/) });
    await expect(list(client, "not-a-handle")).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/not a handle this gateway issued/) });
    await expect(client.callTool({ name: "get_item", arguments: { item_id: "1" }, ...carrying(flipped) })).rejects.toMatchObject({ code: -32602 });
    const stranger = await connect(`${serverB.url}?mode=dynamic`, a.otherToken);
    await expect(list(stranger, state)).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/issued to another token/) });
    clock += 61_000;
    await expect(list(client, state)).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/expired/) });
    clock = Date.now();
    await client.close();
    await stranger.close();
  });

  it("a handle sent back grows: enable_modules adds to what it carries", async () => {
    const client = await connect(`${serverA.url}?mode=dynamic`, a.token);
    const first = await enable(client, ["items"]);
    const modules = a.gateway.registry.modules.map((m) => m.name).filter((m) => m !== "items");
    expect(modules.length).toBeGreaterThan(0);
    const second = await client.callTool({ name: "enable_modules", arguments: { modules: [modules[0]!] }, ...carrying(first.state) });
    const sc = second.structuredContent as { state: string; enabled: string[]; added: string[] };
    expect(sc.enabled).toEqual(["items", modules[0]]);
    expect(sc.added).toEqual([modules[0]]);
    const listed = await list(client, sc.state);
    expect(listed).toContain("get_item");
    expect(listed).toEqual(expect.arrayContaining(a.gateway.registry.tools.filter((t) => t.module === modules[0]).map((t) => t.name)));
    await client.close();
  });
});
