/** Parses `--expires` values: `90m`, `12h`, `30d`, `2w`, combinations like `1d12h`, or an ISO date. */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A parsed expiry, or why the text is not one. */
export type ExpiryResult = { ok: true; expiresAt: Date } | { ok: false; reason: string };

/** Resolves `text` to an absolute expiry after `now`. */
export function parseExpiry(text: string, now: Date): ExpiryResult {
  const trimmed = text.trim();
  if (/^\d+[smhdw](\d+[smhdw])*$/.test(trimmed)) {
    let ms = 0;
    for (const [, n, unit] of trimmed.matchAll(/(\d+)([smhdw])/g)) ms += Number(n) * UNIT_MS[unit];
    if (ms <= 0) return { ok: false, reason: `--expires ${text}: the duration must be longer than zero` };
    return { ok: true, expiresAt: new Date(now.getTime() + ms) };
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return { ok: false, reason: `--expires ${text}: not a valid date` };
    if (at <= now.getTime()) return { ok: false, reason: `--expires ${text}: that date is in the past` };
    return { ok: true, expiresAt: new Date(at) };
  }
  return { ok: false, reason: `--expires ${text}: expected a duration like 90m, 12h, 30d, 2w (or an ISO date)` };
}
