/**
 * The distributed audit sink: one capped Redis Stream for the whole trail
 * (`<prefix>{audit}`, XADD MAXLEN ~), read by `countersign audit`, and a short capped stream per
 * token (`<prefix>{audit}:tok:<id>`) so `get_activity` reads one token's newest records without
 * scanning, from any replica.
 *
 * `write` only queues: a background flusher sends batches in one pipeline. While Redis is down
 * records stay queued (bounded; a full queue makes callers wait rather than drop anything) and
 * go out once it is back. This replica's own recent records also stay in a small in-memory index,
 * so `get_activity` keeps answering during an outage.
 */
import type { AuditRecord } from "../../context.js";
import { createTokenIndex, matches, type AuditFilter, type AuditSink } from "../audit-sink.js";
import type { RedisConnection } from "./redis-client.js";

/** Options of the stream sink. */
export interface RedisAuditStreamOptions {
  readonly connection: RedisConnection;
  /** Approximate cap of the main stream (default 1,000,000 records). */
  readonly maxLen?: number;
  /** Approximate cap of each token's stream (default 200; get_activity shows at most 100). */
  readonly perTokenMaxLen?: number;
  /** A token's stream is deleted after this long without a record (default 30 days). */
  readonly perTokenTtlSeconds?: number;
  /** Records queued before `write` makes callers wait (default 10,000). */
  readonly bufferRecords?: number;
  /** Records per pipeline (default 500). */
  readonly batchSize?: number;
  /** How long `close` waits for Redis to take what is queued (default 10 s). */
  readonly closeTimeoutMs?: number;
  /** Told about failed flushes (the flusher retries; records stay queued). */
  readonly onError?: (err: unknown) => void;
}

/** Counters for the metrics module. */
export interface AuditStreamStats {
  buffered: number;
  written: number;
  writeErrors: number;
}

const FIELD = "r";
/** Margin between a record's own time and its stream id (records queued during an outage get later ids). */
const CLOCK_MARGIN_MS = 5 * 60_000;

/** The stream sink: an AuditSink that can also follow the trail (`countersign audit tail --follow`). */
export interface RedisAuditStream extends AuditSink {
  stats(): AuditStreamStats;
  /** Calls `onRecord` for each record added to the main stream from now on, until `signal` aborts. */
  follow(onRecord: (r: AuditRecord) => void, options: { signal?: AbortSignal; pollMs?: number }): Promise<void>;
}

