/**
 * The console's view of the audit trail. Every record the gateway's audit sink accepts is also
 * added to the console's audit index (which answers the Activity and Analytics pages) and pushed to
 * subscribers (the Server-Sent Events stream). The sink interface has no listener hook, so the feed
 * wraps the sink's `write` once; the sink itself is unchanged and still receives every record.
 * A sink that can follow a shared trail (the Redis Stream of the distributed mode) is followed
 * instead, so every replica's console sees the calls of every replica.
 */
import type { AuditRecord } from "../context.js";
import type { AuditSink } from "../stores/audit-sink.js";
import { analyticsOf, type AnalyticsRange, type AnalyticsResult } from "./analytics.js";

/** Which records an activity query returns (all given filters must match). */
export interface ActivityFilter {
  readonly tokenId?: string;
  readonly tool?: string;
  readonly module?: string;
  readonly outcome?: string;
  /** The upstream the tool belongs to (a gateway of several). */
  readonly upstream?: string;
  readonly since?: number;
  readonly until?: number;
  /** Records with an id below this (paging). */
  readonly before?: number;
  readonly limit?: number;
}

/** A record with its index id (stable: detail views, paging, event ids). */
export interface FeedRecord {
  readonly seq: number;
  readonly record: AuditRecord;
}

/** Where the console finds audit records: the embedded SQLite index, or a bounded ring in memory. */
export interface AuditIndex {
  /** Adds a record; returns its id. */
  add(record: AuditRecord): number;
  /** Matching records, newest first (at most 1,000). */
  query(filter: ActivityFilter): FeedRecord[];
  get(id: number): FeedRecord | undefined;
  /** Agent calls per token since `since` (epoch ms). */
  countsSince(since: number): Map<string, number>;
  /** Usage analytics over `range` ending at `now`. */
  analytics(range: AnalyticsRange, now: number): AnalyticsResult;
  /** How many records the index holds. */
  size(): number;
  close(): void;
}

/** The audit feed: subscribers and the index. */
export interface AuditFeed {
  /** Calls `fn` with every record written from now on; returns the unsubscribe function. */
  subscribe(fn: (entry: FeedRecord) => void): () => void;
  readonly index: AuditIndex;
}

/** Whether a record matches a filter (`ts` is its time in epoch ms). */
export function matchesFilter(r: AuditRecord, f: ActivityFilter, ts = Date.parse(r.ts)): boolean {
  if (f.tokenId !== undefined && r.tokenId !== f.tokenId) return false;
  if (f.tool !== undefined && r.tool !== f.tool) return false;
  if (f.module !== undefined && r.module !== f.module) return false;
  if (f.outcome !== undefined && r.outcome !== f.outcome) return false;
  if (f.upstream !== undefined && r.upstream !== f.upstream) return false;
  if (f.since !== undefined && !(ts >= f.since)) return false;
  if (f.until !== undefined && !(ts <= f.until)) return false;
  return true;
}

/** Whether a record is an admin's console action rather than an agent's call. */
export function isAdminRecord(r: AuditRecord): boolean {
  return (r.type as string | undefined) === "admin";
}

const feeds = new WeakMap<AuditSink, AuditFeed>();

/** The feed of a sink (one per sink, however many consoles ask); `index` is used on first call. */
export function auditFeed(sink: AuditSink, index: () => AuditIndex = () => createMemoryIndex()): AuditFeed {
  let feed = feeds.get(sink);
  if (!feed) {
    feed = createFeed(sink, index());
    feeds.set(sink, feed);
  }
  return feed;
}

/** A sink that reads a trail shared by every replica (src/stores/redis/audit-stream.ts). */
type FollowableSink = AuditSink & { follow(onRecord: (r: AuditRecord) => void, options: { signal?: AbortSignal; pollMs?: number }): Promise<void> };

function createFeed(sink: AuditSink, index: AuditIndex): AuditFeed {
  const listeners = new Set<(entry: FeedRecord) => void>();

  function add(record: AuditRecord): void {
    let entry: FeedRecord;
    try {
      entry = { seq: index.add(record), record };
    } catch {
      // The console's index failing never fails the audit write.
      return;
    }
    for (const fn of listeners) {
      try {
        fn(entry);
      } catch {
        // A failing subscriber (a closed stream) never affects the audit write either.
      }
    }
  }

  if (typeof (sink as Partial<FollowableSink>).follow === "function") {
    const stop = new AbortController();
    void (sink as FollowableSink).follow(add, { signal: stop.signal, pollMs: 100 }).catch(() => undefined);
    const close = sink.close.bind(sink);
    (sink as { close: AuditSink["close"] }).close = () => {
      stop.abort();
      index.close();
      return close();
    };
  } else {
    const write = sink.write.bind(sink);
    (sink as { write: AuditSink["write"] }).write = (record) => {
      const accepted = write(record);
      add(record);
      return accepted;
    };
    const close = sink.close.bind(sink);
    (sink as { close: AuditSink["close"] }).close = async () => {
      await close();
      index.close();
    };
  }
  return {
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    index,
  };
}

/** A bounded ring of the newest records (tests, and when the SQLite index is unavailable). */
export function createMemoryIndex(capacity = 100_000): AuditIndex {
  const ring: (FeedRecord | undefined)[] = new Array(capacity);
  const times = new Float64Array(capacity);
  let seq = 0; // id of the next record
  const oldest = () => Math.max(0, seq - capacity);

  function scan(since: number, fn: (record: AuditRecord, ts: number) => void): void {
    for (let i = seq - 1; i >= oldest(); i--) {
      const ts = times[i % capacity]!;
      if (ts < since) break;
      fn(ring[i % capacity]!.record, ts);
    }
  }

  return {
    add(record) {
      const id = seq++;
      ring[id % capacity] = { seq: id, record };
      times[id % capacity] = Date.parse(record.ts);
      return id;
    },
    query(filter) {
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      const out: FeedRecord[] = [];
      for (let i = Math.min(seq, filter.before ?? seq) - 1; i >= oldest() && out.length < limit; i--) {
        const ts = times[i % capacity]!;
        // Records arrive in time order (near enough): well past `since`, nothing older can match.
        if (filter.since !== undefined && ts < filter.since - 60_000) break;
        const entry = ring[i % capacity]!;
        if (matchesFilter(entry.record, filter, ts)) out.push(entry);
      }
      return out;
    },
    get(id) {
      if (!Number.isInteger(id) || id < oldest() || id >= seq) return undefined;
      return ring[id % capacity];
    },
    countsSince(since) {
      const counts = new Map<string, number>();
      scan(since, (r) => {
        if (r.tokenId !== undefined && !isAdminRecord(r)) counts.set(r.tokenId, (counts.get(r.tokenId) ?? 0) + 1);
      });
      return counts;
    },
    analytics(range, now) {
      return analyticsOf(range, now, (since, fn) => scan(since, fn));
    },
    size: () => seq - oldest(),
    close() {},
  };
}
