/** The pending-action quotas on the Redis store, against a real Redis: two connections stand for two replicas. */
import { afterAll, beforeAll } from "vitest";
import type { PendingActionStore } from "../../src/stores/pending-actions/contract.js";
import { createRedisPendingActions } from "../../src/stores/redis/pending-actions.js";
import { createRedisConnection, type RedisConnection } from "../../src/stores/redis/redis-client.js";
import { describeQuotas, quotaClock } from "../stores/quota-suite.js";
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
