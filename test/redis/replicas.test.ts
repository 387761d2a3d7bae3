/**
 * Two real gateway processes on one real Redis behave as one gateway: exact rate limits across
 * both, a pending action previewed on A executes exactly once whichever replica confirms it, a
 * revocation through the CLI reaches B's open session (and a stdio gateway) within a second, and
 * a session id only its own replica knows answers 404 elsewhere.
 * (Needs `npx tsc -p tsconfig.build.json`.)
 */
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropPrefix, sharedRedis, uniquePrefix } from "./redis-server.js";
import { openSession, pool, replicaEnv, startCountingUpstream, startReplica, tokensCli, writeGeneratedApi, type CountingUpstream, type Replica } from "./replicas-harness.js";

let redis: { url: string; close(): Promise<void> };
let upstream: CountingUpstream;
let a: Replica;
let b: Replica;
let generated: string;
const prefix = uniquePrefix();

beforeAll(async () => {
  redis = await sharedRedis();
  upstream = await startCountingUpstream();
  generated = writeGeneratedApi();
  [a, b] = await Promise.all([
    startReplica({ redisUrl: redis.url, prefix, generated, upstream: upstream.url }),
    startReplica({ redisUrl: redis.url, prefix, generated, upstream: upstream.url }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await upstream?.close();
  await dropPrefix(redis.url, prefix);
  await redis?.close();
});

async function mint(name: string): Promise<{ id: string; token: string }> {
  const out = await tokensCli(redis.url, prefix, ["create", "--name", name]);
  return { id: String(out.id), token: String(out.token) };
}

describe("two replicas on one Redis", () => {
  it("counts one token's rate limit across both: of 1100 requests (2 initialize, 1098 calls) exactly 1000 are allowed", async () => {
    const { token } = await mint("burst");
    const other = await mint("bystander");
    const [sa, sb] = await Promise.all([openSession(a.url, token), openSession(b.url, token)]);
    const before = upstream.counts.GET;
    // Each session's initialize took a point: 998 calls fit in the 1000.
    const answers = await pool(1098, 32, (i) => (i % 2 ? sa : sb).call("get_item", { item_id: "1" }));
    const ok = answers.filter((r) => r.status === 200 && !r.message?.result?.isError);
    const limited = answers.filter((r) => r.status === 429);
    expect(ok).toHaveLength(998);
    expect(limited).toHaveLength(100);
    expect(answers.filter((r, i) => i % 2 === 1 && r.status === 200).length).toBeGreaterThan(100);
    expect(answers.filter((r, i) => i % 2 === 0 && r.status === 200).length).toBeGreaterThan(100);
    for (const r of limited) {
      const retryAfter = Number(r.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(r.message?.error?.data?.bucket).toBe("normal");
    }
    // Refused calls never reached the upstream.
    expect(upstream.counts.GET - before).toBe(998);
    // Another token has its own bucket.
    const so = await openSession(b.url, other.token);
    expect((await so.call("get_item", { item_id: "1" })).status).toBe(200);
    // 1100 real calls through two processes: slow on a busy shared machine, hence the long timeout.
  }, 180_000);

  it("executes an action previewed on A exactly once when 20 confirms race across A and B", async () => {
    const { token } = await mint("confirmer");
    const [sa, sb] = await Promise.all([openSession(a.url, token), openSession(b.url, token)]);
    const preview = await sa.call("update_item", { item_id: "7", name: "renamed" });
    const pending = preview.message?.result?.structuredContent as { status: string; action_id: string; confirm_token: string };
    expect(pending.status).toBe("pending_confirmation");
    expect(upstream.counts.PATCH).toBe(0);
    // B lists the action A created.
    const listed = await sb.call("list_pending_actions");
    expect((listed.message?.result?.structuredContent?.actions as { action_id: string }[]).map((x) => x.action_id)).toEqual([pending.action_id]);

    const confirms = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? sa : sb).call("confirm_action", { confirm_token: pending.confirm_token })));
    const statuses = confirms.map((c) => c.message?.result?.structuredContent?.status);
    expect(upstream.counts.PATCH).toBe(1);
    expect(upstream.idempotencyKeys).toEqual([pending.action_id]);
    expect(statuses.filter((s) => s === "executed")).toHaveLength(1);
    expect(statuses.filter((s) => s === "already_executed")).toHaveLength(19);

    // The audit trail is shared: B's get_activity shows the preview A recorded and the one execution.
    let events: { type: string; action_id?: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const activity = await sb.call("get_activity", { limit: 100 });
      events = activity.message?.result?.structuredContent?.events as typeof events;
      if (events.some((e) => e.type === "pending") && events.some((e) => e.type === "confirmed")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(events.filter((e) => e.type === "pending" && e.action_id === pending.action_id)).toHaveLength(1);
    expect(events.filter((e) => e.type === "confirmed" && e.action_id === pending.action_id).length).toBeGreaterThanOrEqual(1);
  });

  it("refuses a token revoked through the CLI on B's already-open session within a second", async () => {
    const { id, token } = await mint("revokee");
    const sb = await openSession(b.url, token);
    // Warm B's token cache so only the published revocation can make B notice.
    expect((await sb.call("get_item", { item_id: "1" })).status).toBe(200);
    expect((await sb.call("get_item", { item_id: "1" })).status).toBe(200);
    const out = await tokensCli(redis.url, prefix, ["revoke", id]);
    expect(out.revokedAt).toBeDefined();
    const revokedAt = Date.now();
    let answer = await sb.call("get_item", { item_id: "1" });
    while (answer.status === 200 && Date.now() - revokedAt < 2000) {
      await new Promise((r) => setTimeout(r, 20));
      answer = await sb.call("get_item", { item_id: "1" });
    }
    const seenAfterMs = Date.now() - revokedAt;
    expect(answer.status).toBe(401);
    expect(answer.message?.error?.message).toMatch(/revoked/i);
    expect(seenAfterMs).toBeLessThan(1000);
  });

  it("refuses a revoked token on a stdio gateway sharing the Redis within a second", async () => {
    const { id, token } = await mint("stdio-agent");
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(new URL("../../", import.meta.url).pathname, "bin/countersign.js"), "stdio", "--generated", generated, "--upstream", upstream.url],
      env: replicaEnv(redis.url, prefix, { MCP_TOKEN: token }) as Record<string, string>,
      stderr: "ignore",
    });
    const client = new Client({ name: "stdio-test", version: "1" });
    await client.connect(transport);
    try {
      expect((await client.callTool({ name: "get_item", arguments: { item_id: "1" } })).isError).toBeFalsy();
      await tokensCli(redis.url, prefix, ["revoke", id]);
      const revokedAt = Date.now();
      let result = await client.callTool({ name: "get_item", arguments: { item_id: "1" } });
      while (!result.isError && Date.now() - revokedAt < 2000) {
        await new Promise((r) => setTimeout(r, 20));
        result = await client.callTool({ name: "get_item", arguments: { item_id: "1" } });
      }
      expect(Date.now() - revokedAt).toBeLessThan(1000);
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(/revoked/i);
    } finally {
      await client.close();
    }
  });

  it("answers 404 for a session that lives on the other replica, so the client re-initializes", async () => {
    const { token } = await mint("wanderer");
    const sa = await openSession(a.url, token);
    const onB = await openSession(b.url, token);
    const answer = await onB.post({ jsonrpc: "2.0", id: 999, method: "tools/list", params: {} }, sa.id);
    expect(answer.status).toBe(404);
    expect(answer.message?.error?.message).toMatch(/session not found/i);
  });
});
