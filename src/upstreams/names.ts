/**
 * Names in a catalog of several upstreams: `<prefix>_<name>`, always `[a-z0-9_]{1,64}` (what MCP
 * clients accept everywhere). A name that would be longer keeps its start and ends with a short
 * hash of the whole, so it is the same on every start and two long names stay apart.
 */
import { createHash } from "node:crypto";

export const MAX_NAME = 64;
const HASH_CHARS = 8;

/** camelCase as snake_case, lower case, anything outside [a-z0-9_] as `_`, runs of `_` as one, none at either end. */
function clean(text: string): string {
  return text.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/_+/g, "_").replace(/^_|_$/g, "");
}

/** The catalog name of `name` under `prefix` (empty: no prefix), shortened with a hash past 64 characters. */
export function namespacedName(prefix: string, name: string): string {
  const wanted = [prefix, name].filter(Boolean).join("_");
  const cleaned = clean(wanted) || "tool";
  // Two names that clean to the same one (`a-b`, `a_b`) are a collision the catalog refuses.
  if (cleaned.length <= MAX_NAME) return cleaned;
  const hash = createHash("sha256").update(wanted).digest("hex").slice(0, HASH_CHARS);
  return `${cleaned.slice(0, MAX_NAME - HASH_CHARS - 1).replace(/_$/, "")}_${hash}`;
}
