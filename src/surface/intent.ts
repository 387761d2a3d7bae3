/**
 * What a request means to do, and what a tool does, in the same five words: list, get, create,
 * update, delete (plus `action`, a POST to a verb such as `/cancel` or `/merge`, which any write
 * may mean). Search ranks the tools whose intent matches the request's a little higher and the
 * reads a write was asked for (or the writes a read was asked for) a little lower; the words of
 * the request still decide which resource.
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { stem, words } from "./text.js";

export type Intent = "list" | "get" | "create" | "update" | "delete" | "action";

/** Everyday verbs by intent, as a request starts ("show me…", "get rid of…", "kick off…"). */
const VERBS: Record<Exclude<Intent, "action">, readonly string[]> = {
  list: ["list", "lists", "all", "every", "browse", "enumerate", "which", "who", "whose", "many"],
  get: ["get", "show", "view", "read", "fetch", "retrieve", "see", "display", "what", "whats", "open", "look", "check", "details", "download", "is", "was", "were", "are", "does", "did", "how"],
  create: ["create", "add", "new", "make", "start", "register", "post", "write", "upload", "issue", "generate", "launch", "invite", "build", "submit", "send", "put", "give", "log", "record", "leave", "save", "take", "charge", "publish", "fork", "star", "follow", "ask", "open", "attach", "onboard", "set", "sign", "bill", "schedule", "run", "trigger"],
  update: ["update", "change", "edit", "modify", "rename", "set", "move", "upgrade", "downgrade", "switch", "turn", "enable", "disable", "replace", "adjust", "mark", "promote", "make", "reassign", "resume", "pause", "bring", "sync", "lock", "unlock", "protect", "approve", "accept"],
  delete: ["delete", "remove", "cancel", "drop", "destroy", "erase", "purge", "kick", "revoke", "stop", "unassign", "unfollow", "unstar", "void", "uninstall", "rid", "clear", "undo", "take", "discard"],
};

const VERB_INTENTS = new Map<string, Intent[]>();
for (const [intent, verbs] of Object.entries(VERBS) as [Intent, readonly string[]][]) {
  for (const v of verbs) VERB_INTENTS.set(v, [...(VERB_INTENTS.get(v) ?? []), intent]);
}

/** Words that may come before the verb ("please", "can you", "I want to"). */
const LEAD = new Set(["please", "can", "could", "would", "you", "i", "we", "want", "need", "to", "let", "lets", "me", "us", "help", "how", "do", "go", "ahead", "and", "just", "now", "quickly"]);

/**
 * The intents a request's leading verb can mean, or undefined when it starts with no verb this
 * table knows ("sprint burndown chart"). "how do I…" and "can you…" are skipped; "how many…" lists.
 */
export function queryIntents(query: string): ReadonlySet<Intent> | undefined {
  const ws = words(query);
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    if (w === "how" && ws[i + 1] === "many") return new Set(["list"]);
    if (w === "how" && ws[i + 1] === "much") return new Set(["get"]);
    if (LEAD.has(w) && !VERB_INTENTS.has(w)) continue;
    const found = VERB_INTENTS.get(w) ?? VERB_INTENTS.get(stem(w));
    // "show all my repos", "get every label": many things, not one.
    if (found?.includes("get") && ws.slice(i + 1, i + 4).some((x) => x === "all" || x === "every")) return new Set(["list"]);
    if (found) return new Set(found);
    if (!LEAD.has(w)) return undefined;
  }
  return undefined;
}

/** A tool's intent, from its method and path (and whether it writes). */
export function toolIntent(tool: ToolDescriptor): Intent {
  const { method, path } = tool.binding;
  const segments = path.split("/").filter(Boolean);
  const last = segments[segments.length - 1] ?? "";
  const onItem = last.startsWith("{");
  switch (method) {
    case "GET":
    case "HEAD":
      return onItem || !tool.policy.write ? (onItem ? "get" : listOrGet(last)) : "action";
    case "DELETE":
      return "delete";
    case "PUT":
    case "PATCH":
      return "update";
    case "POST": {
      if (!tool.policy.write) return "list";
      // POST /things/{id}/cancel: a verb after an item.
      const prev = segments[segments.length - 2] ?? "";
      if (!onItem && prev.startsWith("{") && !last.endsWith("s")) return "action";
      return onItem ? "update" : "create";
    }
    default:
      return "action";
  }
}

/** A GET on a literal segment: a collection when it reads as a plural, else one thing (`/user`, `/balance`). */
function listOrGet(segment: string): Intent {
  return /s$/.test(segment) || /search|list|history|events/.test(segment) ? "list" : "get";
}

const READS: ReadonlySet<Intent> = new Set(["list", "get"]);

/** How much a tool's intent agrees with what the request asked for: above 1 when it matches, below 1 when read and write disagree. */
export function intentFactor(asked: ReadonlySet<Intent> | undefined, tool: Intent): number {
  if (!asked) return 1;
  if (asked.has(tool)) return 1.35;
  const askedRead = [...asked].some((i) => READS.has(i));
  const askedWrite = [...asked].some((i) => !READS.has(i));
  if (tool === "action") return askedWrite ? 1.2 : 0.8;
  if (READS.has(tool)) {
    if (askedRead) return 1.1; // list for get or get for list: close
    return 0.7;
  }
  return askedWrite ? 1 : 0.7;
}
