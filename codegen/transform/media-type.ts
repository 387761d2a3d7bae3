/** Media Type Object (§4.8.14) and Encoding Object (§4.8.15): which representation a tool uses and how its fields travel. */
import type { PropertyEncoding } from "../descriptor.js";
import { isObject } from "../load-spec.js";
import { cmp, type Obj } from "./context.js";

/** Preference of a media type for a tool: lower is better. */
export function mediaRank(mt: string): number {
  const m = mt.toLowerCase().split(";")[0]!.trim();
  if (m === "application/json" || /^application\/[^/]*\+json$/.test(m)) return 0;
  if (m === "application/x-www-form-urlencoded") return 1;
  if (m === "multipart/form-data") return 2;
  if (m.endsWith("/json") || m.includes("json")) return 3;
  if (m.startsWith("text/")) return 4;
  if (m === "*/*") return 6;
  return 5;
}

/** Media types ordered best-first for a tool: JSON, form, multipart, other JSON, text, the rest. */
export function rankMedia(types: string[]): string[] {
  return types
    .map((t, i) => ({ t, i }))
    .sort((a, b) => mediaRank(a.t) - mediaRank(b.t) || a.i - b.i)
    .map((x) => x.t);
}

/** Per-property encodings of a form or multipart body; other media types have none. */
export function buildEncoding(media: Obj, rank: number): Record<string, PropertyEncoding> | undefined {
  if (!isObject(media.encoding) || (rank !== 1 && rank !== 2)) return undefined;
  const out: Record<string, PropertyEncoding> = {};
  for (const name of Object.keys(media.encoding).sort(cmp)) {
    const e = media.encoding[name];
    if (!isObject(e)) continue;
    const style = typeof e.style === "string" ? e.style : "form";
    out[name] = {
      ...(typeof e.contentType === "string" ? { contentType: e.contentType } : {}),
      style,
      explode: typeof e.explode === "boolean" ? e.explode : style === "form",
      allowReserved: e.allowReserved === true,
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
