/**
 * Tasks in Redis, so a task created on one replica is read, answered and cancelled on any other.
 *
 * One string per task (`<prefix>{tasks}:t:<id>`: the record as JSON) that expires with the task's
 * TTL. A transition is a compare-and-set on the status (one Lua script, the TTL kept), so two
 * replicas never both settle a task. A cancel is also published on a channel: the replica running
 * the task hears it and aborts the upstream request.
 */
import { patched, type TaskRecord, type TaskStore } from "../tasks.js";
import { defineScript, type RedisClient, type RedisConnection } from "./redis-client.js";

// KEYS[1] task; ARGV[1] the status it must still be in; ARGV[2] the new record (JSON). A compare-and-set:
// the record is computed in JS (patched(), as the embedded store does) and written only if no other
// replica changed the status meanwhile. Lua only reads the record, so cjson never re-encodes it (it
// would turn empty arrays into objects).
const TRANSITION = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if cjson.decode(raw).status ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`;

/** Creates the Redis task store on a connection. */
export function createRedisTaskStore(connection: RedisConnection, now: () => number = Date.now): TaskStore {
  const { client } = connection;
  const transition = defineScript(client, "countersignTaskTransition", 1, TRANSITION);
  const key = (id: string) => connection.key("tasks", "t", id);
  const channel = connection.channel("task-cancels");
  const listeners = new Set<(id: string) => void>();
  let subscriber: RedisClient | undefined;

  function listen(): void {
    if (subscriber) return;
    subscriber = connection.createSubscriber();
    subscriber.on("message", (ch: string, id: string) => {
      if (ch === channel) for (const l of listeners) l(id);
    });
    void subscriber.subscribe(channel).catch(() => undefined);
  }

  return {
    async create(task) {
      const ttl = Math.max(1, task.expiresAt - now());
      await connection.guard(() => client.set(key(task.id), JSON.stringify(task), "PX", ttl));
    },
    async get(id) {
      const raw = await connection.guard(() => client.get(key(id)));
      return raw ? (JSON.parse(raw) as TaskRecord) : undefined;
    },
    async transition(id, from, patch) {
      // Retried while another replica moved the task between two statuses this transition accepts.
      for (;;) {
        const raw = await connection.guard(() => client.get(key(id)));
        if (!raw) return undefined;
        const task = JSON.parse(raw) as TaskRecord;
        if (!from.includes(task.status)) return undefined;
        const next = patched(task, patch, now());
        const done = await connection.guard(() => transition([key(id)], [task.status, JSON.stringify(next)]));
        if (done === 1) return next;
        if (done === 0) return undefined;
      }
    },
    async announceCancel(id) {
      await connection.guard(() => client.publish(channel, id));
    },
    onCancel(listener) {
      listeners.add(listener);
      listen();
    },
    async close() {
      listeners.clear();
      // The subscriber is closed with the connection (createSubscriber's contract).
    },
  };
}
