/**
 * One readable line per audit event, for get_activity and `countersign audit tail`:
 * "Created task 'Ship Q2 launch' in project 42".
 */
import type { ActivityType } from "./outcome.js";
import { isObject } from "../shape.js";

/** What a summary is built from (the descriptor's title and binding, the redacted arguments). */
export interface SummaryInput {
  tool: string;
  title?: string;
  write?: boolean;
  /** Names of the arguments that fill path parameters, in path order. */
  pathArgs?: readonly string[];
  /** Arguments after redaction (a summary never sees a secret). */
  args?: unknown;
  type: ActivityType;
  outcome: string;
  error?: string;
  upstreamStatus?: number;
}

const MAX_SUMMARY = 200;
const MAX_QUOTED = 60;
/** Argument names that say what a thing is called, best first. */
const LABEL_KEYS = ["title", "name", "summary", "subject", "label", "display_name", "displayName", "email", "username", "filename", "query", "q"];
const IRREGULAR: Record<string, string> = {
  get: "got", set: "set", put: "put", send: "sent", run: "ran", make: "made", reset: "reset", cancel: "cancelled",
  rerun: "reran", write: "wrote", begin: "began", stop: "stopped", submit: "submitted", unset: "unset",
};
const VERBS = new Set([
  "create", "update", "delete", "remove", "add", "patch", "post", "replace", "upload", "archive", "unarchive", "move",
  "assign", "unassign", "start", "merge", "close", "reopen", "approve", "reject", "enable", "disable", "lock", "unlock",
  "publish", "unpublish", "invite", "revoke", "rename", "transfer", "restore", "mark", "star", "unstar", "follow",
  "unfollow", "pin", "unpin", "attach", "detach", "trigger", "dispatch", "rotate", "sync", "import", "export", "edit",
  "modify", "change", "register", "deregister", "subscribe", "unsubscribe", "complete", "resolve", "block", "unblock",
  "duplicate", "copy", "clone", "apply", "link", "unlink", "upsert", "insert", "install", "uninstall", "turn",
  "schedule", "reschedule", "convert", "log", "record", "reply", "react", "vote", "share", "watch", "unwatch", "snooze",
  "accept", "decline", "request", "reorder", "sort", "tag", "untag", "label", "notify", "test", "verify", "validate",
  "generate", "save", "mute", "unmute", "retry", "revert", "reassign", "split", "join", "leave", "grant", "suspend",
  "activate", "deactivate", "confirm", "bulk", "empty", "purge", "reset", "comment", "mention", "upgrade", "downgrade",
  "rename", "describe", "hide", "unhide", "open", "create", "invite", "kick", "ban", "unban", "lock", "post", "move",
  ...Object.keys(IRREGULAR),
]);

function pastTense(word: string): string | undefined {
  const w = word.toLowerCase();
  if (!VERBS.has(w) || w === "bulk") return undefined;
  if (IRREGULAR[w]) return IRREGULAR[w];
  if (w.endsWith("e")) return `${w}d`;
  if (/[^aeiou]y$/.test(w)) return `${w.slice(0, -1)}ied`;
  if (/^(?:pin|unpin|star|unstar|ban|unban|log|tag|untag|snooze)$/.test(w)) return w.endsWith("e") ? `${w}d` : `${w}${w.at(-1)}ed`;
  return `${w}ed`;
}

/** "Create a task" → "Create task": the article reads oddly once an id or a name follows. */
function dropArticle(title: string): string {
  return title.replace(/^(\S+(?: (?:or|and) \S+)?) (?:a|an) /i, "$1 ");
}

/** Past tense of a title's leading verb(s): "Rename or describe X" → "Renamed or described X". */
function pastPhrase(verb: string, rest: string): string | undefined {
  const past = pastTense(verb);
  if (!past) return undefined;
  const m = /^ (or|and) (\S+)(.*)$/s.exec(rest);
  const second = m ? pastTense(m[2]!) : undefined;
  return m && second ? `${capitalize(past)} ${m[1]} ${second}${m[3]}` : `${capitalize(past)}${rest}`;
}

function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

function lowerFirst(s: string): string {
  // Keep acronyms and proper names ("GitHub", "URL") as they are.
  return s && /^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s;
}

const MESSY = /[\u0000-\u001f\u007f]|\s\s|^\s|\s$/;

