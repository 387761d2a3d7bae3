/**
 * Usage analytics: calls per time bucket, error and rate-limited rates, p50/p99 duration per tool,
 * top tools, usage per token. `analyticsOf` computes them exactly from records (the memory index);
 * the SQLite index answers the same shape from its rollups (audit-index-sqlite.ts).
 */
import type { AuditRecord } from "../context.js";

/** Each range's span and bucket size. */
export const RANGES = {
  hour: { spanMs: 3_600_000, bucketMs: 60_000 },
  day: { spanMs: 86_400_000, bucketMs: 3_600_000 },
  week: { spanMs: 7 * 86_400_000, bucketMs: 6 * 3_600_000 },
} as const;

/** A time range the analytics answer for. */
export type AnalyticsRange = keyof typeof RANGES;

/** Outcomes counted as errors. */
export const ERROR_OUTCOMES: ReadonlySet<string> = new Set(["error", "upstream_error", "invalid", "denied", "unauthorized"]);

/** What the analytics API answers. */
export interface AnalyticsResult {
  readonly range: AnalyticsRange;
  readonly bucketMs: number;
  readonly start: string;
  readonly series: { readonly t: number[]; readonly calls: number[]; readonly errors: number[]; readonly rateLimited: number[] };
  readonly totals: { readonly calls: number; readonly errors: number; readonly rateLimited: number; readonly errorRate: number; readonly rateLimitedRate: number };
  readonly tools: { tool: string; calls: number; errors: number; p50Ms: number; p99Ms: number }[];
  readonly tokens: { tokenId: string; subject: string; calls: number; errors: number }[];
  /** Per upstream (a gateway of several); `upstream: ""` holds the calls no upstream owns (the gateway's own tools, refusals before a tool). */
  readonly upstreams: { upstream: string; calls: number; errors: number; rateLimited: number }[];
}

/** The first bucket's start and the number of buckets of `range` ending at `now`. */
export function buckets(range: AnalyticsRange, now: number): { start: number; n: number; bucketMs: number } {
  const { spanMs, bucketMs } = RANGES[range];
  const start = Math.floor((now - spanMs) / bucketMs) * bucketMs + bucketMs;
  return { start, n: Math.floor((now - start) / bucketMs) + 1, bucketMs };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Sums and shapes the answer (shared by both indexes). */
export function shape(
  range: AnalyticsRange,
  b: { start: number; n: number; bucketMs: number },
  series: { calls: number[]; errors: number[]; rateLimited: number[] },
  tools: AnalyticsResult["tools"],
  tokens: AnalyticsResult["tokens"],
  upstreams: AnalyticsResult["upstreams"] = [],
): AnalyticsResult {
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const calls = sum(series.calls);
  const errors = sum(series.errors);
  const limited = sum(series.rateLimited);
  return {
    range,
    bucketMs: b.bucketMs,
    start: new Date(b.start).toISOString(),
    series: { t: series.calls.map((_, i) => b.start + i * b.bucketMs), ...series },
    totals: { calls, errors, rateLimited: limited, errorRate: calls ? errors / calls : 0, rateLimitedRate: calls ? limited / calls : 0 },
    tools: tools.sort((x, y) => y.calls - x.calls || (x.tool < y.tool ? -1 : 1)),
    tokens: tokens.sort((x, y) => y.calls - x.calls || (x.tokenId < y.tokenId ? -1 : 1)),
    upstreams: upstreams.sort((x, y) => y.calls - x.calls || (x.upstream < y.upstream ? -1 : 1)),
  };
}

/** The analytics of `range` ending at `now`, from records visited newest first by `scan`. */
export function analyticsOf(range: AnalyticsRange, now: number, scan: (since: number, fn: (r: AuditRecord, ts: number) => void) => void): AnalyticsResult {
  const b = buckets(range, now);
  const calls = new Array<number>(b.n).fill(0);
  const errors = new Array<number>(b.n).fill(0);
  const limited = new Array<number>(b.n).fill(0);
  const byTool = new Map<string, { calls: number; errors: number; durations: number[] }>();
  const byToken = new Map<string, { subject: string; calls: number; errors: number }>();
  const byUpstream = new Map<string, { calls: number; errors: number; rateLimited: number }>();
  scan(b.start, (r, ts) => {
    if ((r.type as string | undefined) === "admin") return;
    const i = Math.floor((ts - b.start) / b.bucketMs);
    if (i < 0 || i >= b.n) return;
    const isError = r.outcome !== undefined && ERROR_OUTCOMES.has(r.outcome);
    calls[i]!++;
    if (isError) errors[i]!++;
    if (r.outcome === "rate_limited") limited[i]!++;
    let t = byTool.get(r.tool);
    if (!t) byTool.set(r.tool, (t = { calls: 0, errors: 0, durations: [] }));
    t.calls++;
    if (isError) t.errors++;
    if (r.durationMs !== undefined) t.durations.push(r.durationMs);
    let u = byUpstream.get(r.upstream ?? "");
    if (!u) byUpstream.set(r.upstream ?? "", (u = { calls: 0, errors: 0, rateLimited: 0 }));
    u.calls++;
    if (isError) u.errors++;
    if (r.outcome === "rate_limited") u.rateLimited++;
    if (r.tokenId !== undefined) {
      let k = byToken.get(r.tokenId);
      if (!k) byToken.set(r.tokenId, (k = { subject: r.subject ?? r.tokenId, calls: 0, errors: 0 }));
      k.calls++;
      if (isError) k.errors++;
    }
  });
  const tools = [...byTool.entries()].map(([tool, t]) => {
    const sorted = t.durations.sort((x, y) => x - y);
    return { tool, calls: t.calls, errors: t.errors, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
  });
  const tokens = [...byToken.entries()].map(([tokenId, k]) => ({ tokenId, subject: k.subject, calls: k.calls, errors: k.errors }));
  const upstreams = [...byUpstream.entries()].map(([upstream, u]) => ({ upstream, ...u }));
  return shape(range, b, { calls, errors, rateLimited: limited }, tools, tokens, upstreams);
}
