/** Percentiles and summaries over samples in milliseconds. */

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Median of any array of numbers. */
export function median(values) {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Rounds to `digits` decimals (results stay readable in JSON). */
export function round(x, digits = 3) {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** p50/p90/p99/mean/min/max of latency samples in ms. */
export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return {
    n: s.length,
    p50_ms: round(percentile(s, 50)),
    p90_ms: round(percentile(s, 90)),
    p99_ms: round(percentile(s, 99)),
    mean_ms: round(mean),
    min_ms: round(s[0]),
    max_ms: round(s[s.length - 1]),
  };
}

/** Least-squares slope of y over x (for memory growth per minute in the soak). */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Fisher–Yates shuffle in place. */
export function shuffle(items) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
