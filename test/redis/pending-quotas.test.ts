/** The pending-action quotas on the Redis store, against a real Redis: two connections stand for two replicas. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PendingActionStore } from "../../src/stores/pending-actions/contract.js";
import { createRedisPendingActions } from "../../src/stores/redis/pending-actions.js";
import { createRedisConnection, type RedisConnection } from "../../src/stores/redis/redis-client.js";
import { describeQuotas, newAction, quotaClock } from "../stores/quota-suite.js";
import { dropPrefix, sharedRedis, uniquePrefix } from "./redis-server.js";

let redisUrl: string;
let closeRedis: () => Promise<void>;
const prefixes: string[] = [];
const connections: RedisConnection[] = [];
const stores: PendingActionStore[] = [];

beforeAll(async () => {
  const r = await sharedRedis();
  redisUrl = r.url;
  closeRedis = r.close;
});

afterAll(async () => {
  for (const s of stores) await s.close();
  await Promise.all(connections.map((c) => c.close()));
  for (const p of prefixes) await dropPrefix(redisUrl, p);
  await closeRedis();
});

describeQuotas(
  "Redis store",
  async (quotas) => {
    const keyPrefix = uniquePrefix();
    prefixes.push(keyPrefix);
    const replica = async (): Promise<PendingActionStore> => {
      const connection = createRedisConnection({ url: redisUrl, keyPrefix });
      connections.push(connection);
      if (!(await connection.ready(5000))) throw new Error("Redis did not answer");
      const store = createRedisPendingActions({ connection, now: quotaClock.now, sweepIntervalMs: 0, quotas });
      stores.push(store);
      return store;
    };
    return { a: await replica(), b: await replica(), advance: quotaClock.advance };
  },
  { concurrentAcrossReplicas: true },
);

describe("Redis store: what a settled action keeps", () => {
  it("drops the arguments of a cancelled, a completed and an expired action from Redis, keeping what a repeated confirm answers", async () => {
    const keyPrefix = uniquePrefix();
    prefixes.push(keyPrefix);
    const connection = createRedisConnection({ url: redisUrl, keyPrefix });
    connections.push(connection);
    expect(await connection.ready(5000)).toBe(true);
    let t = Date.now();
    const store = createRedisPendingActions({ connection, now: () => t, sweepIntervalMs: 0 });
    stores.push(store);
    const secret = "s".repeat(10_000);
    const [cancelled, completed, expired] = [0, 1, 2].map(() => newAction("tok_slim", { args: { note: secret } }, t));
    for (const a of [cancelled, completed, expired]) await store.create(a!);
    const rawDoc = async (id: string) => (await connection.client.hget(connection.key("pa", "a", id), "doc")) ?? "";
    expect(await rawDoc(cancelled!.id)).toContain(secret);
    expect((await store.cancel(cancelled!.id, "tok_slim")).kind).toBe("cancelled");
    expect((await store.claim(completed!.id, "tok_slim")).kind).toBe("claimed");
    await store.complete(completed!.id, { status: "executed", result: { content: [{ type: "text", text: "ok" }] } });
    t += 600_001;
    expect((await store.claim(expired!.id, "tok_slim")).kind).toBe("expired");
    await waitFor(async () => !(await rawDoc(expired!.id)).includes(secret));
    for (const a of [cancelled, completed, expired]) expect(await rawDoc(a!.id)).not.toContain(secret);
    const again = await store.claim(completed!.id, "tok_slim");
    expect(again.kind === "done" && again.action.outcome?.result.content).toEqual([{ type: "text", text: "ok" }]);
    expect(again.kind === "done" && again.action.preview.summary).toBe("Update a task.");
    expect((await store.cancel(cancelled!.id, "tok_slim")).kind).toBe("cancelled");
  });
});

/** Resolves once `condition` holds (checked every 10 ms), failing after 5 s. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met within 5 s");
    await new Promise((r) => setTimeout(r, 10));
  }
}
