/**
 * The console's audit indexes: the embedded SQLite index answers activity queries and analytics
 * like the exact in-memory one (percentiles within a histogram bucket), survives a reopen, and the
 * feed keeps the audit sink's writes intact.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/context.js";
import { auditFeed, createMemoryIndex, type AuditIndex } from "../../src/console/audit-feed.js";
import { createSqliteIndex } from "../../src/console/audit-index-sqlite.js";
import { createMemoryAuditSink } from "../../src/stores/audit-sink.js";

const NOW = Date.parse("2026-03-02T12:00:00Z");
const TOOLS = ["get_item", "search_items", "create_item"];
const OUTCOMES = ["ok", "ok", "ok", "ok", "error", "rate_limited", "ok", "denied"];

function records(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++) {
    const ts = NOW - (n - i) * 7_000; // oldest first, 7 s apart
    out.push({
      ts: new Date(ts).toISOString(),
      requestId: `r${i}`,
      transport: "http",
      tokenId: `tok_${i % 4}`,
      subject: `agent ${i % 4}`,
      tool: TOOLS[i % 3]!,
      module: i % 3 === 2 ? "writes" : "reads",
      outcome: OUTCOMES[i % OUTCOMES.length],
      durationMs: 5 + (i % 50) * 3,
      args: { q: `value ${i}` },
    });
  }
  return out;
}

function sqlite(): AuditIndex & { flush(): void } {
  return createSqliteIndex({ file: join(mkdtempSync(join(tmpdir(), "cs-index-")), "index.sqlite") });
}

describe("audit indexes", () => {
  const data = records(2000);

  it("SQLite answers filtered activity queries exactly like the memory index", () => {
    const memory = createMemoryIndex();
    const disk = sqlite();
    for (const r of data) expect(disk.add(r)).toBe(memory.add(r));
    const filters = [
      {},
      { tokenId: "tok_1" },
      { tool: "search_items", outcome: "ok" },
      { module: "writes", limit: 7 },
      { since: NOW - 3_600_000, until: NOW - 1_800_000 },
      { tokenId: "tok_2", since: NOW - 600_000 },
      { before: 1500, limit: 20 },
      { tool: "nope" },
    ];
    for (const f of filters) {
      const a = memory.query(f).map((e) => e.seq);
      const b = disk.query(f).map((e) => e.seq);
      expect(b, JSON.stringify(f)).toEqual(a);
    }
    expect(disk.get(1234)?.record.requestId).toBe("r1234");
    expect(disk.size()).toBe(2000);
    disk.close();
  });

  it("SQLite analytics match the exact ones (counts exactly, percentiles within a bucket)", () => {
    const memory = createMemoryIndex();
    const disk = sqlite();
    for (const r of data) (memory.add(r), disk.add(r));
    for (const range of ["hour", "day", "week"] as const) {
      const a = memory.analytics(range, NOW);
      const b = disk.analytics(range, NOW);
      expect(b.series, range).toEqual(a.series);
      expect(b.totals).toEqual(a.totals);
      expect(b.tokens).toEqual(a.tokens);
      expect(b.tools.map((t) => [t.tool, t.calls, t.errors])).toEqual(a.tools.map((t) => [t.tool, t.calls, t.errors]));
      for (const t of a.tools) {
        const d = b.tools.find((x) => x.tool === t.tool)!;
        expect(d.p50Ms).toBeGreaterThanOrEqual(t.p50Ms);
        expect(d.p50Ms).toBeLessThanOrEqual(Math.ceil(t.p50Ms * 1.25) + 1);
        expect(d.p99Ms).toBeGreaterThanOrEqual(t.p99Ms);
        expect(d.p99Ms).toBeLessThanOrEqual(Math.ceil(t.p99Ms * 1.25) + 1);
      }
    }
    const hour = disk.analytics("hour", NOW);
    // The hour is the current minute and the 59 before it.
    const start = NOW - 59 * 60_000;
    expect(hour.totals.calls).toBe(data.filter((r) => Date.parse(r.ts) >= start).length);
    expect(hour.totals.rateLimited).toBeGreaterThan(0);
    expect(disk.countsSince(NOW - 3_600_000)).toEqual(memory.countsSince(NOW - 3_600_000));
    disk.close();
  });

  it("SQLite keeps its records and ids across a reopen", () => {
    const file = join(mkdtempSync(join(tmpdir(), "cs-index-")), "index.sqlite");
    const first = createSqliteIndex({ file });
    for (const r of data.slice(0, 10)) first.add(r);
    first.close();
    const second = createSqliteIndex({ file });
    expect(second.size()).toBe(10);
    expect(second.add(data[10]!)).toBe(10);
    expect(second.query({ limit: 1 })[0]?.record.requestId).toBe("r10");
    second.close();
  });

  it("the oldest calls go when the index is over its cap; rollups stay", () => {
    const disk = createSqliteIndex({ file: join(mkdtempSync(join(tmpdir(), "cs-index-")), "index.sqlite"), maxRecords: 500 });
    for (const r of data) disk.add(r);
    disk.flush();
    expect(disk.size()).toBeLessThanOrEqual(1000);
    expect(disk.get(0)).toBeUndefined();
    expect(disk.analytics("week", NOW).totals.calls).toBe(2000);
    disk.close();
  });

  it("the feed indexes every record the sink accepts and tells subscribers, once per sink", async () => {
    const sink = createMemoryAuditSink();
    const feed = auditFeed(sink);
    expect(auditFeed(sink)).toBe(feed);
    const seen: string[] = [];
    const stop = feed.subscribe((e) => seen.push(e.record.requestId));
    for (const r of data.slice(0, 3)) await sink.write(r);
    stop();
    await sink.write(data[3]!);
    expect(sink.records.map((r) => r.requestId)).toEqual(["r0", "r1", "r2", "r3"]);
    expect(seen).toEqual(["r0", "r1", "r2"]);
    expect(feed.index.size()).toBe(4);
  });
});

describe("two processes on one data dir", () => {
  it("two indexes on the same SQLite file each add records without a clash, and both see all of them", () => {
    const file = join(mkdtempSync(join(tmpdir(), "cs-index-")), "index.sqlite");
    const a = createSqliteIndex({ file });
    const b = createSqliteIndex({ file });
    const rs = records(6);
    // Both opened an empty file, so both would number from 0.
    for (let i = 0; i < 6; i++) {
      const index = i % 2 === 0 ? a : b;
      expect(() => (index.add(rs[i]!), index.flush())).not.toThrow();
    }
    const seen = a.query({ limit: 10 }).map((e) => e.record.requestId).sort();
    expect(seen).toEqual(["r0", "r1", "r2", "r3", "r4", "r5"]);
    const ids = a.query({ limit: 10 }).map((e) => e.seq);
    expect(new Set(ids).size).toBe(6);
  });
});
