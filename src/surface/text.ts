/**
 * Text normalisation shared by the search index and its queries: word splitting, a light
 * English stemmer and a small synonym map. Index and query go through the same functions, so a
 * stem only has to be consistent, not a real word.
 */

/** Splits identifiers and prose into lower-case words: `listIssueComments`, `list_issue_comments`, `/repos/{owner}`. */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

const STOPWORDS = new Set([
  "a", "an", "the", "to", "of", "for", "in", "on", "at", "by", "with", "and", "or", "is", "are", "was",
  "be", "been", "it", "its", "this", "that", "these", "those", "we", "our", "you", "your",
  "please", "can", "could", "would", "should", "do", "does", "did", "what", "which", "how", "some", "any",
  "there", "their", "them", "so", "as", "into", "about", "via", "using", "use", "one", "want", "need",
  "all", "every",
]);

/** True for words that carry no meaning for tool search ("the", "please", "my"). */
export function isStopword(word: string): boolean {
  return STOPWORDS.has(word);
}

const VOWEL = /[aeiouy]/;

/**
 * A deliberately small suffix stemmer (plurals, -ing, -ed, final -e). It only has to map a word
 * and its common inflections onto the same key; "release", "releases", "released" → "releas".
 */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3 || /^[0-9]+$/.test(w)) return w;
  if (w.endsWith("ies") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/(ss|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith("s") && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith("ing") && w.length > 5 && VOWEL.test(w.slice(0, -3))) w = undouble(w.slice(0, -3));
  else if (w.endsWith("ed") && w.length > 4 && VOWEL.test(w.slice(0, -2))) w = undouble(w.slice(0, -2));
  if (w.endsWith("e") && w.length > 3 && !w.endsWith("ee")) w = w.slice(0, -1);
  // "calculation" and "calculate", "activation" and "activate" meet at "calculat", "activat".
  if (w.endsWith("ation") && w.length > 7) w = w.slice(0, -3);
  return w;
}

function undouble(w: string): string {
  return /([bdgklmnprt])\1$/.test(w) ? w.slice(0, -1) : w;
}

/**
 * Query-side synonyms, written as plain words and stemmed once. Each expansion is searched at a
 * lower weight than the word the user typed, so it only decides between tools the literal words
 * do not separate.
 */