/** Creates the Redis Stream audit sink. */
export function createRedisAuditStream(options: RedisAuditStreamOptions): RedisAuditStream {
  const conn = options.connection;
  const client = conn.client;
  const maxLen = options.maxLen ?? 1_000_000;
  const perTokenMaxLen = options.perTokenMaxLen ?? 200;
  const perTokenTtl = options.perTokenTtlSeconds ?? 30 * 86_400;
  const bufferRecords = options.bufferRecords ?? 10_000;
  const batchSize = options.batchSize ?? 500;
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  const mainKey = conn.key("audit");
  const tokenKey = (id: string) => conn.key("audit", "tok", id);
  const local = createTokenIndex(100, 10_000);
  const stats: AuditStreamStats = { buffered: 0, written: 0, writeErrors: 0 };

  let queue: AuditRecord[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;
  let failing = false;
  const roomWaiters: (() => void)[] = [];
  const drainWaiters: (() => void)[] = [];

  async function sendBatch(batch: AuditRecord[]): Promise<void> {
    const pipe = client.pipeline();
    for (const r of batch) {
      const json = JSON.stringify(r);
      pipe.xadd(mainKey, "MAXLEN", "~", maxLen, "*", FIELD, json);
      if (r.tokenId !== undefined) {
        pipe.xadd(tokenKey(r.tokenId), "MAXLEN", "~", perTokenMaxLen, "*", FIELD, json);
        pipe.expire(tokenKey(r.tokenId), perTokenTtl);
      }
    }
    const results = await conn.guard(() => pipe.exec());
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  function kick(): void {
    if (flushing) return;
    flushing = (async () => {
      for (let delay = 50; queue.length > 0; ) {
        const batch = queue.slice(0, batchSize);
        try {
          await sendBatch(batch);
          // Only the records that went out leave the queue (writes may have appended meanwhile).
          queue = queue.slice(batch.length);
          stats.written += batch.length;
          stats.buffered = queue.length;
          failing = false;
          delay = 50;
          while (roomWaiters.length > 0 && queue.length < bufferRecords) roomWaiters.shift()!();
        } catch (err) {
          stats.writeErrors++;
          if (!failing) options.onError?.(err);
          failing = true;
          if (closed && Date.now() > closeDeadline) return;
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 1000);
        }
      }
    })().finally(() => {
      flushing = undefined;
      if (queue.length > 0 && !(closed && Date.now() > closeDeadline)) kick();
      else while (drainWaiters.length > 0) drainWaiters.shift()!();
    });
  }
  let closeDeadline = Infinity;

  function parse(entries: [string, string[]][]): AuditRecord[] {
    const out: AuditRecord[] = [];
    for (const [, fields] of entries) {
      const i = fields.indexOf(FIELD);
      if (i === -1 || i + 1 >= fields.length) continue;
      try {
        out.push(JSON.parse(fields[i + 1]!) as AuditRecord);
      } catch {
        // A foreign or damaged entry is skipped, not fatal.
      }
    }
    return out;
  }

  function flushed(): Promise<void> {
    if (queue.length === 0 && !flushing) return Promise.resolve();
    return new Promise((resolve) => {
      drainWaiters.push(resolve);
      kick();
    });
  }

  return {
    stats: () => ({ ...stats, buffered: queue.length }),

    async write(record) {
      if (closed) throw new Error("audit sink is closed");
      local.add(record);
      queue.push(record);
      stats.buffered = queue.length;
      kick();
      if (queue.length > bufferRecords) await new Promise<void>((resolve) => roomWaiters.push(resolve));
    },

    async query(filter: AuditFilter = {}) {
      const sinceMs = filter.since?.getTime();
      const start = sinceMs === undefined ? "-" : String(Math.max(0, sinceMs - CLOCK_MARGIN_MS));
      // Records still queued here are the newest.
      const queued = queue.filter((r) => matches(r, filter, sinceMs));
      const page = 1000;
      if (filter.limit !== undefined) {
        const want = filter.limit;
        const found: AuditRecord[] = queued.slice(Math.max(0, queued.length - want)).reverse();
        let end = "+";
        while (found.length < want) {
          const entries = (await conn.guard(() => client.xrevrange(mainKey, end, start, "COUNT", page))) as [string, string[]][];
          for (const r of parse(entries)) if (found.length < want && matches(r, filter, sinceMs)) found.push(r);
          if (entries.length < page) break;
          end = `(${entries[entries.length - 1]![0]}`;
        }
        return dedupe(found.reverse());
      }
      const out: AuditRecord[] = [];
      let from = start;
      for (;;) {
        const entries = (await conn.guard(() => client.xrange(mainKey, from, "+", "COUNT", page))) as [string, string[]][];
        for (const r of parse(entries)) if (matches(r, filter, sinceMs)) out.push(r);
        if (entries.length < page) break;
        from = `(${entries[entries.length - 1]![0]}`;
      }
      return dedupe([...out, ...queued]);
    },

    async recent(tokenId, limit) {
      const mine = queue.filter((r) => r.tokenId === tokenId).reverse().slice(0, limit);
      try {
        const entries = (await conn.guard(() => client.xrevrange(tokenKey(tokenId), "+", "-", "COUNT", limit))) as [string, string[]][];
        return dedupe([...mine, ...parse(entries)]).slice(0, limit);
      } catch (err) {
        // Reads keep working while Redis is down, from what this replica wrote itself.
        if ((err as { code?: string }).code === "unavailable") return local.recent(tokenId, limit).records;
        throw err;
      }
    },

    flush: flushed,

    async follow(onRecord, opts) {
      const pollMs = opts.pollMs ?? 250;
      const last = (await conn.guard(() => client.xrevrange(mainKey, "+", "-", "COUNT", 1))) as [string, string[]][];
      let after = last[0]?.[0] ?? "0-0";
      while (!opts.signal?.aborted) {
        let entries: [string, string[]][] = [];
        try {
          entries = (await conn.guard(() => client.xrange(mainKey, `(${after}`, "+", "COUNT", 1000))) as [string, string[]][];
        } catch (err) {
          // Keep following through an outage; the stream is read from where it stopped.
          if ((err as { code?: string }).code !== "unavailable") throw err;
        }
        for (const r of parse(entries)) onRecord(r);
        if (entries.length > 0) {
          after = entries[entries.length - 1]![0];
          if (entries.length === 1000) continue;
        }
        // One abort listener per wait, removed when the wait ends: left behind, ten idle polls
        // were enough for Node's MaxListenersExceededWarning.
        await new Promise<void>((resolve) => {
          const onAbort = () => (clearTimeout(t), resolve());
          const t = setTimeout(() => (opts.signal?.removeEventListener("abort", onAbort), resolve()), pollMs);
          opts.signal?.addEventListener("abort", onAbort, { once: true });
        });
      }
    },

    async close() {
      if (closed) return flushed();
      closed = true;
      closeDeadline = Date.now() + closeTimeoutMs;
      await flushed();
      if (queue.length > 0) options.onError?.(new Error(`audit: ${queue.length} record(s) could not reach Redis before shutdown`));
    },
  };
}

/** Drops repeats: a record in the batch being sent can be both queued here and already in Redis. */
function dedupe(records: AuditRecord[]): AuditRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const k = JSON.stringify(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
