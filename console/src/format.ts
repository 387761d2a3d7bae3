/** Times in the viewer's own zone, and other small display helpers. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** A full date and time in the viewer's zone, or a dash. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

/** Time of day in the viewer's zone (for the live timeline). */
export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : timeOnly.format(d);
}

/** The viewer's zone name, shown once next to the times. */
export const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** A value as indented JSON text (rendered as text, never as markup). */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? String(value);
}

/** "12 ms" / "1.2 s". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A percentage of a ratio. */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.01 ? 2 : 1)}%`;
}

/** Reads the hash route: `#/activity?token=x` → ["activity", {token: "x"}]. */
export function route(hash: string): [string, Record<string, string>] {
  const [path, q] = hash.replace(/^#\/?/, "").split("?");
  return [path || "tokens", Object.fromEntries(new URLSearchParams(q ?? ""))];
}

/** "1 tool", "3 tools". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
