/**
 * The Redis stores against a real Redis (127.0.0.1:6379 when it answers, else one started here).
 * Two connections stand for two replicas; every test uses its own key prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintConfirmation } from "../../src/confirm/tokens.js";
import type { AuditRecord } from "../../src/context.js";
import type { NewPendingAction, PendingAction } from "../../src/stores/pending-actions/contract.js";
import { getEventListeners } from "node:events";
import { createRedisAuditStream } from "../../src/stores/redis/audit-stream.js";
import { createRedisPendingActions } from "../../src/stores/redis/pending-actions.js";
import { createRedisConnection, type RedisConnection } from "../../src/stores/redis/redis-client.js";
import { parseRedisUrl } from "../../src/stores/redis/redis-url.js";
import { resolveConfig } from "../../src/config.js";
import { createRevocations } from "../../src/stores/redis/revocations.js";
import { createRedisTokenStore } from "../../src/stores/redis/token-store.js";
import type { TokenRecord } from "../../src/stores/tokens.js";
import { dropPrefix, sharedRedis, uniquePrefix } from "./redis-server.js";

let redisUrl: string;
let closeRedis: () => Promise<void>;
const prefixes: string[] = [];
const connections: RedisConnection[] = [];

beforeAll(async () => {
  const r = await sharedRedis();
  redisUrl = r.url;
  closeRedis = r.close;
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  for (const p of prefixes) await dropPrefix(redisUrl, p);
  await closeRedis();
});

/** Two ready connections sharing one fresh prefix: two replicas' view of one Redis. */
async function replicas(): Promise<[RedisConnection, RedisConnection]> {
  const keyPrefix = uniquePrefix();
  prefixes.push(keyPrefix);
  const a = createRedisConnection({ url: redisUrl, keyPrefix });
  const b = createRedisConnection({ url: redisUrl, keyPrefix });
  connections.push(a, b);
  expect(await a.ready(5000)).toBe(true);
  expect(await b.ready(5000)).toBe(true);
  return [a, b];
}

function newAction(now: number, tokenId = "tok_a"): NewPendingAction {
  const m = mintConfirmation();
  return {
    id: m.actionId,
    tokenId,
    tool: "update_task",
    args: { project_id: 42, task_id: 17, title: "New", tags: [] },
    tokenHash: m.tokenHash,
    createdAt: now,
    expiresAt: now + 600_000,
    preview: { summary: "Update a task.", tool: "update_task", method: "PATCH", url: "http://x/v1/projects/42/tasks/17", warnings: [] },
    ifMatch: '"v1"',
  };
}

function tokenRecord(n: number, fields: Partial<TokenRecord> = {}): TokenRecord {
  return { id: `tok_${n}`, hash: `${n}`.padStart(64, "a"), name: `agent-${n}`, modules: [], readOnly: false, tier: "default", createdAt: new Date(1_700_000_000_000 + n).toISOString(), ...fields };
}

describe("REDIS_URL forms", () => {
  it("accepts one server, Cluster seed nodes and Sentinel sets, and names what is wrong", () => {
    expect(parseRedisUrl("redis://:pw@127.0.0.1:6380/2")).toEqual({ ok: true, target: { kind: "standalone", url: "redis://:pw@127.0.0.1:6380/2", tls: false } });
    expect(parseRedisUrl("rediss+cluster://u:p@n1:7000,n2")).toEqual({
      ok: true,
      target: { kind: "cluster", nodes: [{ host: "n1", port: 7000 }, { host: "n2", port: 6379 }], tls: true, username: "u", password: "p" },
    });
    expect(parseRedisUrl("redis+sentinel://:pw@s1,s2:26380/mymaster/3?sentinelPassword=sp")).toEqual({
      ok: true,
      target: { kind: "sentinel", sentinels: [{ host: "s1", port: 26379 }, { host: "s2", port: 26380 }], name: "mymaster", db: 3, tls: false, password: "pw", sentinelPassword: "sp" },
    });
    expect(parseRedisUrl("redis+sentinel://s1:26379")).toMatchObject({ ok: false, error: expect.stringContaining("master name") });
    expect(parseRedisUrl("http://x")).toMatchObject({ ok: false, error: expect.stringContaining("unsupported scheme") });
    expect(parseRedisUrl("redis://h/x")).toMatchObject({ ok: false, error: expect.stringContaining("not a number") });
  });
});

