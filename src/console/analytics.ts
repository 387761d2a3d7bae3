/**
 * Usage analytics over the console's audit window: calls per time bucket, error and
 * rate-limited rates, p50/p99 duration per tool, top tools, usage per token.
 */
import type { AuditFeed } from "./audit-feed.js";

const RANGES = {
  hour: { spanMs: 3_600_000, bucketMs: 60_000 },
  day: { spanMs: 86_400_000, bucketMs: 30 * 60_000 },
  week: { spanMs: 7 * 86_400_000, bucketMs: 6 * 3_600_000 },
} as const;

/** A time range the analytics answer for. */
export type AnalyticsRange = keyof typeof RANGES;

const ERROR_OUTCOMES = new Set(["error", "upstream_error", "invalid", "denied", "unauthorized"]);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The analytics of `range` ending at `now`. */
export function analytics(feed: AuditFeed, range: AnalyticsRange, now: number) {
  const { spanMs, bucketMs } = RANGES[range];
  const start = Math.floor((now - spanMs) / bucketMs) * bucketMs + bucketMs;
  const n = Math.ceil((now - start) / bucketMs) + 1;
  const calls = new Array<number>(n).fill(0);
  const errors = new Array<number>(n).fill(0);
  const limited = new Array<number>(n).fill(0);
  const byTool = new Map<string, { calls: number; errors: number; durations: number[] }>();
  const byToken = new Map<string, { subject: string; calls: number; errors: number }>();
  let total = 0;
  let errorCount = 0;
  let limitedCount = 0;
  feed.scan(start, (r, ts) => {
    if ((r.type as string | undefined) === "admin") return;
    const i = Math.floor((ts - start) / bucketMs);
    if (i < 0 || i >= n) return;
    const isError = r.outcome !== undefined && ERROR_OUTCOMES.has(r.outcome);
    const isLimited = r.outcome === "rate_limited";
    total++;
    calls[i]!++;
    if (isError) (errors[i]!++, errorCount++);
    if (isLimited) (limited[i]!++, limitedCount++);
    let t = byTool.get(r.tool);
    if (!t) byTool.set(r.tool, (t = { calls: 0, errors: 0, durations: [] }));
    t.calls++;
    if (isError) t.errors++;
    if (r.durationMs !== undefined) t.durations.push(r.durationMs);
    if (r.tokenId !== undefined) {
      let k = byToken.get(r.tokenId);
      if (!k) byToken.set(r.tokenId, (k = { subject: r.subject ?? r.tokenId, calls: 0, errors: 0 }));
      k.calls++;
      if (isError) k.errors++;
    }
  });
  const tools = [...byTool.entries()]
    .map(([tool, t]) => {
      const sorted = t.durations.sort((a, b) => a - b);
      return { tool, calls: t.calls, errors: t.errors, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
    })
    .sort((a, b) => b.calls - a.calls || (a.tool < b.tool ? -1 : 1));
  return {
    range,
    bucketMs,
    start: new Date(start).toISOString(),
    series: { t: calls.map((_, i) => start + i * bucketMs), calls, errors, rateLimited: limited },
    totals: { calls: total, errors: errorCount, rateLimited: limitedCount, errorRate: total ? errorCount / total : 0, rateLimitedRate: total ? limitedCount / total : 0 },
    tools,
    tokens: [...byToken.entries()].map(([tokenId, k]) => ({ tokenId, subject: k.subject, calls: k.calls, errors: k.errors })).sort((a, b) => b.calls - a.calls),
  };
}
