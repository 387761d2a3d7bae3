/**
 * Two real gateway processes on one real Redis, no session affinity: one SDK v2 client pinned to
 * 2026-07-28 whose every request goes to the other replica than the last. Reads work alternately,
 * and a write asked on one replica (input_required, sealed with the shared secret key) is accepted
 * on the other and runs exactly once. In dynamic mode, the modules enabled on one replica travel
 * in a state handle that both honour.
 * (Needs `npx tsc -p tsconfig.build.json`.)
 */
import { randomBytes } from "node:crypto";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropPrefix, sharedRedis, uniquePrefix } from "./redis-server.js";
import { startCountingUpstream, startReplica, tokensCli, writeGeneratedApi, type CountingUpstream, type Replica } from "./replicas-harness.js";

let redis: { url: string; close(): Promise<void> };
let upstream: CountingUpstream;
let a: Replica;
let b: Replica;
const prefix = uniquePrefix();

beforeAll(async () => {
  redis = await sharedRedis();
  upstream = await startCountingUpstream();
  const generated = writeGeneratedApi();
  const env = { COUNTERSIGN_CONFIRM_ELICITATION: "true", COUNTERSIGN_SECRET_KEY: randomBytes(32).toString("base64") };
  [a, b] = await Promise.all([
    startReplica({ redisUrl: redis.url, prefix, generated, upstream: upstream.url, env }),
    startReplica({ redisUrl: redis.url, prefix, generated, upstream: upstream.url, env }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await upstream?.close();
  await dropPrefix(redis.url, prefix);
  await redis?.close();
});

describe("a 2026-07-28 client across two replicas without affinity", () => {
  it("reads and confirms a write, each request on the other replica than the last", async () => {
    const { token } = (await tokensCli(redis.url, prefix, ["create", "--name", "roaming"])) as { token: string };
    const served: string[] = [];
    let turn = 0;
    // Every request goes to the next replica in turn, whatever the URL the transport asked for.
    const alternate: typeof fetch = (_input, init) => {
      const target = turn++ % 2 === 0 ? a : b;
      served.push(target === a ? "a" : "b");
      return fetch(target.url, init);
    };
    const client = new Client({ name: "roaming", version: "1" }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: "2026-07-28" } } });
    const asked: string[] = [];
    client.setRequestHandler("elicitation/create", async (req) => {
      asked.push((req.params as { message: string }).message);
      return { action: "accept", content: { confirm: true } };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(a.url), { requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: alternate }));
    expect(client.getProtocolEra()).toBe("modern");

    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(["get_item", "update_item", "confirm_action"]));
    for (const id of ["1", "2", "3"]) {
      const read = await client.callTool({ name: "get_item", arguments: { item_id: id } });
      expect(read.isError, JSON.stringify(read)).toBeFalsy();
      expect(JSON.stringify(read.content)).toContain(`item ${id}`);
    }
    // The write's question comes from one replica and its answer reaches the other (requests alternate).
    const renamed = await client.callTool({ name: "update_item", arguments: { item_id: "7", name: "renamed" } });
    expect(asked).toHaveLength(1);
    expect(renamed.structuredContent).toMatchObject({ status: "executed" });
    expect(upstream.counts.PATCH).toBe(1);
    expect(served.filter((s) => s === "a").length).toBeGreaterThan(2);
    expect(served.filter((s) => s === "b").length).toBeGreaterThan(2);
    await client.close();
  }, 60_000);

  it("carries dynamic mode's enabled modules in a state handle that either replica honours", async () => {
    const { token } = (await tokensCli(redis.url, prefix, ["create", "--name", "roaming-dynamic"])) as { token: string };
    const served: string[] = [];
    let turn = 0;
    const alternate: typeof fetch = (_input, init) => {
      const target = turn++ % 2 === 0 ? a : b;
      served.push(target === a ? "a" : "b");
      return fetch(`${target.url}?mode=dynamic`, init);
    };
    const client = new Client({ name: "roaming-dynamic", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(a.url), { requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: alternate }));
    const names = async (meta?: Record<string, unknown>) => (await client.listTools(meta ? { _meta: meta } : undefined, { cacheMode: "bypass" })).tools.map((t) => t.name);
    expect(await names()).not.toContain("get_item");
    const described = await client.callTool({ name: "describe_tool", arguments: { name: "get_item" } });
    const module = (described.structuredContent as { module: string }).module;
    const enabled = await client.callTool({ name: "enable_modules", arguments: { modules: [module] } });
    const state = (enabled.structuredContent as { state: string }).state;
    const carried = { "io.countersign/state": state };
    // Four lists in a row: two on each replica, every one showing the module's tools.
    for (let i = 0; i < 4; i++) expect(await names(carried)).toContain("get_item");
    const read = await client.callTool({ name: "get_item", arguments: { item_id: "5" }, _meta: carried });
    expect(JSON.stringify(read.content)).toContain("item 5");
    expect(served.filter((s) => s === "a").length).toBeGreaterThan(2);
    expect(served.filter((s) => s === "b").length).toBeGreaterThan(2);
    await client.close();
  }, 60_000);
});