describe("redis config", () => {
  it("reads REDIS_URL and the key prefix, and names the key when either is wrong", () => {
    expect(resolveConfig({ env: {} }).redis).toEqual({ keyPrefix: "countersign:" });
    expect(resolveConfig({ env: { REDIS_URL: "redis://r:6379", COUNTERSIGN_REDIS_PREFIX: "staging:" } }).redis).toEqual({ url: "redis://r:6379", keyPrefix: "staging:" });
    expect(resolveConfig({ file: { redis: { url: "redis+sentinel://s1/main", keyPrefix: "a." } } }).redis).toEqual({ url: "redis+sentinel://s1/main", keyPrefix: "a." });
    expect(() => resolveConfig({ env: { REDIS_URL: "http://r" } })).toThrow(/redis\.url \(REDIS_URL\).*unsupported scheme/);
    expect(() => resolveConfig({ env: { REDIS_URL: "redis://r", COUNTERSIGN_REDIS_PREFIX: "has space" } })).toThrow(/redis\.keyPrefix.*letters, digits/);
  });
});

describe("Redis pending actions", () => {
  it("claims atomically across replicas: of 50 concurrent claims on two connections exactly one wins", async () => {
    const [ca, cb] = await replicas();
    const a = createRedisPendingActions({ connection: ca, sweepIntervalMs: 0 });
    const b = createRedisPendingActions({ connection: cb, sweepIntervalMs: 0 });
    const action = newAction(Date.now());
    await a.create(action);
    expect((await b.list("tok_a")).map((x) => x.id)).toEqual([action.id]);
    expect(await b.get(action.id)).toMatchObject({ args: action.args, ifMatch: '"v1"', state: "pending" });
    const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).claim(action.id, "tok_a")));
    expect(claims.filter((c) => c.kind === "claimed")).toHaveLength(1);
    expect(claims.filter((c) => c.kind === "executing")).toHaveLength(49);
    expect(await a.list("tok_a")).toEqual([]);
    expect(await a.countPending()).toBe(0);

    const waiting = b.waitForSettled(action.id, 5000);
    await a.complete(action.id, { status: "executed", result: { content: [{ type: "text", text: "ok" }] } });
    const settled = await waiting;
    expect(settled?.state).toBe("done");
    const again = await b.claim(action.id, "tok_a");
    expect(again.kind).toBe("done");
    expect(again.kind === "done" && again.action.outcome?.result.content).toEqual([{ type: "text", text: "ok" }]);
  });

  it("hides another token's action, cancels once, and releases a claim back to pending", async () => {
    const [ca, cb] = await replicas();
    const a = createRedisPendingActions({ connection: ca, sweepIntervalMs: 0 });
    const b = createRedisPendingActions({ connection: cb, sweepIntervalMs: 0 });
    const x = newAction(Date.now());
    const y = newAction(Date.now() + 1);
    await a.create(x);
    await a.create(y);
    await expect(a.create(x)).rejects.toThrow(/already exists/);
    expect(await b.list("tok_b")).toEqual([]);
    expect((await b.claim(x.id, "tok_b")).kind).toBe("not_found");
    expect((await b.cancel(x.id, "tok_b")).kind).toBe("not_found");
    expect((await b.cancel(x.id, "tok_a")).kind).toBe("cancelled");
    expect((await a.claim(x.id, "tok_a")).kind).toBe("cancelled");
    expect((await a.claim(y.id, "tok_a")).kind).toBe("claimed");
    await b.release(y.id);
    expect((await a.list("tok_a")).map((p) => p.id)).toEqual([y.id]);
    expect(await a.countPending()).toBe(1);
    expect((await b.claim(y.id, "tok_a")).kind).toBe("claimed");
  });

  it("expires on the clock, telling onExpired exactly once across replicas", async () => {
    const [ca, cb] = await replicas();
    let t = Date.now();
    const expired: PendingAction[] = [];
    const a = createRedisPendingActions({ connection: ca, now: () => t, sweepIntervalMs: 0, onExpired: (p) => expired.push(p) });
    const b = createRedisPendingActions({ connection: cb, now: () => t, sweepIntervalMs: 0, onExpired: (p) => expired.push(p) });
    const x = newAction(t);
    await a.create(x);
    t += 600_000;
    const answers = await Promise.all([a.claim(x.id, "tok_a"), b.claim(x.id, "tok_a"), a.list("tok_a"), b.get(x.id)]);
    expect(answers[0].kind).toBe("expired");
    expect(answers[1].kind).toBe("expired");
    expect(answers[2]).toEqual([]);
    expect(expired.map((p) => p.id)).toEqual([x.id]);
    expect(await b.countPending()).toBe(0);
  });

  it("reports an action whose replica stopped mid-execution as unknown, never pending again", async () => {
    const [ca, cb] = await replicas();
    let t = Date.now();
    const a = createRedisPendingActions({ connection: ca, now: () => t, sweepIntervalMs: 0, executingTimeoutMs: 60_000 });
    const b = createRedisPendingActions({ connection: cb, now: () => t, sweepIntervalMs: 0, executingTimeoutMs: 60_000 });
    const x = newAction(t);
    await a.create(x);
    expect((await a.claim(x.id, "tok_a")).kind).toBe("claimed");
    t += 30_000;
    expect((await b.claim(x.id, "tok_a")).kind).toBe("executing");
    t += 30_000;
    expect((await b.claim(x.id, "tok_a")).kind).toBe("unknown");
    expect((await b.claim(x.id, "tok_a")).kind).toBe("unknown");
  });

  it("keys actions with a TTL of expiry plus retention", async () => {
    const [ca] = await replicas();
    const a = createRedisPendingActions({ connection: ca, sweepIntervalMs: 0, retainSeconds: 60 });
    const x = newAction(Date.now());
    await a.create(x);
    const ttl = await ca.client.pttl(ca.key("pa", "a", x.id));
    expect(ttl).toBeGreaterThan(600_000);
    expect(ttl).toBeLessThanOrEqual(660_000);
  });
});

