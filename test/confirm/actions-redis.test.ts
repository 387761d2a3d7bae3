/**
 * The confirm flow on the Redis pending-action store (a real Redis): two chains with their own
 * connections stand for two replicas sharing one Redis. The same operations as actions.test.ts,
 * so the flow is known not to depend on the in-process store.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createConfirmActions, type ActionCaller, type ConfirmActions } from "../../src/confirm/actions.js";
import type { ToolResult } from "../../src/context.js";
import { GatewayError } from "../../src/errors.js";
import { createRedisPendingActions } from "../../src/stores/redis/pending-actions.js";
import { createRedisConnection, type RedisConnection } from "../../src/stores/redis/redis-client.js";
import { createMiniChain, PRINCIPALS, type MiniChain } from "../fixtures/confirm/mini-chain.js";
import { startTasksUpstream, type TasksUpstream } from "../fixtures/confirm/tasks-api.js";
import { dropPrefix, sharedRedis, uniquePrefix } from "../redis/redis-server.js";

let redis: { url: string; close(): Promise<void> };
let upstream: TasksUpstream;
const connections: RedisConnection[] = [];
const prefixes: string[] = [];
let clock: number;
let replicas: { chain: MiniChain; actions: ConfirmActions }[];

const caller = (credential = "cred-a"): ActionCaller => ({ principal: PRINCIPALS[credential]!, transport: "http", signal: new AbortController().signal });
const sc = (r: ToolResult) => r.structuredContent as Record<string, any>;

beforeAll(async () => {
  redis = await sharedRedis();
  upstream = await startTasksUpstream();
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  for (const p of prefixes) await dropPrefix(redis.url, p);
  await redis.close();
  await upstream.close();
});

beforeEach(async () => {
  clock = Date.now();
  upstream.writes.length = 0;
  upstream.writeDelayMs = 0;
  const keyPrefix = uniquePrefix();
  prefixes.push(keyPrefix);
  replicas = [];
  for (let i = 0; i < 2; i++) {
    const connection = createRedisConnection({ url: redis.url, keyPrefix });
    connections.push(connection);
    expect(await connection.ready(5000)).toBe(true);
    const store = createRedisPendingActions({ connection, now: () => clock, sweepIntervalMs: 0 });
    const chain = createMiniChain({ store, upstreamUrl: upstream.url, now: () => clock });
    replicas.push({ chain, actions: createConfirmActions({ store, gateway: chain, waitTimeoutMs: 10_000 }) });
  }
});

async function previewOn(i: number, name: string, args: Record<string, unknown>): Promise<string> {
  const r = await replicas[i]!.chain.tool(name, args);
  expect(sc(r).status).toBe("pending_confirmation");
  return sc(r).confirm_token;
}

describe("confirm_action on the Redis store", () => {
  it("an action previewed on one replica runs exactly once under 50 confirms split across both", async () => {
    const token = await previewOn(0, "create_task", { project_id: 42, title: "Once across replicas" });
    upstream.writeDelayMs = 50;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => replicas[i % 2]!.actions.confirm(token, caller())));
    const statuses = results.map((r) => sc(r).status);
    expect(statuses.filter((s) => s === "executed")).toHaveLength(1);
    expect(statuses.filter((s) => s === "already_executed")).toHaveLength(49);
    expect(upstream.writes).toHaveLength(1);
  });

  it("refuses another token's, a cancelled, an expired and a tampered confirm token with no write", async () => {
    const refusal = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      return err as GatewayError;
    };
    const a = await previewOn(0, "delete_task", { project_id: 42, task_id: 19 });
    expect((await refusal(replicas[1]!.actions.confirm(a, caller("cred-b")))).message).toContain("Unknown confirm token");
    expect((await refusal(replicas[1]!.actions.confirm(`${a.slice(0, -1)}${a.endsWith("Z") ? "Y" : "Z"}`, caller()))).message).toContain("Unknown confirm token");
    expect(sc(await replicas[1]!.actions.cancel(a, caller())).status).toBe("cancelled");
    expect((await refusal(replicas[0]!.actions.confirm(a, caller()))).message).toContain("cancelled");
    const b = await previewOn(1, "create_task", { project_id: 42, title: "Too late" });
    clock += 600_001;
    expect((await refusal(replicas[0]!.actions.confirm(b, caller()))).message).toMatch(/expired at/);
    expect(upstream.writes).toHaveLength(0);
  });

  it("refuses a stale preview and lists only the caller's own actions", async () => {
    const token = await previewOn(0, "update_task", { project_id: 42, task_id: 17, title: "Mine" });
    await previewOn(1, "create_task", { project_id: 42, title: "Alice's" });
    expect(sc(await replicas[1]!.chain.tool("create_task", { project_id: 42, title: "Bob's" }, "cred-b")).status).toBe("pending_confirmation");
    upstream.touch(17, { title: "Theirs" });
    const listed = sc(await replicas[1]!.actions.list(caller())).actions as { tool: string; summary: string }[];
    expect(listed.map((x) => x.tool).sort()).toEqual(["create_task", "update_task"]);
    const bobs = sc(await replicas[0]!.actions.list(caller("cred-b"))).actions as { summary: string }[];
    expect(bobs.map((x) => x.summary)).toEqual(['Create a task (project_id=42) with title="Bob\'s".']);
    const r = await replicas[1]!.actions.confirm(token, caller());
    expect(sc(r).error).toMatchObject({ code: "conflict" });
    expect(upstream.tasks.get(17)!.title).toBe("Theirs");
  });
});
