/**
 * The console's embedded audit index: SQLite (better-sqlite3) in the data dir. Rows are queued and
 * written in one transaction per batch; reads flush the queue first. Activity queries walk an index
 * on (filter column, id) newest first; each such index also carries the other filter columns, so a
 * second filter that matches little is checked inside the index instead of row by row in the
 * table. Time ranges become id ranges through the index on ts.
 * Analytics never scan the calls: every batch also adds to rollups at each range's bucket size
 * (minute, hour, six hours: calls, errors, rate-limited in all, per tool, per token and per upstream) and to
 * log-scale latency histograms per tool, so any range reads a few thousand rollup rows whatever
 * the number of calls.
 * Percentiles from the histograms are upper bounds of 25%-wide buckets.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import type { AuditRecord } from "../context.js";
import { buckets, ERROR_OUTCOMES, RANGES, shape, type AnalyticsRange } from "./analytics.js";
import { isAdminRecord, type ActivityFilter, type AuditIndex, type FeedRecord } from "./audit-feed.js";

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Rollup grains: the bucket sizes of the hour, day and week ranges (analytics.ts RANGES). */
const GRAINS = [RANGES.hour.bucketMs, RANGES.day.bucketMs, RANGES.week.bucketMs];
const KIND_ALL = 0;
const KIND_TOOL = 1;
const KIND_TOKEN = 2;
const KIND_UPSTREAM = 3;
/** Histogram slot of a duration: 0 for under 1 ms, then buckets growing by 25%. */
const GROWTH = 1.25;
const slotOf = (ms: number) => (ms < 1 ? 0 : Math.min(99, 1 + Math.floor(Math.log(ms) / Math.log(GROWTH))));
const upperOf = (slot: number) => (slot === 0 ? 1 : Math.round(GROWTH ** slot));

/** Options of the SQLite index. */
export interface SqliteIndexOptions {
  /** The database file (created with its folder). */
  readonly file: string;
  /** Keep at most this many calls (the oldest go first; rollups stay). Default 5,000,000. */
  readonly maxRecords?: number;
  /** Queued rows are written after this long at most (default 50 ms). */
  readonly flushMs?: number;
}