describe("Redis token store and revocations", () => {
  it("stores records by hash with an id index; list, get, duplicates refused", async () => {
    const [ca] = await replicas();
    const store = createRedisTokenStore({ connection: ca });
    await store.create(tokenRecord(2));
    await store.create(tokenRecord(1));
    await expect(store.create(tokenRecord(1))).rejects.toThrow(/already exists/);
    await expect(store.create({ ...tokenRecord(3), hash: tokenRecord(1).hash })).rejects.toThrow(/already exists/);
    expect((await store.list()).map((r) => r.id)).toEqual(["tok_1", "tok_2"]);
    expect(await store.getByHash(tokenRecord(1).hash)).toEqual(tokenRecord(1));
    expect((await store.get("tok_2"))?.modules).toEqual([]);
    expect(await store.get("tok_9")).toBeUndefined();
    await store.touch("tok_1", new Date("2030-01-01T00:00:00Z"));
    expect((await store.get("tok_1"))?.lastUsedAt).toBe("2030-01-01T00:00:00.000Z");
  });

  it("a revocation on one replica drops the cached record on the other within a second", async () => {
    const [ca, cb] = await replicas();
    const revA = createRevocations(ca);
    const revB = createRevocations(cb);
    const a = createRedisTokenStore({ connection: ca, revocations: revA, cacheTtlMs: 60_000 });
    const b = createRedisTokenStore({ connection: cb, revocations: revB, cacheTtlMs: 60_000 });
    const rec = tokenRecord(7);
    await a.create(rec);
    await until(() => revA.isListening() && revB.isListening());
    expect((await b.getByHash(rec.hash))?.revokedAt).toBeUndefined();
    // The record is now cached on B for a minute; only the published revocation can evict it.
    await ca.client.hset(ca.key("tokens", "by-hash"), rec.hash, JSON.stringify({ ...rec, name: "changed behind the cache" }));
    expect((await b.getByHash(rec.hash))?.name).toBe("agent-7");
    const revokedAt = Date.now();
    await a.revoke(rec.id, new Date());
    await until(async () => (await b.getByHash(rec.hash))?.revokedAt !== undefined);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect((await b.get(rec.id))?.revokedAt).toBeDefined();
  });
});

