/** Tool names: snake_case that keeps acronyms whole, checked by example and over every real spec's operationIds. */
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSpec } from "../../codegen/load-spec.js";
import { fitName, snakeCase, words } from "../../codegen/naming.js";
import { buildTools } from "../../codegen/operations.js";
import { DEFAULT_RULES } from "../../codegen/rules.js";
import { FIXTURES, nameProblems } from "./helpers.js";

describe("snakeCase", () => {
  it.each([
    ["IPs", "ips"],
    ["floatingIPs_list", "floating_ips_list"],
    ["reservedIPs_list", "reserved_ips_list"],
    ["HTTPSProxy", "https_proxy"],
    ["getURLs", "get_urls"],
    ["OAuth2Token", "oauth2_token"],
    ["listAPIKeys", "list_api_keys"],
    ["getOEmbed", "get_oembed"],
    ["IPv4Address", "ipv4_address"],
    ["getIDsForUsers", "get_ids_for_users"],
    ["APIVersions", "api_versions"],
    ["XMLHttpRequest", "xml_http_request"],
    ["HTTP2Settings", "http2_settings"],
    ["listIPAddresses", "list_ip_addresses"],
    // Unchanged from before: plain camelCase, kebab paths, digits, the article "A".
    ["getHTTPRepos/list-for_org", "get_http_repos_list_for_org"],
    ["repos/list-for-org", "repos_list_for_org"],
    ["v1Users", "v1_users"],
    ["S3Bucket", "s3_bucket"],
    ["getAUser", "get_a_user"],
    ["classroom/get-a-classroom", "classroom_get_a_classroom"],
    ["GetUserByID", "get_user_by_id"],
  ])("%s → %s", (input, expected) => {
    expect(snakeCase(input)).toBe(expected);
  });

  it("yields nothing for text without letters or digits", () => {
    expect(words("--/_")).toEqual([]);
    expect(snakeCase("")).toBe("");
  });
});

/** Specs whose operationIds the property below runs over: every bundled real spec and the workspace spec. */
const SPECS = [
  ...readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".gz"))
    .map((f) => path.join(FIXTURES, f)),
  path.resolve("openapi/workspace.yaml"),
];

/**
 * Single letters that stand alone in an identifier as a word of their own: `get-a-thing`,
 * `typeX`, `getAUser` (the article). A letter cut off an acronym (`I` of `IPs`, `O` of `OAuth`)
 * is not one.
 */
function standaloneLetters(id: string): string[] {
  const out: string[] = [];
  for (const m of id.matchAll(/(?<![A-Za-z0-9])([a-z])(?![a-z0-9])|(?<![A-Z])([A-Z])(?![A-Za-z])|(?<![A-Z])(A)(?=[A-Z][a-z])/g)) out.push((m[1] ?? m[2] ?? m[3])!.toLowerCase());
  return out;
}

describe("names of every operation in the bundled specs", () => {
  it("keep acronyms whole, stay [a-z0-9_]{1,64} and are unique", { timeout: 60_000 }, async () => {
    const ids: string[] = [];
    const problems: string[] = [];
    for (const file of SPECS) {
      const spec = await loadSpec(file);
      const { tools } = buildTools(spec, DEFAULT_RULES);
      problems.push(...nameProblems(tools).map((p) => `${path.basename(file)}: ${p}`));
      for (const t of tools) if (t.operationId !== undefined) ids.push(t.operationId);
    }
    expect(problems).toEqual([]);
    expect(ids.length).toBeGreaterThan(2500);

    const split: string[] = [];
    for (const id of ids) {
      // Before shortening to 64 characters (which may cut a word): the converter's own output.
      const name = snakeCase(id);
      expect(fitName(name)).toMatch(/^[a-z0-9_]{1,64}$/);
      const tokens = name.split("_");
      // A single-letter piece must come from a single-letter word of the operationId.
      const singles = tokens.filter((t) => /^[a-z]$/.test(t));
      const allowed = standaloneLetters(id);
      for (const s of singles) {
        const i = allowed.indexOf(s);
        if (i === -1) split.push(`${id} → ${name}: "${s}"`);
        else allowed.splice(i, 1);
      }
      // An acronym (`API` before `Keys`, `HTTP2`) or a plural one (`IPs`) is one piece, lowercased.
      for (const m of id.matchAll(/(?<![A-Z])([A-Z]{2,})(?![a-z])|(?<![A-Z])([A-Z]{2,}s)(?![a-z])/g)) {
        const acronym = (m[1] ?? m[2])!.toLowerCase();
        if (!tokens.some((t) => t === acronym || (t.startsWith(acronym) && /^[0-9]/.test(t.slice(acronym.length))))) split.push(`${id} → ${name}: "${acronym}" not whole`);
      }
    }
    expect(split).toEqual([]);
  });

  it("the check catches what the old converter did", () => {
    // The converter before acronyms were kept whole: IPs → i_ps, OEmbed → o_embed.
    const old = (id: string): string[] =>
      id.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2").toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
    for (const id of ["floatingIPs_list", "getOEmbed", "OAuth2Token"]) {
      const singles = old(id).filter((t) => /^[a-z]$/.test(t));
      expect(singles.length, id).toBeGreaterThan(0);
      expect(singles.every((s) => standaloneLetters(id).includes(s)), id).toBe(false);
    }
    expect(standaloneLetters("classroom/get-a-classroom")).toEqual(["a"]);
    expect(standaloneLetters("getAUser")).toEqual(["a"]);
  });
});
