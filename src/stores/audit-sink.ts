/**
 * Where audit records go. One interface; the JSON Lines file is the embedded default
 * (audit-file-sink.ts), a capped Redis Stream the distributed one, and memory for tests.
 */
import type { AuditRecord } from "../context.js";

/** Which records a query returns (all given filters must match). */
export interface AuditFilter {
  tokenId?: string;
  tool?: string;
  outcome?: string;
  type?: string;
  /** Records at or after this instant. */
  since?: Date;
  /** Only the newest `limit` matches. */
  limit?: number;
}

/** A destination for audit records that can also read them back. */
export interface AuditSink {
  /**
   * Queues a record. Resolves at once while the sink's buffer has room; when it is full, resolves
   * once the record is accepted (backpressure instead of loss).
   */
  write(record: AuditRecord): Promise<void>;
  /** Matching records, oldest first. */
  query(filter?: AuditFilter): Promise<AuditRecord[]>;
  /** One token's newest records, newest first (from an in-memory index where possible). */
  recent(tokenId: string, limit: number): Promise<AuditRecord[]>;
  /** Resolves when every record written so far is durable. */
  flush(): Promise<void>;
  /** Flushes and releases the sink; later writes are refused. */
  close(): Promise<void>;
}

/** Whether a record matches a filter (every given field must match). */
export function matches(record: AuditRecord, filter: AuditFilter, sinceMs = filter.since?.getTime()): boolean {
  if (filter.tokenId !== undefined && record.tokenId !== filter.tokenId) return false;
  if (filter.tool !== undefined && record.tool !== filter.tool) return false;
  if (filter.outcome !== undefined && record.outcome !== filter.outcome) return false;
  if (filter.type !== undefined && record.type !== filter.type) return false;
  if (sinceMs !== undefined && !(Date.parse(record.ts) >= sinceMs)) return false;
  return true;
}

/**
 * Each token's newest records, bounded both per token and in the number of tokens, so
 * get_activity never scans the files. Evicts the least recently written token when full.
 */
export function createTokenIndex(perToken = 100, maxTokens = 10_000) {
  // A ring per token: adding is O(1) on the call path. Tokens are evicted oldest-first (by when
  // they were first seen), which is close enough to LRU for a bounded cache with a file fallback.
  type Ring = { buf: AuditRecord[]; next: number; size: number };
  const byToken = new Map<string, Ring>();
  let evicted = false;
  return {
    /** Remembers a record under its token (records without a token are not indexed). */
    add(record: AuditRecord): void {
      const id = record.tokenId;
      if (id === undefined) return;
      let ring = byToken.get(id);
      if (!ring) {
        ring = { buf: [], next: 0, size: 0 };
        byToken.set(id, ring);
        if (byToken.size > maxTokens) {
          byToken.delete(byToken.keys().next().value!);
          evicted = true;
        }
      }
      ring.buf[ring.next] = record;
      ring.next = (ring.next + 1) % perToken;
      if (ring.size < perToken) ring.size++;
    },
    /** Newest first; `complete` is false when the index may have dropped this token's records. */
    recent(tokenId: string, limit: number): { records: AuditRecord[]; complete: boolean } {
      const ring = byToken.get(tokenId);
      const records: AuditRecord[] = [];
      if (ring) {
        for (let i = 1; i <= ring.size && records.length < limit; i++) records.push(ring.buf[(ring.next - i + perToken) % perToken]!);
      }
      const size = ring?.size ?? 0;
      return { records, complete: records.length >= limit || (size < perToken && !evicted) };
    },
    get perToken(): number {
      return perToken;
    },
  };
}

/** Audit records kept in memory only (tests, and `audit: off`-style set-ups). */
export function createMemoryAuditSink(options: { max?: number } = {}): AuditSink & { records: AuditRecord[] } {
  const max = options.max ?? 100_000;
  const records: AuditRecord[] = [];
  let closed = false;
  return {
    records,
    async write(record) {
      if (closed) throw new Error("audit sink is closed");
      records.push(record);
      // Trim in chunks so a full sink doesn't shift the whole array on every write.
      if (records.length > max + Math.ceil(max / 10)) records.splice(0, records.length - max);
    },
    async query(filter = {}) {
      const sinceMs = filter.since?.getTime();
      const out = records.filter((r) => matches(r, filter, sinceMs));
      return filter.limit !== undefined ? out.slice(Math.max(0, out.length - filter.limit)) : out;
    },
    async recent(tokenId, limit) {
      const out: AuditRecord[] = [];
      for (let i = records.length - 1; i >= 0 && out.length < limit; i--) if (records[i]!.tokenId === tokenId) out.push(records[i]!);
      return out;
    },
    async flush() {},
    async close() {
      closed = true;
    },
  };
}