describe("Redis audit stream", () => {
  it("writes records to a capped stream; query filters, recent is per token and newest first, from any replica", async () => {
    const [ca, cb] = await replicas();
    const errors: unknown[] = [];
    const a = createRedisAuditStream({ connection: ca, maxLen: 50, perTokenMaxLen: 20, onError: (e) => errors.push(e) });
    const b = createRedisAuditStream({ connection: cb });
    const base = Date.now();
    for (let i = 0; i < 300; i++) {
      await a.write(record(i, base + i, i % 3 === 0 ? "tok_x" : "tok_y"));
    }
    await a.flush();
    expect(errors).toEqual([]);
    // MAXLEN ~ trims in whole nodes: far fewer than written, at least the cap.
    const len = await ca.client.xlen(ca.key("audit"));
    expect(len).toBeGreaterThanOrEqual(50);
    expect(len).toBeLessThan(300);
    const recent = await b.recent("tok_x", 5);
    expect(recent.map((r) => r.requestId)).toEqual(["r297", "r294", "r291", "r288", "r285"]);
    const denied = await b.query({ outcome: "denied", limit: 3 });
    expect(denied.map((r) => r.requestId)).toEqual(["r289", "r294", "r299"]);
    expect(denied.every((r) => r.outcome === "denied")).toBe(true);
    const since = await b.query({ since: new Date(base + 295) });
    expect(since.map((r) => r.requestId)).toEqual(["r295", "r296", "r297", "r298", "r299"]);
    await a.close();
    await expect(a.write(record(1, base, "tok_x"))).rejects.toThrow(/closed/);
  });
});

describe("Redis audit stream: follow", () => {
  it("sees each new record and leaves no abort listener per idle poll behind (no MaxListenersExceededWarning)", async () => {
    const [ca, cb] = await replicas();
    const writer = createRedisAuditStream({ connection: ca });
    const reader = createRedisAuditStream({ connection: cb });
    const controller = new AbortController();
    const seen: string[] = [];
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    const following = reader.follow((r) => seen.push(r.requestId), { signal: controller.signal, pollMs: 1 });
    try {
      const base = Date.now();
      // Each record is seen after at least one more poll: 30 records, far more than 10 polls.
      for (let i = 0; i < 30; i++) {
        await writer.write(record(i, base + i, "tok_f"));
        await writer.flush();
        await until(() => seen.includes(`r${i}`));
      }
      expect(getEventListeners(controller.signal, "abort").length).toBeLessThanOrEqual(1);
    } finally {
      controller.abort();
      await following;
      process.off("warning", onWarning);
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `r${i}`));
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});

function record(i: number, ts: number, tokenId: string): AuditRecord {
  return { ts: new Date(ts).toISOString(), requestId: `r${i}`, transport: "http", tool: "get_item", tokenId, outcome: i % 5 === 4 ? "denied" : "ok", type: "tool_call", durationMs: 1 };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