const SYNONYM_WORDS: Record<string, readonly string[]> = {
  delete: ["remove", "destroy", "archive"],
  remove: ["delete", "unassign"],
  destroy: ["delete"],
  erase: ["delete"],
  create: ["add", "new", "post"],
  add: ["create", "new", "assign", "invite"],
  new: ["create", "add"],
  make: ["create"],
  open: ["create"],
  start: ["create", "begin"],
  update: ["edit", "change", "modify", "patch", "set"],
  edit: ["update", "modify"],
  change: ["update", "edit", "set", "history"],
  modify: ["update", "edit"],
  rename: ["update", "edit", "name"],
  set: ["update"],
  move: ["transition", "update", "status", "column", "stage"],
  list: ["search", "find"],
  show: ["get", "list", "view"],
  view: ["get", "read"],
  fetch: ["get", "read"],
  retrieve: ["get"],
  get: ["view", "fetch"],
  find: ["search", "list"],
  search: ["find", "list", "query"],
  look: ["search", "find"],
  who: ["user", "member", "person", "assignee"],
  person: ["user", "member"],
  people: ["user", "member"],
  user: ["member", "person"],
  member: ["user"],
  teammate: ["member", "user"],
  colleague: ["member", "user"],
  logged: ["entries", "time", "tracked"],
  log: ["entries", "time", "track"],
  track: ["time", "entries", "log"],
  hours: ["time", "entries", "minutes"],
  timesheet: ["time", "entries"],
  spent: ["time", "entries"],
  done: ["complete", "status", "close"],
  finish: ["complete", "close", "done"],
  complete: ["done", "close"],
  close: ["complete", "done", "archive"],
  reopen: ["open", "status"],
  comment: ["note", "reply", "discussion"],
  reply: ["comment"],
  note: ["comment"],
  attach: ["file", "upload", "attachment"],
  attachment: ["file", "upload"],
  upload: ["file", "attachment"],
  file: ["attachment", "upload"],
  tag: ["label"],
  label: ["tag"],
  ticket: ["task", "issue"],
  todo: ["task"],
  issue: ["task", "ticket"],
  task: ["issue", "ticket"],
  due: ["deadline", "date"],
  deadline: ["due"],
  invite: ["member", "add", "invitation"],
  kick: ["remove", "member"],
  notify: ["notification", "subscribe", "webhook"],
  subscribe: ["webhook", "notification", "watch", "subscription"],
  hook: ["webhook"],
  webhook: ["hook"],
  org: ["organization"],
  organization: ["org", "workspace"],
  repo: ["repository"],
  repository: ["repo"],
  pr: ["pull", "request"],
  settings: ["config", "preferences"],
  config: ["settings"],
  report: ["summary", "stats"],
  stats: ["report", "summary", "metrics"],
  activity: ["events", "audit", "history"],
  me: ["current", "profile", "authenticated"],
  current: ["me"],
  now: ["current"],
  wait: ["depends", "dependency", "blocked"],
  block: ["depends", "dependency"],
  depend: ["dependency", "blocked"],
  admin: ["role", "permission"],
  permission: ["role", "access"],
  access: ["member", "permission", "role"],
  her: ["member", "user"],
  him: ["member", "user"],
  someone: ["member", "user"],
  meeting: ["event", "calendar"],
  appointment: ["event", "calendar"],
  accept: ["respond", "rsvp", "approve"],
  decline: ["respond", "rsvp", "reject"],
  reschedule: ["update", "event"],
  postpone: ["reschedule", "update"],
  push: ["reschedule", "update"],
  progress: ["stats", "status", "burndown"],
  email: ["notification", "invitation"],
  disable: ["off", "preferences", "settings"],
  history: ["activity", "events", "audit"],
  event: ["activity"],
  // Common API vocabulary: what people say beside what specs call it.
  server: ["instance", "machine", "droplet", "host", "vm"],
  instance: ["server", "machine", "vm"],
  machine: ["server", "instance", "vm"],
  vm: ["server", "instance", "machine"],
  host: ["server", "instance"],
  client: ["customer"],
  customer: ["client"],
  account: ["user", "profile"],
  message: ["chat", "post", "comment"],
  chat: ["message", "channel"],
  thread: ["comment", "discussion", "conversation", "reply"],
  discussion: ["comment", "conversation"],
  conversation: ["comment", "discussion"],
  mine: ["authenticated", "me"],
  i: ["authenticated"],
  newest: ["latest", "recent"],
  latest: ["newest", "recent"],
  recent: ["latest"],
  recently: ["events", "recent"],
  stop: ["cancel", "delete"],
  cancel: ["delete", "stop", "void"],
  undo: ["reverse", "reversal", "cancel"],
  build: ["workflow", "run", "job"],
  ci: ["workflow", "status", "check"],
  passing: ["status", "success", "check"],
  follow: ["follower", "following"],
  follower: ["follow"],
  contribute: ["contributor"],
  contributor: ["contribute"],
  star: ["stargazer", "starred"],
  watch: ["subscription", "watcher"],
  fork: ["forks"],
  review: ["reviewer"],
  reviewer: ["review"],
  assign: ["assignee"],
  assignee: ["assign"],
  branch: ["ref", "head"],
  ref: ["branch", "tag"],
  private: ["visibility"],
  calls: ["rate", "limit"],
  quota: ["rate", "limit"],
  left: ["remaining", "limit"],
  money: ["balance", "funds", "payment"],
  funds: ["balance", "money", "payout"],
  balance: ["funds", "money"],
  refund: ["money", "back"],
  pay: ["payment", "charge", "transfer", "payout"],
  payment: ["charge", "pay", "intent"],
  charge: ["payment", "pay"],
  bank: ["payout", "external"],
  seller: ["account", "connected", "transfer"],
  discount: ["coupon", "promotion"],
  coupon: ["discount", "promotion"],
  promo: ["promotion", "coupon"],
  subscription: ["subscribe", "plan", "recurring"],
  monthly: ["subscription", "recurring"],
  recurring: ["subscription"],
  plan: ["subscription", "price"],
  price: ["pricing", "cost"],
  vat: ["tax"],
  gst: ["tax"],
  number: ["id"],
  listen: ["webhook", "endpoint"],
  url: ["endpoint", "webhook"],
  happened: ["event", "activity", "history"],
  fraud: ["radar", "review", "warning"],
  reader: ["terminal"],
  identity: ["verification"],
  verify: ["verification", "identity"],
  ssh: ["key"],
  key: ["ssh"],
  give: ["assign", "transfer", "add"],
  promote: ["role", "admin", "update"],
  rid: ["delete", "remove"],
  profile: ["user", "account", "me"],
  register: ["create", "new", "add"],
  approve: ["review", "accept"],
  document: ["file", "doc"],
  bug: ["issue", "task", "ticket"],
  project: ["repo", "repository"],
  app: ["application", "repo"],
};

