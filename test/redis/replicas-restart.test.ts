/**
 * A Redis restart under two live gateway processes. The test owns its redis-server (AOF on,
 * fsync always, as a production Redis keeps its data) so it can stop and start it: while it is
 * down writes fail closed with 503 + Retry-After and reads keep working on the insurance limiter;
 * once it is back everything recovers by itself and the action previewed before the outage
 * executes exactly once. (Needs `npx tsc -p tsconfig.build.json`.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOwnRedis, uniquePrefix, type OwnRedis } from "./redis-server.js";
import { cli, openSession, startCountingUpstream, startReplica, tokensCli, writeGeneratedApi, type CountingUpstream, type Replica } from "./replicas-harness.js";

let redis: OwnRedis;
let upstream: CountingUpstream;
let a: Replica;
let b: Replica;
const prefix = uniquePrefix();

beforeAll(async () => {
  redis = await startOwnRedis({ persist: true });
  upstream = await startCountingUpstream();
  const generated = writeGeneratedApi();
  [a, b] = await Promise.all([
    startReplica({ redisUrl: redis.url, prefix, generated, upstream: upstream.url }),
    startReplica({ redisUrl: redis.url, prefix, generated, upstream: upstream.url }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await upstream?.close();
  await redis?.stop(true);
});

/** Reads one unlabelled sample from a replica's /metrics. */
async function metric(r: Replica, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${r.base}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("Redis restart under two replicas", () => {
  it("fails writes closed with 503 while Redis is down, keeps reads, loses no pending action, and recovers by itself", async () => {
    const minted = await tokensCli(redis.url, prefix, ["create", "--name", "outage"]);
    const token = String(minted.token);
    const [sa, sb] = await Promise.all([openSession(a.url, token), openSession(b.url, token)]);
    expect((await sa.call("get_item", { item_id: "1" })).status).toBe(200);
    expect((await sb.call("get_item", { item_id: "1" })).status).toBe(200);
    const preview = await sa.call("update_item", { item_id: "9", name: "after the outage" });
    const pending = preview.message?.result?.structuredContent as { status: string; action_id: string; confirm_token: string };
    expect(pending.status).toBe("pending_confirmation");
    expect(await metric(a, "countersign_redis_up")).toBe(1);

    await redis.stop();
    await until(async () => (await metric(a, "countersign_redis_up")) === 0 && (await metric(b, "countersign_redis_up")) === 0, 10_000, "both replicas to see Redis down");

    // Writes: a new preview and a confirm are refused before anything runs.
    const write = await sa.call("update_item", { item_id: "9", name: "during the outage" });
    expect(write.status).toBe(503);
    expect(Number(write.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(write.message?.error?.data?.code).toBe("unavailable");
    expect(write.message?.error?.message).toMatch(/temporarily unavailable/i);
    const confirm = await sb.call("confirm_action", { confirm_token: pending.confirm_token });
    expect(confirm.status).toBe(503);
    expect(Number(confirm.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(upstream.counts.PATCH).toBe(0);

    // Reads: still answered, through the per-replica insurance limiter.
    const getsBefore = upstream.counts.GET;
    for (const s of [sa, sb, sa, sb]) {
      const read = await s.call("get_item", { item_id: "1" });
      expect(read.status).toBe(200);
      expect(read.message?.result?.isError).toBeFalsy();
    }
    expect(upstream.counts.GET - getsBefore).toBe(4);
    expect(await metric(a, "countersign_rate_limit_insurance_total")).toBeGreaterThanOrEqual(2);
    expect(a.stderr()).toMatch(/redis: unreachable/);

    await redis.start();
    await until(async () => (await metric(a, "countersign_redis_up")) === 1 && (await metric(b, "countersign_redis_up")) === 1, 15_000, "both replicas to reconnect");

    // Nothing lost: the action previewed on A before the outage executes once, confirmed on B.
    const done = await sb.call("confirm_action", { confirm_token: pending.confirm_token });
    expect(done.status).toBe(200);
    expect(done.message?.result?.structuredContent?.status).toBe("executed");
    const again = await sa.call("confirm_action", { confirm_token: pending.confirm_token });
    expect(again.message?.result?.structuredContent?.status).toBe("already_executed");
    expect(upstream.counts.PATCH).toBe(1);
    // Writes work again.
    const fresh = await sa.call("update_item", { item_id: "9", name: "later" });
    expect(fresh.message?.result?.structuredContent?.status).toBe("pending_confirmation");

    // The audit records written during the outage reached the stream once Redis was back.
    await until(async () => {
      const lines = (await cli(redis.url, prefix, ["audit", "query", "--token", String(minted.id), "--tool", "get_item", "--json"])).trim().split("\n").filter(Boolean);
      return lines.length >= 6;
    }, 10_000, "the outage's audit records in the Redis stream");
  });
});
