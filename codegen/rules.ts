/**
 * Exclusion and sensitivity rules, kept as data. A rule matches an operation when any of its
 * `anyOf` clauses holds; a clause holds when every field it sets holds (words match tags, the
 * path's literal segments or the operationId, word by word; phrases match consecutive words).
 */
import type { Approval } from "./descriptor.js";
import { words } from "./naming.js";

/** One AND-clause of a rule. Every listed field must match; values inside a field are alternatives. */
export interface RuleClause {
  /** Words or phrases ("api key") found in any tag, the path's literal segments, or the operationId. */
  readonly words?: readonly string[];
  /** Words or phrases found in a tag name. */
  readonly tagWords?: readonly string[];
  /** Words or phrases found in the path (placeholders like `{id}` are ignored). */
  readonly pathWords?: readonly string[];
  /** Words or phrases found in the operationId. */
  readonly operationIdWords?: readonly string[];
  /** HTTP methods, upper case. */
  readonly methods?: readonly string[];
  /** Media types of the request body or a success response (exact, or a `type/*` prefix). */
  readonly mediaTypes?: readonly string[];
  /** The path is an OAuth 2 flow endpoint (authorizationUrl/tokenUrl/refreshUrl of a security scheme). */
  readonly oauthEndpoint?: boolean;
}

/** A named rule; the id lets the config file disable or override it. */
export interface Rule {
  readonly id: string;
  readonly action: "exclude" | "sensitive" | "approval";
  readonly reason: string;
  /** For an `approval` rule: who approves the matching writes' pending actions. */
  readonly approval?: Approval;
  readonly anyOf: readonly RuleClause[];
}

/** What a rule looks at in one operation. */
export interface RuleSubject {
  readonly method: string;
  readonly path: string;
  readonly operationId?: string;
  readonly tags: readonly string[];
  readonly mediaTypes: readonly string[];
  readonly oauthEndpoint: boolean;
}

const BINARY_TYPES = ["application/octet-stream", "application/zip", "application/x-zip-compressed", "application/gzip", "application/x-gzip", "application/x-tar", "application/x-7z-compressed", "application/vnd.rar"];

/** The default rules (DESIGN.md "Default exclusions"), evaluated in this order. */
export const DEFAULT_RULES: readonly Rule[] = Object.freeze([
  {
    id: "billing",
    action: "exclude",
    reason: "billing and payments are never exposed to agents",
    anyOf: [{ words: ["billing", "payment", "payments", "invoice", "invoices", "checkout", "payout", "payouts", "refund", "refunds"] }],
  },
  {
    id: "token-management",
    action: "exclude",
    reason: "API/MCP token management: a token can never mint or manage tokens",
    anyOf: [{ words: ["token", "tokens", "api key", "api keys", "apikey", "apikeys", "access key", "access keys", "credential", "credentials"] }],
  },
  {
    id: "oauth-flows",
    action: "exclude",
    reason: "OAuth/authorization flows need a human in a browser",
    anyOf: [{ words: ["oauth", "oauth2", "authorize", "authorizations", "openid"] }, { oauthEndpoint: true }],
  },
  {
    id: "binary-import-export",
    action: "exclude",
    reason: "bulk binary import/export is not a tool-sized operation",
    anyOf: [{ words: ["import", "imports", "export", "exports", "backup", "backups", "dump", "archive"], mediaTypes: BINARY_TYPES }],
  },
  {
    id: "bulk",
    action: "sensitive",
    reason: "bulk operation",
    anyOf: [{ words: ["bulk", "batch", "batches"] }],
  },
  {
    id: "roles-permissions",
    action: "sensitive",
    reason: "changes or reveals roles and permissions",
    anyOf: [{ words: ["role", "roles", "permission", "permissions", "acl", "acls", "rbac"] }],
  },
  {
    id: "webhooks",
    action: "sensitive",
    reason: "webhooks send data to third parties",
    anyOf: [{ words: ["webhook", "webhooks", "hook", "hooks"] }],
  },
] satisfies Rule[]);

function hasPhrase(haystack: readonly string[], phrase: readonly string[]): boolean {
  if (phrase.length === 0) return false;
  outer: for (let i = 0; i + phrase.length <= haystack.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (haystack[i + j] !== phrase[j]) continue outer;
    return true;
  }
  return false;
}

function anyPhrase(lists: readonly (readonly string[])[], phrases: readonly string[]): boolean {
  return phrases.some((p) => {
    const w = words(p);
    return lists.some((l) => hasPhrase(l, w));
  });
}

function mediaMatches(actual: string, wanted: string): boolean {
  const a = actual.toLowerCase().split(";")[0]!.trim();
  const w = wanted.toLowerCase();
  return w.endsWith("/*") ? a.startsWith(w.slice(0, -1)) : a === w;
}

/** Pre-split words of one operation, shared by all rules. */
export interface RuleWords {
  readonly tags: readonly (readonly string[])[];
  readonly path: readonly string[];
  readonly operationId: readonly string[];
}

/** Splits the subject's texts into words once. */
export function subjectWords(s: RuleSubject): RuleWords {
  return {
    tags: s.tags.map(words),
    path: words(s.path.replace(/\{[^}]*\}/g, "/")),
    operationId: s.operationId ? words(s.operationId) : [],
  };
}

/** True when the clause holds for the operation. */
export function clauseMatches(c: RuleClause, s: RuleSubject, w: RuleWords): boolean {
  if (c.words && !anyPhrase([...w.tags, w.path, w.operationId], c.words)) return false;
  if (c.tagWords && !anyPhrase(w.tags, c.tagWords)) return false;
  if (c.pathWords && !anyPhrase([w.path], c.pathWords)) return false;
  if (c.operationIdWords && !anyPhrase([w.operationId], c.operationIdWords)) return false;
  if (c.methods && !c.methods.some((m) => m.toUpperCase() === s.method)) return false;
  if (c.mediaTypes && !s.mediaTypes.some((a) => c.mediaTypes!.some((m) => mediaMatches(a, m)))) return false;
  if (c.oauthEndpoint !== undefined && c.oauthEndpoint !== s.oauthEndpoint) return false;
  return Object.keys(c).length > 0;
}

/** The first rule of each action that matches. */
export function evaluateRules(rules: readonly Rule[], s: RuleSubject): { exclude?: Rule; sensitive?: Rule; approval?: Rule } {
  const w = subjectWords(s);
  const first: { exclude?: Rule; sensitive?: Rule; approval?: Rule } = {};
  for (const r of rules) {
    if (first[r.action]) continue;
    if (r.anyOf.some((c) => clauseMatches(c, s, w))) first[r.action] = r;
  }
  return first;
}
