/**
 * The approvals section of the settings table (src/config/settings.ts spreads it in, in this
 * order): who approves which pending actions, how long they wait, four eyes and the webhook.
 * Plain data, so this file imports nothing (the table checks every row's shape where it spreads).
 */
const DAY_MS = 86_400_000;

/** The `approvals.*` rows. */
export const APPROVAL_SETTINGS = [
  { key: "approvals.rules", section: "approvals", type: "approvalRules", doc: "who approves which pending actions: a list of `{ approval: agent|person|both, tool?, module?, sensitive?, methods?, tokens?, tiers? }`, the first matching rule wins over the tool's `x-mcp-approval`; a rule naming only `tokens`/`tiers` marks those callers as always needing a person ([approvals.md](approvals.md))" },
  { key: "approvals.ttlMs", section: "approvals", env: "COUNTERSIGN_APPROVAL_TTL_MS", type: "int", unit: "ms", default: DAY_MS, min: 1000, max: 30 * DAY_MS, doc: "how long an action that needs a person waits for one before it expires (the agent's confirm keeps `confirm.ttlMs`)" },
  { key: "approvals.webhook.url", section: "approvals", env: "COUNTERSIGN_APPROVALS_WEBHOOK_URL", type: "url", defaultDoc: "unset: no notifications", doc: "POSTed once for each action that enters the approval inbox (its summary and a link to it in the console); the decision itself is only ever taken in the console" },
  { key: "approvals.webhook.format", section: "approvals", env: "COUNTERSIGN_APPROVALS_WEBHOOK_FORMAT", type: "enum", values: ["json", "slack"], default: "json", doc: "`json` (the action's fields) or `slack` (an incoming-webhook message: `text` and `blocks`)" },
  { key: "approvals.webhook.secret", section: "approvals", env: "COUNTERSIGN_APPROVALS_WEBHOOK_SECRET", type: "string", doc: "signs each delivery: `X-Countersign-Signature: sha256=<hex HMAC-SHA256 of \"<X-Countersign-Timestamp>.<body>\">`" },
  { key: "approvals.webhook.attempts", section: "approvals", env: "COUNTERSIGN_APPROVALS_WEBHOOK_ATTEMPTS", type: "int", unit: "count", default: 5, min: 1, max: 20, doc: "tries per delivery; a network error, a 429 or a 5xx is retried, another answer is final; the last outcome shows in the console" },
  { key: "approvals.webhook.backoffMs", section: "approvals", env: "COUNTERSIGN_APPROVALS_WEBHOOK_BACKOFF_MS", type: "int", unit: "ms", default: 1000, min: 1, max: 3_600_000, doc: "wait before the first retry, doubled for each next one" },
  { key: "approvals.webhook.consoleUrl", section: "approvals", env: "COUNTERSIGN_APPROVALS_CONSOLE_URL", type: "url", defaultDoc: "`http://<http.host>:<http.port>/console/`", doc: "the console's address as people reach it, for the link in each notification" },
  { key: "approvals.separateApprover", section: "approvals", env: "COUNTERSIGN_APPROVALS_SEPARATE_APPROVER", type: "bool", default: false, doc: "four eyes: an admin can't approve an action asked for by a token that admin created" },
] as const;