/** Opens the index; throws when better-sqlite3 cannot be loaded (the caller falls back to memory). */
export function createSqliteIndex(options: SqliteIndexOptions): AuditIndex & { flush(): void } {
  // Required at run time, not imported: a native module stays out of the bundle (scripts/bundle.js).
  const Database = createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
  mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
  const db = new Database(options.file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`
    CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, token TEXT, tool TEXT, module TEXT, outcome TEXT, record TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS calls_ts ON calls(ts);
    DROP INDEX IF EXISTS calls_token; DROP INDEX IF EXISTS calls_tool; DROP INDEX IF EXISTS calls_module; DROP INDEX IF EXISTS calls_outcome;
    CREATE INDEX IF NOT EXISTS calls_by_token ON calls(token, id, tool, module, outcome);
    CREATE INDEX IF NOT EXISTS calls_by_tool ON calls(tool, id, token, module, outcome);
    CREATE INDEX IF NOT EXISTS calls_by_module ON calls(module, id, token, tool, outcome);
    CREATE INDEX IF NOT EXISTS calls_by_outcome ON calls(outcome, id, token, tool, module);
    CREATE TABLE IF NOT EXISTS roll (grain INTEGER, kind INTEGER, bucket INTEGER, key TEXT, calls INTEGER, errors INTEGER, limited INTEGER, PRIMARY KEY (grain, kind, bucket, key)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS hist (grain INTEGER, bucket INTEGER, tool TEXT, slot INTEGER, n INTEGER, PRIMARY KEY (grain, bucket, tool, slot)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS subjects (token TEXT PRIMARY KEY, subject TEXT);
  `);
  // The upstream column came with several upstreams: an older file gets it, filled from its records.
  if (!(db.prepare("PRAGMA table_info(calls)").all() as { name: string }[]).some((c) => c.name === "upstream")) {
    db.exec(`ALTER TABLE calls ADD COLUMN upstream TEXT; UPDATE calls SET upstream = json_extract(record, '$.upstream') WHERE instr(record, '"upstream":') > 0;`);
  }
  db.exec("CREATE INDEX IF NOT EXISTS calls_by_upstream ON calls(upstream, id, token, tool, module, outcome)");
  const maxRecords = options.maxRecords ?? 5_000_000;
  const flushMs = options.flushMs ?? 50;

  const insertCall = db.prepare("INSERT INTO calls (id, ts, token, tool, module, outcome, upstream, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const upsertRoll = db.prepare(
    "INSERT INTO roll VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (grain, kind, bucket, key) DO UPDATE SET calls = calls + excluded.calls, errors = errors + excluded.errors, limited = limited + excluded.limited",
  );
  const upsertHist = db.prepare("INSERT INTO hist VALUES (?, ?, ?, ?, ?) ON CONFLICT (grain, bucket, tool, slot) DO UPDATE SET n = n + excluded.n");
  const upsertSubject = db.prepare("INSERT INTO subjects VALUES (?, ?) ON CONFLICT (token) DO UPDATE SET subject = excluded.subject");
  const getById = db.prepare("SELECT id, record FROM calls WHERE id = ?");
  const firstAtOrAfter = db.prepare("SELECT id FROM calls WHERE ts >= ? ORDER BY ts LIMIT 1");
  const lastAtOrBefore = db.prepare("SELECT id FROM calls WHERE ts <= ? ORDER BY ts DESC LIMIT 1");
  const seriesRows = db.prepare("SELECT bucket, calls, errors, limited FROM roll WHERE grain = ? AND kind = 0 AND bucket >= ? AND bucket <= ?");
  const keyRows = db.prepare("SELECT key, SUM(calls) AS calls, SUM(errors) AS errors, SUM(limited) AS limited FROM roll WHERE grain = ? AND kind = ? AND bucket >= ? AND bucket <= ? GROUP BY key");
  const histRows = db.prepare("SELECT tool, slot, SUM(n) AS n FROM hist WHERE grain = ? AND bucket >= ? AND bucket <= ? GROUP BY tool, slot");
  const subjectRows = db.prepare("SELECT token, subject FROM subjects");
  const countRows = db.prepare("SELECT key, SUM(calls) AS calls FROM roll WHERE grain = ? AND kind = ? AND bucket >= ? GROUP BY key");
  const pruneCalls = db.prepare("DELETE FROM calls WHERE id < ?");
  const pruneRoll = db.prepare("DELETE FROM roll WHERE grain = ? AND bucket < ?");
  const pruneHist = db.prepare("DELETE FROM hist WHERE grain = ? AND bucket < ?");
  const count = db.prepare("SELECT COUNT(*) AS n FROM calls");

  const maxId = db.prepare("SELECT MAX(id) AS m FROM calls");
  let nextId = ((maxId.get() as { m: number | null }).m ?? -1) + 1;
  let rows = (count.get() as { n: number }).n;
  let queue: { id: number; ts: number; record: AuditRecord }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lastPrune = 0;

  const writeBatch = db.transaction((batch: typeof queue) => {
    // Another process on the same data dir (a second serve) numbers its records from the same
    // start: past what is stored, move this batch (and this process's numbering) beyond it.
    const floor = ((maxId.get() as { m: number | null }).m ?? -1) + 1;
    if (batch.length > 0 && batch[0]!.id < floor) {
      const shift = floor - batch[0]!.id;
      for (const b of batch) b.id += shift;
      nextId += shift;
    }
    const rolls = new Map<string, [number, number, number, string, number, number, number]>();
    const hists = new Map<string, [number, number, string, number, number]>();
    const roll = (grain: number, bucket: number, kind: number, key: string, isError: boolean, isLimited: boolean) => {
      const k = `${grain}|${kind}|${bucket}|${key}`;
      const row = rolls.get(k) ?? [grain, kind, bucket, key, 0, 0, 0];
      row[4]++;
      if (isError) row[5]++;
      if (isLimited) row[6]++;
      rolls.set(k, row);
    };
    for (const { id, ts, record: r } of batch) {
      insertCall.run(id, ts, r.tokenId ?? null, r.tool, r.module ?? null, r.outcome ?? null, r.upstream ?? null, JSON.stringify(r));
      if (isAdminRecord(r)) continue;
      const isError = r.outcome !== undefined && ERROR_OUTCOMES.has(r.outcome);
      const isLimited = r.outcome === "rate_limited";
      for (const grain of GRAINS) {
        const bucket = Math.floor(ts / grain) * grain;
        roll(grain, bucket, KIND_ALL, "", isError, isLimited);
        roll(grain, bucket, KIND_TOOL, r.tool, isError, isLimited);
        if (r.tokenId !== undefined) roll(grain, bucket, KIND_TOKEN, r.tokenId, isError, isLimited);
        roll(grain, bucket, KIND_UPSTREAM, r.upstream ?? "", isError, isLimited);
        if (r.durationMs !== undefined) {
          const slot = slotOf(r.durationMs);
          const k = `${grain}|${bucket}|${r.tool}|${slot}`;
          const row = hists.get(k) ?? [grain, bucket, r.tool, slot, 0];
          row[4]++;
          hists.set(k, row);
        }
      }
      if (r.tokenId !== undefined && r.subject !== undefined) upsertSubject.run(r.tokenId, r.subject);
    }
    for (const row of rolls.values()) upsertRoll.run(...row);
    for (const row of hists.values()) upsertHist.run(...row);
    rows += batch.length;
    // Rollups are pruned relative to the newest record, not the wall clock (imported or replayed
    // trails keep their analytics).
    const now = Math.max(...batch.map((b) => (Number.isFinite(b.ts) ? b.ts : 0)));
    if (rows > maxRecords || Math.abs(now - lastPrune) > MINUTE) {
      lastPrune = now;
      if (rows > maxRecords) {
        pruneCalls.run(nextId - maxRecords);
        rows = (count.get() as { n: number }).n;
      }
      // Minute rollups serve the last hour and today's counts; the others a day and a week.
      pruneRoll.run(MINUTE, now - 2 * 86_400_000);
      pruneHist.run(MINUTE, now - 2 * HOUR);
      pruneRoll.run(HOUR, now - 2 * 86_400_000);
      pruneHist.run(HOUR, now - 2 * 86_400_000);
      pruneRoll.run(RANGES.week.bucketMs, now - 8 * 86_400_000);
      pruneHist.run(RANGES.week.bucketMs, now - 8 * 86_400_000);
    }
  });

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    writeBatch.immediate(batch);
  }

  function idBounds(filter: ActivityFilter): { lo: number; hi: number } {
    // What another process on the same file has written counts too.
    nextId = Math.max(nextId, ((maxId.get() as { m: number | null }).m ?? -1) + 1);
    let lo = 0;
    let hi = Math.min(nextId, filter.before ?? nextId) - 1;
    if (filter.since !== undefined) lo = (firstAtOrAfter.get(filter.since) as { id: number } | undefined)?.id ?? nextId;
    if (filter.until !== undefined) hi = Math.min(hi, (lastAtOrBefore.get(filter.until) as { id: number } | undefined)?.id ?? -1);
    return { lo, hi };
  }

  const statements = new Map<string, BetterSqlite3.Statement>();
  function activityStatement(columns: readonly string[]): BetterSqlite3.Statement {
    const key = columns.join(",");
    let s = statements.get(key);
    if (!s) {
      const where = ["id BETWEEN ? AND ?", ...columns.map((c) => `${c} = ?`)].join(" AND ");
      // Ids first (from the index alone), then only the rows that are returned.
      s = db.prepare(`SELECT id, record FROM calls WHERE id IN (SELECT id FROM calls WHERE ${where} ORDER BY id DESC LIMIT ?) ORDER BY id DESC`);
      statements.set(key, s);
    }
    return s;
  }

  const parse = (row: { id: number; record: string }): FeedRecord => ({ seq: row.id, record: JSON.parse(row.record) as AuditRecord });

  return {
    add(record) {
      const id = nextId++;
      queue.push({ id, ts: Date.parse(record.ts), record });
      if (queue.length >= 1000) flush();
      else if (!timer) (timer = setTimeout(flush, flushMs)).unref();
      return id;
    },
    query(filter) {
      flush();
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      const { lo, hi } = idBounds(filter);
      if (hi < lo) return [];
      const columns: string[] = [];
      const values: string[] = [];
      for (const [column, value] of [["token", filter.tokenId], ["tool", filter.tool], ["module", filter.module], ["outcome", filter.outcome], ["upstream", filter.upstream]] as const) {
        if (value !== undefined) (columns.push(column), values.push(value));
      }
      return (activityStatement(columns).all(lo, hi, ...values, limit) as { id: number; record: string }[]).map(parse);
    },
    get(id) {
      flush();
      const row = getById.get(id) as { id: number; record: string } | undefined;
      return row && parse(row);
    },
    countsSince(since) {
      flush();
      const out = new Map<string, number>();
      for (const r of countRows.all(MINUTE, KIND_TOKEN, Math.floor(since / MINUTE) * MINUTE) as { key: string; calls: number }[]) out.set(r.key, r.calls);
      return out;
    },
    analytics(range: AnalyticsRange, now: number) {
      flush();
      const b = buckets(range, now);
      // Each range reads the rollups kept at its own bucket size.
      const grain = b.bucketMs;
      const from = b.start;
      const to = now;
      const calls = new Array<number>(b.n).fill(0);
      const errors = new Array<number>(b.n).fill(0);
      const limited = new Array<number>(b.n).fill(0);
      for (const r of seriesRows.all(grain, from, to) as { bucket: number; calls: number; errors: number; limited: number }[]) {
        const i = Math.floor((r.bucket - b.start) / b.bucketMs);
        if (i < 0 || i >= b.n) continue;
        calls[i] = r.calls;
        errors[i] = r.errors;
        limited[i] = r.limited;
      }
      const sums = (kind: number) => new Map((keyRows.all(grain, kind, from, to) as { key: string; calls: number; errors: number; limited: number }[]).map((r) => [r.key, { calls: r.calls, errors: r.errors, rateLimited: r.limited }]));
      const tools = sums(KIND_TOOL);
      const tokens = sums(KIND_TOKEN);
      const hist = new Map<string, { slot: number; n: number }[]>();
      for (const h of histRows.all(grain, from, to) as { tool: string; slot: number; n: number }[]) {
        const list = hist.get(h.tool) ?? [];
        list.push({ slot: h.slot, n: h.n });
        hist.set(h.tool, list);
      }
      const percentile = (tool: string, p: number) => {
        const list = (hist.get(tool) ?? []).sort((x, y) => x.slot - y.slot);
        const total = list.reduce((n, s) => n + s.n, 0);
        let seen = 0;
        for (const s of list) if ((seen += s.n) >= (p / 100) * total) return upperOf(s.slot);
        return 0;
      };
      const subjects = new Map((subjectRows.all() as { token: string; subject: string }[]).map((s) => [s.token, s.subject]));
      return shape(
        range,
        b,
        { calls, errors, rateLimited: limited },
        [...tools.entries()].map(([tool, t]) => ({ tool, calls: t.calls, errors: t.errors, p50Ms: percentile(tool, 50), p99Ms: percentile(tool, 99) })),
        [...tokens.entries()].map(([tokenId, t]) => ({ tokenId, subject: subjects.get(tokenId) ?? tokenId, calls: t.calls, errors: t.errors })),
        [...sums(KIND_UPSTREAM).entries()].map(([upstream, u]) => ({ upstream, ...u })),
      );
    },
    size() {
      flush();
      return rows;
    },
    flush,
    close() {
      flush();
      db.close();
    },
  };
}
