/**
 * The generator's config file (`openapi/countersign.yaml`): optional spec/out defaults and edits
 * to the default rules. Validated once; errors name the file and the key.
 */
import { readFile } from "node:fs/promises";
import YAML from "yaml";
import { APPROVALS, type Approval } from "./descriptor.js";
import { DEFAULT_RULES, type Rule, type RuleClause } from "./rules.js";

export interface GeneratorConfig {
  readonly spec?: string;
  readonly out?: string;
  readonly allowRemoteRefs?: boolean;
  /** The effective rules: defaults, minus disabled ones, overridden and extended by the file. */
  readonly rules: readonly Rule[];
}

/** A problem in the config file. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const CLAUSE_LISTS = ["words", "tagWords", "pathWords", "operationIdWords", "methods", "mediaTypes"] as const;

/** Reads and validates a config file; `undefined` path or a missing optional file yields the defaults. */
export async function loadConfig(file: string | undefined, shown: string, required: boolean): Promise<GeneratorConfig> {
  if (!file) return Object.freeze({ rules: DEFAULT_RULES });
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return Object.freeze({ rules: DEFAULT_RULES });
    throw new ConfigError(`${shown}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(`${shown}${e.linePos ? ` line ${e.linePos[0].line}` : ""}: invalid YAML (${e.message.split("\n")[0]})`);
  }
  return parseConfig(doc.toJS() ?? {}, shown);
}

/** Validates a parsed config object and merges its rules into the defaults. */
export function parseConfig(raw: unknown, shown: string): GeneratorConfig {
  const fail = (key: string, problem: string): never => {
    throw new ConfigError(`${shown}: ${key} ${problem}`);
  };
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail("(top level)", "must be a mapping");
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!["spec", "out", "allowRemoteRefs", "rules"].includes(k)) fail(k, "is not a known key (spec, out, allowRemoteRefs, rules)");
  if (o.spec !== undefined && typeof o.spec !== "string") fail("spec", "must be a string");
  if (o.out !== undefined && typeof o.out !== "string") fail("out", "must be a string");
  if (o.allowRemoteRefs !== undefined && typeof o.allowRemoteRefs !== "boolean") fail("allowRemoteRefs", "must be true or false");

  const rules: Rule[] = [...DEFAULT_RULES];
  if (o.rules !== undefined) {
    if (!Array.isArray(o.rules)) fail("rules", "must be a list");
    (o.rules as unknown[]).forEach((r, i) => {
      const at = `rules[${i}]`;
      if (r === null || typeof r !== "object" || Array.isArray(r)) return fail(at, "must be a mapping");
      const ro = r as Record<string, unknown>;
      for (const k of Object.keys(ro)) if (!["id", "disabled", "action", "reason", "anyOf", "match", "approval"].includes(k)) fail(`${at}.${k}`, "is not a known key (id, disabled, action, reason, anyOf, match, approval)");
      if (typeof ro.id !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(ro.id)) return fail(`${at}.id`, "must be a lowercase id like billing or my-rule");
      const existing = rules.findIndex((x) => x.id === ro.id);
      if (ro.disabled === true) {
        if (existing === -1) fail(`${at}.id`, `names no rule to disable: ${JSON.stringify(ro.id)}`);
        rules.splice(existing, 1);
        return;
      }
      if (ro.disabled !== undefined && ro.disabled !== false) fail(`${at}.disabled`, "must be true or false");
      if (ro.action !== "exclude" && ro.action !== "sensitive" && ro.action !== "approval") fail(`${at}.action`, 'must be "exclude", "sensitive" or "approval"');
      if (ro.action === "approval" && !APPROVALS.includes(ro.approval as Approval)) fail(`${at}.approval`, `must be one of ${APPROVALS.join(", ")} (who approves the matching writes)`);
      if (ro.action !== "approval" && ro.approval !== undefined) fail(`${at}.approval`, 'is only read on a rule with action: approval');
      if (typeof ro.reason !== "string" || ro.reason.trim() === "") fail(`${at}.reason`, "must be a non-empty string");
      if ((ro.anyOf === undefined) === (ro.match === undefined)) fail(at, "needs exactly one of match (one clause) or anyOf (a list of clauses)");
      const rawClauses = ro.match !== undefined ? [ro.match] : ro.anyOf;
      if (!Array.isArray(rawClauses) || rawClauses.length === 0) return fail(`${at}.anyOf`, "must be a non-empty list");
      const clauses = rawClauses.map((c, j) => parseClause(c, ro.match !== undefined ? `${at}.match` : `${at}.anyOf[${j}]`, fail));
      const rule: Rule = Object.freeze({ id: ro.id, action: ro.action as Rule["action"], reason: ro.reason as string, anyOf: Object.freeze(clauses), ...(ro.action === "approval" ? { approval: ro.approval as Approval } : {}) });
      if (existing === -1) rules.push(rule);
      else rules[existing] = rule;
    });
  }
  return Object.freeze({
    ...(o.spec !== undefined ? { spec: o.spec as string } : {}),
    ...(o.out !== undefined ? { out: o.out as string } : {}),
    ...(o.allowRemoteRefs !== undefined ? { allowRemoteRefs: o.allowRemoteRefs as boolean } : {}),
    rules: Object.freeze(rules),
  });
}

function parseClause(c: unknown, at: string, fail: (key: string, problem: string) => never): RuleClause {
  if (c === null || typeof c !== "object" || Array.isArray(c)) return fail(at, "must be a mapping");
  const co = c as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(co)) {
    if ((CLAUSE_LISTS as readonly string[]).includes(k)) {
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string" && x.trim() !== "")) fail(`${at}.${k}`, "must be a non-empty list of strings");
      out[k] = Object.freeze([...(v as string[])]);
    } else if (k === "oauthEndpoint") {
      if (typeof v !== "boolean") fail(`${at}.${k}`, "must be true or false");
      out[k] = v;
    } else fail(`${at}.${k}`, `is not a known match field (${[...CLAUSE_LISTS, "oauthEndpoint"].join(", ")})`);
  }
  if (Object.keys(out).length === 0) fail(at, "must set at least one match field");
  return Object.freeze(out) as RuleClause;
}
