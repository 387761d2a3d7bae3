/** Tool, module and argument names: readable, `[a-z0-9_]`, stable across regenerations. */
import { createHash } from "node:crypto";

export const TOOL_NAME = /^[a-z0-9_]{1,64}$/;
/** Property names MCP clients accept in an input schema (Claude: `^[a-zA-Z0-9_.-]{1,64}$`). */
export const ARGUMENT_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

/**
 * Splits an identifier into lowercase words: `getHTTPRepos/list-for_org` → get, http, repos,
 * list, for, org. Acronyms stay whole: a plural one (`IPs`, `URLs`) is one word, and so is a
 * two-capital word (`OAuth2`, `IPv4`, `OEmbed`), except that a leading `A` before a capitalised
 * word is the article (`getAUser` → get, a, user).
 */
export function words(text: string): string[] {
  return text
    .replace(/(?<![A-Z])([A-Z]{2,}s)(?![a-z])/g, (_m, plural: string) => ` ${plural.toLowerCase()} `)
    .replace(/(?<![A-Z])([B-Z])([A-Z])(?=[a-z])/g, (_m, first: string, second: string) => `${first}${second.toLowerCase()}`)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** `getRepos/list-for_org` → `get_repos_list_for_org`. */
export function snakeCase(text: string): string {
  return words(text).join("_");
}

/** Shortens to 64 characters, keeping it unique with a hash of the full name. */
export function fitName(name: string, max = 64): string {
  if (name.length <= max) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `${name.slice(0, max - 9).replace(/_+$/, "")}_${hash}`;
}

/** Name for an operation without operationId: method + path words (`get_projects_project_id_tasks`). */
export function nameFromRoute(method: string, path: string): string {
  return fitName(snakeCase(`${method} ${path}`) || method.toLowerCase());
}

/** Module name: `[a-z0-9_]`, from a tag or path segment. */
export function moduleName(text: string): string {
  return fitName(snakeCase(text), 48) || "default";
}

/** Makes an argument name acceptable to clients, keeping it close to the wire name. */
export function argumentName(wire: string): string {
  if (ARGUMENT_NAME.test(wire)) return wire;
  const cleaned = wire.replace(/[^a-zA-Z0-9_.-]+/g, "_").replace(/^_+|_+$/g, "") || "arg";
  return fitName(cleaned);
}

/** Picks the first of `name`, `name_2`, `name_3`, ... that `taken` lacks, and records it. */
export function claim(name: string, taken: Set<string>): string {
  if (!taken.has(name)) {
    taken.add(name);
    return name;
  }
  for (let i = 2; ; i++) {
    const suffix = `_${i}`;
    const candidate = `${name.slice(0, 64 - suffix.length)}${suffix}`;
    if (!taken.has(candidate)) {
      taken.add(candidate);
      return candidate;
    }
  }
}
