/**
 * Approval records in Redis: one hash, `<prefix>{ap}:records`, field = action id, value = the
 * record as JSON. A patch is merged by one Lua script, so a decision and a webhook delivery
 * recorded at once on two replicas both stay.
 */
import { defineScript, type RedisConnection } from "../stores/redis/redis-client.js";
import { APPROVAL_RETAIN_MS, type ApprovalRecord, type ApprovalStore } from "./store.js";

// KEYS[1] the hash; ARGV[1] action id, ARGV[2] the patch as JSON. Returns the merged record or false.
const MERGE = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
local r = cjson.decode(cur)
for k, v in pairs(cjson.decode(ARGV[2])) do r[k] = v end
local out = cjson.encode(r)
redis.call('HSET', KEYS[1], ARGV[1], out)
return out
`;

// Sets awaitingSince once. KEYS[1] the hash; ARGV[1] action id, ARGV[2] the time. Returns the record or false.
const MARK_AWAITING = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
local r = cjson.decode(cur)
if r.awaitingSince then return false end
r.awaitingSince = tonumber(ARGV[2])
local out = cjson.encode(r)
redis.call('HSET', KEYS[1], ARGV[1], out)
return out
`;

/** Creates the Redis approval store. */
export function createRedisApprovalStore(connection: RedisConnection, now: () => number = Date.now): ApprovalStore {
  const key = connection.key("ap", "records");
  const merge = defineScript(connection.client, "countersign_approval_merge", 1, MERGE);
  const markAwaiting = defineScript(connection.client, "countersign_approval_mark_awaiting", 1, MARK_AWAITING);
  return {
    async put(record) {
      await connection.guard(() => connection.client.hsetnx(key, record.actionId, JSON.stringify(record)));
    },
    async update(actionId, patch) {
      const out = await connection.guard(() => merge([key], [actionId, JSON.stringify(patch)]));
      return typeof out === "string" ? (JSON.parse(out) as ApprovalRecord) : undefined;
    },
    async get(actionId) {
      const raw = await connection.guard(() => connection.client.hget(key, actionId));
      return raw ? (JSON.parse(raw) as ApprovalRecord) : undefined;
    },
    async markAwaiting(actionId, at) {
      const out = await connection.guard(() => markAwaiting([key], [actionId, at]));
      return typeof out === "string" ? (JSON.parse(out) as ApprovalRecord) : undefined;
    },
    async list() {
      const all = await connection.guard(() => connection.client.hgetall(key));
      const t = now();
      const out: ApprovalRecord[] = [];
      const old: string[] = [];
      for (const [id, raw] of Object.entries(all)) {
        const r = JSON.parse(raw) as ApprovalRecord;
        if (t - Math.max(r.expiresAt, r.decision?.at ?? 0) > APPROVAL_RETAIN_MS) old.push(id);
        else out.push(r);
      }
      if (old.length > 0) await connection.guard(() => connection.client.hdel(key, ...old));
      return out.sort((a, b) => b.requestedAt - a.requestedAt || (a.actionId < b.actionId ? 1 : -1));
    },
    async close() {},
  };
}
