/**
 * The console's view of the audit trail: every record the gateway's audit sink accepts is also
 * kept in a bounded in-memory ring (newest first answers for the Activity page) and pushed to
 * subscribers (the Server-Sent Events stream). The sink interface has no listener hook, so the
 * feed wraps the sink's `write` once; the sink itself is unchanged and still receives every record.
 */
import type { AuditRecord } from "../context.js";
import type { AuditSink } from "../stores/audit-sink.js";

/** Which records an activity query returns (all given filters must match). */
export interface ActivityFilter {
  readonly tokenId?: string;
  readonly tool?: string;
  readonly module?: string;
  readonly outcome?: string;
  readonly since?: number;
  readonly until?: number;
  /** Records strictly older than this sequence number (paging). */
  readonly before?: number;
  readonly limit?: number;
}

/** A record with the feed's sequence number (stable id for detail views and paging). */
export interface FeedRecord {
  readonly seq: number;
  readonly record: AuditRecord;
}

/** The audit feed. */
export interface AuditFeed {
  /** Calls `fn` with every record written from now on; returns the unsubscribe function. */
  subscribe(fn: (entry: FeedRecord) => void): () => void;
  /** Matching records, newest first. */
  query(filter: ActivityFilter): FeedRecord[];
  get(seq: number): FeedRecord | undefined;
  /** Calls per token since `since` (epoch ms), over the records the ring still holds. */
  countsSince(since: number): Map<string, number>;
  /** Visits records at or after `since`, newest first. */
  scan(since: number, fn: (record: AuditRecord, ts: number) => void): void;
  /** How many records the ring holds. */
  size(): number;
}

const feeds = new WeakMap<AuditSink, AuditFeed>();

/** The feed of a sink (one per sink, however many consoles ask). */
export function auditFeed(sink: AuditSink, capacity = 100_000): AuditFeed {
  let feed = feeds.get(sink);
  if (!feed) {
    feed = createFeed(sink, capacity);
    feeds.set(sink, feed);
  }
  return feed;
}

/** Whether a record matches a filter (`ts` is its time in epoch ms). */
export function matchesFilter(r: AuditRecord, f: ActivityFilter, ts = Date.parse(r.ts)): boolean {
  if (f.tokenId !== undefined && r.tokenId !== f.tokenId) return false;
  if (f.tool !== undefined && r.tool !== f.tool) return false;
  if (f.module !== undefined && r.module !== f.module) return false;
  if (f.outcome !== undefined && r.outcome !== f.outcome) return false;
  if (f.since !== undefined && !(ts >= f.since)) return false;
  if (f.until !== undefined && !(ts <= f.until)) return false;
  return true;
}

function createFeed(sink: AuditSink, capacity: number): AuditFeed {
  const ring: (FeedRecord | undefined)[] = new Array(capacity);
  const times = new Float64Array(capacity);
  let seq = 0; // sequence number of the next record
  const listeners = new Set<(entry: FeedRecord) => void>();

  function add(record: AuditRecord): void {
    const entry: FeedRecord = { seq, record };
    ring[seq % capacity] = entry;
    times[seq % capacity] = Date.parse(record.ts);
    seq++;
    for (const fn of listeners) {
      try {
        fn(entry);
      } catch {
        // A failing subscriber (a closed stream) never affects the audit write.
      }
    }
  }

  const write = sink.write.bind(sink);
  (sink as { write: AuditSink["write"] }).write = (record) => {
    const accepted = write(record);
    add(record);
    return accepted;
  };

  const oldest = () => Math.max(0, seq - capacity);

  return {
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    query(filter) {
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      const out: FeedRecord[] = [];
      const start = Math.min(seq, filter.before ?? seq) - 1;
      for (let i = start; i >= oldest() && out.length < limit; i--) {
        const ts = times[i % capacity]!;
        // Records arrive in time order (near enough): past `since`, nothing older can match.
        if (filter.since !== undefined && ts < filter.since - 60_000) break;
        const entry = ring[i % capacity]!;
        if (matchesFilter(entry.record, filter, ts)) out.push(entry);
      }
      return out;
    },
    get(n) {
      if (!Number.isInteger(n) || n < oldest() || n >= seq) return undefined;
      return ring[n % capacity];
    },
    countsSince(since) {
      const counts = new Map<string, number>();
      for (let i = seq - 1; i >= oldest(); i--) {
        if (times[i % capacity]! < since) break;
        const id = ring[i % capacity]!.record.tokenId;
        if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    },
    scan(since, fn) {
      for (let i = seq - 1; i >= oldest(); i--) {
        const ts = times[i % capacity]!;
        if (ts < since) break;
        fn(ring[i % capacity]!.record, ts);
      }
    },
    size: () => seq - oldest(),
  };
}
