/**
 * `x-mcp-keywords`: words an API team adds so search_tools finds a tool by what people call it
 * ("servers" for an API that says "droplets"). On an operation, on a tag (every operation of the
 * tag gets them), or both; a list of strings, or one comma-separated string.
 */
import { isObject } from "./load-spec.js";
import type { Obj, RawOperation } from "./transform/context.js";
import { addWarning, type SpecWarning } from "./warnings.js";

function parse(value: unknown, pointer: string, warnings: SpecWarning[]): string[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? value.split(",") : Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : undefined;
  if (list === undefined) {
    addWarning(warnings, { pointer, problem: "x-mcp-keywords must be a list of strings or a comma-separated string; ignored" });
    return [];
  }
  return list.map((k) => k.trim()).filter((k) => k.length > 0);
}

/** The operation's keywords, then its tags' (each once, in that order). */
export function keywordsOf(raw: RawOperation, tagObjects: ReadonlyMap<string, Obj>, rootTags: unknown, warnings: SpecWarning[]): string[] {
  const found = parse(raw.op["x-mcp-keywords"], `${raw.at}/x-mcp-keywords`, warnings);
  const tags = Array.isArray(raw.op.tags) ? raw.op.tags.filter((t): t is string => typeof t === "string") : [];
  for (const t of tags) {
    const tag = tagObjects.get(t);
    if (isObject(tag)) found.push(...parse(tag["x-mcp-keywords"], `#/tags/${Array.isArray(rootTags) ? rootTags.indexOf(tag) : 0}/x-mcp-keywords`, warnings));
  }
  return [...new Set(found)];
}