let synonymStems: Map<string, readonly string[]> | undefined;

/** Synonym stems for a query stem (empty when none). */
export function synonymsOf(stemmed: string): readonly string[] {
  if (!synonymStems) {
    synonymStems = new Map();
    for (const [word, alternatives] of Object.entries(SYNONYM_WORDS)) {
      const key = stem(word);
      const merged = new Set([...(synonymStems.get(key) ?? []), ...alternatives.map(stem)]);
      merged.delete(key);
      synonymStems.set(key, [...merged]);
    }
  }
  return synonymStems.get(stemmed) ?? [];
}

/** First-person words all mean the caller: "my tasks", "/users/me", "what am I timing". */
const FIRST_PERSON = new Set(["i", "me", "my", "mine", "myself"]);

/** Words of a text, stemmed, stopwords removed (index and query side alike). */
export function terms(text: string): string[] {
  return words(text)
    .filter((w) => !isStopword(w))
    .map((w) => (FIRST_PERSON.has(w) ? "me" : stem(w)));
}

/**
 * Idioms whose words mislead one by one ("kick off" is not about kicking anyone), rewritten
 * before a query is split into words. Query side only.
 */
const IDIOMS: readonly (readonly [RegExp, string])[] = [
  [/\bkick(?:s|ed|ing)? off\b/g, "start"],
  [/\bturn(?:s|ed|ing)? off\b/g, "disable"],
  [/\bswitch(?:es|ed|ing)? off\b/g, "disable"],
  [/\bturn(?:s|ed|ing)? on\b/g, "enable"],
  [/\bswitch(?:es|ed|ing)? on\b/g, "enable"],
  [/\blog(?:s|ged|ging)? in(?: as)?\b/g, "current user"],
  [/\bsign(?:s|ed|ing)? in(?: as)?\b/g, "current user"],
  [/\bset(?:s|ting)? up\b/g, "create"],
  [/\broll(?:s|ed|ing)? back\b/g, "restore"],
  [/\bright now\b/g, "current"],
  [/\bfar along\b/g, "progress"],
  [/\bthumbs? up\b/g, "reaction"],
  [/\bfill(?:s|ed|ing)? (?:in|out)\b/g, "submit"],
  [/\bclos(?:e|es|ed|ing) out\b/g, "complete"],
  [/\bsign(?:s|ed|ing)? up\b/g, "register"],
  [/\bwaiting on\b/g, "depends on"],
  [/\bblocked by\b/g, "depends on"],
  [/\b(?:money|cash|funds) back\b/g, "refund"],
  [/\bwho am i\b/g, "get the current authenticated user"],
  [/\bwhat happened\b/g, "events activity"],
  [/\bget(?:s|ting)? rid of\b/g, "delete"],
  [/\btak(?:e|es|ing) (\w+) off\b/g, "remove unassign $1 from"],
  [/\bmak(?:e|es|ing) (?:it|the [a-z]+|this [a-z]+|my [a-z]+) (private|public|internal)\b/g, "update visibility $1"],
];

/** A query's terms: idioms rewritten, then the same normalisation as the index. */
export function queryTerms(query: string): string[] {
  let text = query.toLowerCase();
  for (const [pattern, replacement] of IDIOMS) text = text.replace(pattern, replacement);
  return terms(text);
}