function oneLine(s: string, max: number): string {
  if (s.length <= max && !MESSY.test(s)) return s;
  const flat = s.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function scalar(v: unknown): string | undefined {
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return undefined;
}

const nounCache = new Map<string, string | null>();
const wordCache = new Map<string, RegExp>();

/** "project_id" → "project", "repoId" → "repo", "id" → "". */
function idNoun(name: string): string | undefined {
  let noun = nounCache.get(name);
  if (noun === undefined) {
    const m = /^(.*?)(?:[_-]?id|Id|ID)$/.exec(name);
    noun = m ? m[1]!.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ").toLowerCase().trim() : null;
    if (nounCache.size < 10_000) nounCache.set(name, noun);
  }
  return noun ?? undefined;
}

/** A case-insensitive whole-word matcher for `noun`, compiled once. */
function wordPattern(noun: string): RegExp {
  let re = wordCache.get(noun);
  if (!re) {
    re = new RegExp(`\\b${noun.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "i");
    if (wordCache.size < 10_000) wordCache.set(noun, re);
  }
  return re;
}

const titleCache = new Map<string, string>();

/** A tool's title as a summary starts from, computed once per title. */
function baseTitle(input: SummaryInput): string {
  const raw = input.title ? `t:${input.title}` : `n:${input.tool}`;
  let title = titleCache.get(raw);
  if (title === undefined) {
    title = dropArticle(oneLine(input.title || input.tool.replace(/_/g, " "), 100));
    if (titleCache.size < 10_000) titleCache.set(raw, title);
  }
  return title;
}

/** The base phrase: "Create task 'Ship Q2 launch' in project 42". */
function phrase(input: SummaryInput): { verb: string; rest: string } {
  const title = baseTitle(input);
  const args = isObject(input.args) ? input.args : {};
  const body = isObject(args.body) ? args.body : {};
  let label: string | undefined;
  for (const key of LABEL_KEYS) {
    label = scalar(args[key]) ?? scalar(body[key]);
    if (label !== undefined) break;
  }
  // Identifier arguments: path parameters first, then other top-level *_id arguments.
  const idArgs: string[] = [...(input.pathArgs ?? [])];
  for (const key of Object.keys(args)) if (!idArgs.includes(key) && idNoun(key) !== undefined) idArgs.push(key);
  let text = title;
  const contexts: string[] = [];
  for (const key of idArgs.slice(0, 4)) {
    const value = scalar(args[key]);
    const noun = idNoun(key) ?? key.replace(/[_-]+/g, " ").toLowerCase();
    if (value === undefined) continue;
    const shown = oneLine(value, 40);
    const at = noun ? text.search(wordPattern(noun)) : -1;
    if (at >= 0) {
      text = `${text.slice(0, at + noun.length)} ${shown}${text.slice(at + noun.length)}`;
    } else if (!noun) {
      text = `${text} ${shown}`;
    } else {
      contexts.push(`${noun} ${shown}`);
    }
  }
  if (label !== undefined) text += ` '${oneLine(label, MAX_QUOTED).replace(/'/g, "’")}'`;
  if (contexts.length) text += ` in ${contexts.join(", ")}`;
  const space = text.indexOf(" ");
  return space < 0 ? { verb: text, rest: "" } : { verb: text.slice(0, space), rest: text.slice(space) };
}

/** One readable line describing what a call did (or why it did not). */
export function summarize(input: SummaryInput): string {
  const { verb, rest } = phrase(input);
  const plain = `${verb}${rest}`;
  const lower = lowerFirst(plain);
  const why = input.error ? ` (${oneLine(input.error, 80)})` : "";
  let line: string;
  switch (input.type) {
    case "pending":
      line = `Awaiting confirmation: ${lower}`;
      break;
    case "cancelled":
      line = `Cancelled: ${lower}`;
      break;
    case "expired":
      line = `Expired without confirmation: ${lower}`;
      break;
    case "denied":
      line = `Denied: ${lower}${why}`;
      break;
    case "rate_limited":
      line = `Rate limited: ${lower}`;
      break;
    default: {
      const done = input.outcome === "ok" || input.outcome === "executed" || input.outcome === "already_executed";
      if (!done) {
        const status = input.upstreamStatus ? ` (upstream ${input.upstreamStatus})` : why;
        line = input.outcome === "invalid" ? `Invalid arguments: ${lower}${why}` : `Failed: ${lower}${status}`;
      } else if (input.write || input.type === "confirmed") {
        line = pastPhrase(verb, rest) ?? `Done: ${lower}`;
      } else {
        line = capitalize(plain);
      }
    }
  }
  return oneLine(line, MAX_SUMMARY);
}
