/**
 * The typed client of the console API (docs/console-api.md). Same-origin requests carry the
 * session cookie; every mutation carries the session's CSRF token.
 */

export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
}

/** An API refusal, with the server's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface MemberLimits {
  readonly modules: "all" | readonly string[];
  readonly readOnly: boolean;
  readonly maxExpiryDays: number;
}

export interface Session {
  readonly admin: { readonly name: string; readonly role: "admin" | "member"; readonly limits?: MemberLimits };
  readonly csrf: string | null;
  readonly idleMinutes: number;
}

export interface Token {
  readonly id: string;
  readonly name: string;
  readonly modules: "all" | readonly string[];
  readonly upstreams: "all" | readonly string[];
  readonly readOnly: boolean;
  readonly tier: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly hasUpstreamCredential: boolean;
  readonly needsPerson?: boolean;
  readonly status: "active" | "revoked" | "expired";
  readonly callsToday: number;
}

export interface ModuleInfo {
  readonly name: string;
  readonly description: string;
  readonly tools: number;
  readonly writes: number;
}

export interface Snippet {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

export interface CreatedToken {
  readonly token: Token;
  readonly secret: string;
  readonly mcpUrl: string;
  readonly connect: readonly Snippet[];
}

export interface NewToken {
  name: string;
  modules: "all" | string[];
  upstreams?: string[];
  readOnly: boolean;
  needsPerson?: boolean;
  tier: string;
  expires?: string;
  upstreamCredential?: string;
}

export interface ActivityEntry {
  readonly id: number;
  readonly ts: string;
  readonly requestId: string;
  readonly tokenId: string | null;
  readonly subject: string | null;
  readonly tool: string;
  readonly module: string | null;
  /** The upstream the tool belongs to, on a gateway of several. */
  readonly upstream?: string;
  readonly type: string | null;
  readonly outcome: string | null;
  readonly summary: string | null;
  readonly durationMs: number | null;
  readonly errorCode: string | null;
}

export interface ActivityDetail extends ActivityEntry {
  readonly transport: string;
  readonly sessionId: string | null;
  readonly args: unknown;
  readonly resultExcerpt: string | null;
  readonly error: string | null;
  readonly upstreamStatus: number | null;
  readonly upstreamMs: number | null;
  readonly actionId: string | null;
}

export interface ActivityFilter {
  token?: string;
  tool?: string;
  module?: string;
  outcome?: string;
  /** One of the gateway's upstreams (a gateway of several). */
  upstream?: string;
  since?: string;
  until?: string;
}

export interface Analytics {
  readonly range: "hour" | "day" | "week";
  readonly bucketMs: number;
  readonly series: { readonly t: number[]; readonly calls: number[]; readonly errors: number[]; readonly rateLimited: number[] };
  readonly totals: { readonly calls: number; readonly errors: number; readonly rateLimited: number; readonly errorRate: number; readonly rateLimitedRate: number };
  readonly tools: readonly { tool: string; calls: number; errors: number; p50Ms: number; p99Ms: number }[];
  readonly tokens: readonly { tokenId: string; subject: string; calls: number; errors: number }[];
  /** Per upstream, on a gateway of several (empty otherwise); `upstream: ""` is the gateway's own tools. */
  readonly upstreams: readonly { upstream: string; calls: number; errors: number; rateLimited: number }[];
}

export interface CatalogTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly method: string;
  readonly path: string;
  readonly write: boolean;
  readonly sensitive: boolean;
  readonly excluded: false | string;
}

export interface Catalog {
  readonly modules: readonly { name: string; description: string; tools: readonly CatalogTool[] }[];
  readonly excludedOperations: readonly { operationId: string; method: string; path: string; reason: string }[];
}

export interface PendingEntry {
  readonly id: string;
  readonly tokenId: string;
  readonly tokenName: string;
  readonly tool: string;
  /** The upstream of the tool, on a gateway of several. */
  readonly upstream?: string;
  readonly state: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly preview: {
    readonly summary: string;
    readonly method: string;
    readonly url: string;
    readonly body?: unknown;
    readonly current?: unknown;
    readonly current_note?: string;
    readonly diff?: readonly { path: string; change: string; before?: unknown; after?: unknown }[];
    readonly warnings: readonly string[];
    /** A change set's writes, in the order they run. */
    readonly steps?: readonly { ref: string; kind: string; summary: string; method: string; url: string; body?: unknown; diff?: readonly { path: string; change: string; before?: unknown; after?: unknown }[]; current_note?: string; approval_policy?: string }[];
  };
}

export interface ApprovalItem {
  readonly actionId: string;
  readonly tool: string;
  /** The upstream of the tool, on a gateway of several. */
  readonly upstream?: string;
  readonly summary: string;
  readonly method: string;
  readonly url: string;
  readonly warnings: readonly string[];
  readonly approval: string;
  readonly tokenId: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly awaitingSince?: string;
  readonly expiresAt: string;
  readonly status: string;
  readonly decision?: { verdict: string; by: string; atIso: string; reason?: string; outcome?: string; detail?: string };
  readonly delivery?: { at: number; ok: boolean; attempts: number; status?: number; error?: string };
}

