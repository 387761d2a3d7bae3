/**
 * The approval records, the same checks on each store: in memory, files in a data dir (two
 * instances on one dir, as two processes), and a real Redis.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisApprovalStore } from "../../src/approvals/redis-store.js";
import { APPROVAL_RETAIN_MS, createFileApprovalStore, createMemoryApprovalStore, type ApprovalRecord, type ApprovalStore } from "../../src/approvals/store.js";
import { createRedisConnection, type RedisConnection } from "../../src/stores/redis/redis-client.js";
import { dropPrefix, sharedRedis, uniquePrefix } from "../redis/redis-server.js";

let redis: { url: string; close(): Promise<void> };
const prefix = uniquePrefix();
let connection: RedisConnection;
const clock = Date.now();

beforeAll(async () => {
  redis = await sharedRedis();
  connection = createRedisConnection({ url: redis.url, keyPrefix: prefix });
});
afterAll(async () => {
  await connection?.close();
  await dropPrefix(redis.url, prefix);
  await redis?.close();
});

const record = (n: number, over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  actionId: `act_store${n}`,
  tokenId: "tok_a",
  subject: "agent",
  tool: "delete_task",
  approval: "both",
  requestedAt: clock + n,
  expiresAt: clock + 86_400_000,
  ...over,
});

function suite(name: string, make: () => [ApprovalStore, ApprovalStore]) {
  describe(name, () => {
    it("keeps a record once, marks it awaiting once across instances, merges patches, lists newest first and forgets old ones", async () => {
      const [a, b] = make();
      await a.put(record(1));
      await a.put(record(1, { subject: "someone else" }));
      expect((await b.get("act_store1"))?.subject).toBe("agent");
      const marks = await Promise.all([a.markAwaiting("act_store1", clock), b.markAwaiting("act_store1", clock + 1), a.markAwaiting("act_store1", clock + 2)]);
      expect(marks.filter(Boolean)).toHaveLength(1);
      expect(await a.markAwaiting("act_unknown", clock)).toBeUndefined();
      await Promise.all([
        a.update("act_store1", { decision: { verdict: "approved", by: "alice", adminId: "adm_1", at: clock, outcome: "executed" } }),
        b.update("act_store1", { delivery: { at: clock, ok: false, attempts: 3, status: 500, error: "HTTP 500" } }),
      ]);
      const got = await b.get("act_store1");
      expect(got).toMatchObject({ awaitingSince: expect.any(Number), decision: { by: "alice" }, requestedAt: clock + 1 });
      expect(got?.delivery).toMatchObject({ ok: false, attempts: 3 });
      await b.put(record(2));
      await b.put(record(3, { expiresAt: clock - APPROVAL_RETAIN_MS - 1 }));
      expect((await a.list()).map((r) => r.actionId)).toEqual(["act_store2", "act_store1"]);
      expect(await a.get("act_store3")).toBeUndefined();
      expect(await a.update("act_nothing", { awaitingSince: 1 })).toBeUndefined();
      await a.close();
      await b.close();
    });
  });
}

suite("memory", () => {
  const m = createMemoryApprovalStore(() => clock);
  return [m, m];
});
suite("files (two instances)", () => {
  const dir = mkdtempSync(join(tmpdir(), "cs-approval-store-"));
  return [createFileApprovalStore(dir, () => clock), createFileApprovalStore(dir, () => clock)];
});
suite("redis", () => [createRedisApprovalStore(connection, () => clock), createRedisApprovalStore(connection, () => clock)]);

it("refuses an id that is not an action id as a file name", async () => {
  const store = createFileApprovalStore(mkdtempSync(join(tmpdir(), "cs-approval-ids-")));
  expect(await store.get("../../etc/passwd")).toBeUndefined();
  await expect(store.put(record(9, { actionId: "../x" }))).rejects.toThrow(/not an action id/);
});
