/** Prose helpers: concise tool descriptions from spec summaries and descriptions. */

const MAX_DESCRIPTION = 200;

/** Collapses whitespace and turns markdown links into their text. */
export function plain(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** First sentence (or paragraph) of some prose, at most ~200 characters. */
export function firstSentence(text: string): string {
  const para = text.trim().split(/\n\s*\n/)[0] ?? "";
  const flat = plain(para);
  // A sentence ends at . ! ? before a capitalised word or the end ("e.g. this" does not end one).
  const m = /^(.+?[.!?])(?=\s+[A-Z0-9(`"'*_[]|$)/.exec(flat);
  let s = m ? m[1]! : flat;
  if (s.length > MAX_DESCRIPTION) {
    const cut = s.slice(0, MAX_DESCRIPTION - 1);
    const space = cut.lastIndexOf(" ");
    s = `${(space > 100 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, "")}…`;
  }
  return s;
}

/** A short title: the summary without a trailing period, or the tool name in words. */
export function titleFrom(summary: string | undefined, name: string): string {
  if (summary && summary.trim()) {
    const t = plain(summary).replace(/\.$/, "");
    return t.length > 100 ? firstSentence(t) : t;
  }
  const w = name.replace(/_+/g, " ").trim();
  return w.charAt(0).toUpperCase() + w.slice(1);
}