export interface ApprovalDetail extends ApprovalItem {
  readonly preview: PendingEntry["preview"];
  readonly fresh: null | { error: string } | { readAt: string; current: unknown; diff: NonNullable<PendingEntry["preview"]["diff"]>; warnings: readonly string[]; changed: boolean };
}

export interface ApprovalDecided {
  readonly actionId: string;
  readonly verdict: "approved" | "rejected";
  readonly outcome?: string;
  readonly reason?: string;
  readonly error?: { code: string; message: string };
  readonly message?: string;
}

export interface ConsentRequest {
  readonly request: { readonly id: string; readonly resource: string };
  readonly client: { readonly id: string; readonly name: string; readonly via: "registration" | "metadata_document"; readonly redirectHost: string };
  readonly modules: readonly { name: string; description: string }[];
  readonly defaults: { readonly modules: "all"; readonly readOnly: boolean; readonly expires: string };
  /** A member's limits: what the page may offer. */
  readonly limits?: MemberLimits;
}

export interface ConsentDecision {
  approve: boolean;
  modules?: "all" | string[];
  readOnly?: boolean;
  expires?: string;
}

export interface OAuthGrant {
  readonly id: string;
  readonly clientId: string;
  readonly clientName: string;
  readonly user: string;
  readonly modules: "all" | readonly string[];
  readonly readOnly: boolean;
  readonly expiresAt: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  readonly revokedWhy: string | null;
  readonly status: "active" | "revoked" | "expired";
}

let csrf: string | null = null;

/** Remembers the session's CSRF token for later mutations. */
export function useCsrf(token: string | null): void {
  csrf = token;
}

const BASE = "/console/api";
/** Fired on `window` whenever the API answers 401. */
export const UNAUTHORIZED = "console-unauthorized";

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrf) headers["x-csrf-token"] = csrf;
  let res: Response;
  try {
    res = await fetch(BASE + path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", "The gateway did not answer (is it still running?)");
  }
  const data = (await res.json().catch(() => undefined)) as ({ error?: ApiErrorBody } & T) | undefined;
  if (!res.ok) {
    const err = new ApiError(res.status, data?.error?.code ?? "http_" + res.status, data?.error?.message ?? `The gateway answered HTTP ${res.status}`);
    // The shell shows the sign-in page for any 401 (no session yet, or it ended); pages stay quiet.
    if (res.status === 401) dispatchEvent(new CustomEvent(UNAUTHORIZED, { detail: err.message }));
    throw err;
  }
  return data as T;
}

function query(params: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const api = {
  session: () => call<Session>("GET", "/session"),
  signOut: () => call<{ signedOut: true }>("POST", "/signout"),
  modules: () => call<{ modules: ModuleInfo[]; tiers: string[]; upstreams: string[]; upstreamCredentials: boolean }>("GET", "/modules"),
  tokens: () => call<{ tokens: Token[] }>("GET", "/tokens"),
  createToken: (t: NewToken) => call<CreatedToken>("POST", "/tokens", t),
  revokeToken: (id: string) => call<{ token: Token }>("POST", `/tokens/${encodeURIComponent(id)}/revoke`),
  activity: (f: ActivityFilter & { before?: number; limit?: number }) => call<{ entries: ActivityEntry[]; retained: number; upstreams: string[] }>("GET", `/activity${query(f)}`),
  activityDetail: (id: number) => call<{ entry: ActivityDetail }>("GET", `/activity/${id}`),
  analytics: (range: string) => call<Analytics>("GET", `/analytics${query({ range })}`),
  tools: () => call<Catalog>("GET", "/tools"),
  pending: () => call<{ actions: PendingEntry[] }>("GET", "/pending"),
  approvals: (all = false) => call<{ approvals: ApprovalItem[]; separateApprover: boolean }>("GET", `/approvals${all ? "?all=1" : ""}`),
  approval: (id: string) => call<{ approval: ApprovalDetail }>("GET", `/approvals/${encodeURIComponent(id)}`),
  approve: (id: string) => call<ApprovalDecided>("POST", `/approvals/${encodeURIComponent(id)}/approve`, {}),
  reject: (id: string, reason: string) => call<ApprovalDecided>("POST", `/approvals/${encodeURIComponent(id)}/reject`, { reason }),
  consentRequest: (id: string) => call<ConsentRequest>("GET", `/oauth/requests/${encodeURIComponent(id)}`),
  decide: (id: string, d: ConsentDecision) => call<{ redirect: string }>("POST", `/oauth/requests/${encodeURIComponent(id)}/decision`, d),
  grants: () => call<{ grants: OAuthGrant[] }>("GET", "/oauth/grants"),
  revokeGrant: (id: string) => call<{ grant: OAuthGrant }>("POST", `/oauth/grants/${encodeURIComponent(id)}/revoke`),
  /** The live activity stream (Server-Sent Events), filtered like `activity`. */
  events: (f: ActivityFilter) => new EventSource(`${BASE}/events${query(f)}`),
};
