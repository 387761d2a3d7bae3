/**
 * The Redis stores while their Redis is down and after it comes back, on a dedicated
 * redis-server (AOF on, so a restart keeps the data, as a production Redis would).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintConfirmation } from "../../src/confirm/tokens.js";
import { GatewayError } from "../../src/errors.js";
import { createRedisAuditStream } from "../../src/stores/redis/audit-stream.js";
import { createRedisPendingActions } from "../../src/stores/redis/pending-actions.js";
import { createRedisConnection, type RedisConnection } from "../../src/stores/redis/redis-client.js";
import { createRevocations } from "../../src/stores/redis/revocations.js";
import { createRedisTokenStore } from "../../src/stores/redis/token-store.js";
import { startOwnRedis, uniquePrefix, type OwnRedis } from "./redis-server.js";

let redis: OwnRedis;
let conn: RedisConnection;
const statuses: boolean[] = [];

beforeAll(async () => {
  redis = await startOwnRedis({ persist: true });
  conn = createRedisConnection({ url: redis.url, keyPrefix: uniquePrefix(), commandTimeoutMs: 500, onStatus: (up) => statuses.push(up) });
  expect(await conn.ready(5000)).toBe(true);
});

afterAll(async () => {
  await conn?.close();
  await redis?.stop(true);
});

describe("Redis outage", () => {
  it("fails writes fast with 'unavailable', keeps cached reads and queued audit, and recovers by itself", async () => {
    const revocations = createRevocations(conn);
    const tokens = createRedisTokenStore({ connection: conn, revocations });
    const actions = createRedisPendingActions({ connection: conn, sweepIntervalMs: 0 });
    const audit = createRedisAuditStream({ connection: conn, onError: () => undefined });
    const rec = { id: "tok_1", hash: "f".repeat(64), name: "agent", modules: "all" as const, readOnly: false, tier: "default", createdAt: new Date().toISOString() };
    await tokens.create(rec);
    const m = mintConfirmation();
    const now = Date.now();
    const before = { id: m.actionId, tokenId: "tok_1", tool: "t", args: { a: 1 }, tokenHash: m.tokenHash, createdAt: now, expiresAt: now + 600_000, preview: { summary: "s", tool: "t", method: "POST", url: "http://x", warnings: [] } };
    await actions.create(before);
    await waitFor(() => revocations.isListening());
    expect((await tokens.getByHash(rec.hash))?.id).toBe("tok_1");

    await redis.stop();
    await waitFor(() => !conn.isUp());
    expect(statuses).toContain(false);

    // Reads: the token record answers from the cache.
    expect((await tokens.getByHash(rec.hash))?.id).toBe("tok_1");
    // Writes: refused at once with the retryable error the transports map to 503 + Retry-After.
    const m2 = mintConfirmation();
    const started = Date.now();
    const err = await actions.create({ ...before, id: m2.actionId, tokenHash: m2.tokenHash }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe("unavailable");
    expect((err as GatewayError).retryAfterSeconds).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(1500);
    await expect(actions.claim(before.id, "tok_1")).rejects.toMatchObject({ code: "unavailable" });
    // An unknown token can't be checked at all: refused as unavailable, never let in.
    await expect(tokens.getByHash("e".repeat(64))).rejects.toMatchObject({ code: "unavailable" });
    // Audit keeps queuing; recent() answers from this replica's own records.
    await audit.write({ ts: new Date().toISOString(), requestId: "during-outage", transport: "http", tool: "t", tokenId: "tok_1", outcome: "ok" });
    expect((await audit.recent("tok_1", 5)).map((r) => r.requestId)).toEqual(["during-outage"]);

    await redis.start();
    await waitFor(() => conn.isUp(), 10_000);
    expect(statuses.at(-1)).toBe(true);
    // Nothing lost: the pending action from before the restart is still claimable, once.
    expect((await actions.claim(before.id, "tok_1")).kind).toBe("claimed");
    expect((await actions.claim(before.id, "tok_1")).kind).toBe("executing");
    await audit.flush();
    expect((await audit.query({ tokenId: "tok_1" })).map((r) => r.requestId)).toEqual(["during-outage"]);
    // Revocations flow again once the subscriber has re-subscribed.
    await waitFor(() => revocations.isListening(), 10_000);
    await tokens.revoke("tok_1", new Date());
    expect((await tokens.getByHash(rec.hash))?.revokedAt).toBeDefined();
    await audit.close();
    await tokens.close();
  });
});

describe("Redis that hangs", () => {
  it("notices a Redis that stops answering, fails writes fast, and recovers when it answers again", async () => {
    const hung = await startOwnRedis();
    const c = createRedisConnection({ url: hung.url, keyPrefix: uniquePrefix(), commandTimeoutMs: 500, healthCheckMs: 200 });
    try {
      expect(await c.ready(5000)).toBe(true);
      const actions = createRedisPendingActions({ connection: c, sweepIntervalMs: 0 });
      const fresh = () => {
        const m = mintConfirmation();
        const now = Date.now();
        return { id: m.actionId, tokenId: "tok_1", tool: "t", args: {}, tokenHash: m.tokenHash, createdAt: now, expiresAt: now + 60_000, preview: { summary: "s", tool: "t", method: "POST", url: "http://x", warnings: [] } };
      };
      await actions.create(fresh());
      hung.freeze(true);
      // The socket stays open; only the missed PINGs reveal the hang.
      await waitFor(() => !c.isUp(), 5000);
      const started = Date.now();
      await expect(actions.create(fresh())).rejects.toMatchObject({ code: "unavailable" });
      expect(Date.now() - started).toBeLessThan(1000);
      hung.freeze(false);
      await waitFor(() => c.isUp(), 10_000);
      await actions.create(fresh());
      expect(await actions.countPending()).toBe(2);
    } finally {
      hung.freeze(false);
      await c.close();
      await hung.stop(true);
    }
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
