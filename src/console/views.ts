/**
 * The console API's plain helpers: how tokens and audit events are shown, request parsing, and
 * the content types of the built pages.
 */
import type Koa from "koa";
import type { TokenRecord } from "../stores/tokens.js";
import type { Admin } from "./admins.js";
import type { ActivityFilter, FeedRecord } from "./audit-feed.js";
import type { ConsoleSession } from "./sessions.js";
import { publicToken } from "../tokens/view.js";

/** The largest JSON body the console API reads. */
const MAX_BODY = 64 * 1024;

export const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

export type Who = { admin: Admin; via: "bearer" } | { admin: Admin; via: "cookie"; session: ConsoleSession; sessionId: string };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export async function readJson(ctx: Koa.Context): Promise<Record<string, unknown>> {
  const type = ctx.get("content-type");
  if (!/^application\/json\b/i.test(type)) throw new ApiError(415, "unsupported_media_type", "Send the body as application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, "payload_too_large", `Body exceeds ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new ApiError(400, "bad_request", "The body is not valid JSON");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new ApiError(400, "bad_request", "The body must be a JSON object");
  return parsed as Record<string, unknown>;
}

/** A token as the console API shows it (never the hash or the sealed credential). */
export function tokenView(r: TokenRecord, now: number, callsToday: number) {
  return { ...publicToken(r, now), callsToday };
}

/** An activity entry as the API shows it. */
export function activityView(e: FeedRecord, detail = false) {
  const r = e.record;
  return {
    id: e.seq,
    ts: r.ts,
    requestId: r.requestId,
    tokenId: r.tokenId ?? null,
    subject: r.subject ?? null,
    tool: r.tool,
    module: r.module ?? null,
    ...(r.upstream ? { upstream: r.upstream } : {}),
    type: r.type ?? null,
    outcome: r.outcome ?? null,
    summary: r.summary ?? null,
    durationMs: r.durationMs ?? null,
    errorCode: r.errorCode ?? null,
    ...(detail
      ? { transport: r.transport, sessionId: r.sessionId ?? null, args: r.args ?? null, resultExcerpt: r.resultExcerpt ?? null, error: r.error ?? null, upstreamStatus: r.upstreamStatus ?? null, upstreamMs: r.upstreamMs ?? null, actionId: r.actionId ?? null }
      : {}),
  };
}

export function int(value: unknown, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ApiError(400, "bad_request", `${name} must be a number (got ${JSON.stringify(value)})`);
  return n;
}

export function time(value: unknown, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const s = String(value);
  const n = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(n)) throw new ApiError(400, "bad_request", `${name} must be an ISO date or epoch milliseconds (got ${JSON.stringify(s)})`);
  return n;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The `upstream` query parameter: one of the gateway's upstreams, given once. */
function upstreamParam(value: unknown, known: readonly string[]): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string") throw new ApiError(400, "bad_request", "upstream must be given once (one upstream name)");
  if (known.length === 0) throw new ApiError(400, "bad_request", `upstream: this gateway serves one API (no upstreams: in its configuration), so there is no upstream '${value}'`);
  if (!known.includes(value)) throw new ApiError(400, "bad_request", `upstream: unknown upstream '${value}' (this gateway has ${known.join(", ")})`);
  return value;
}

/** The activity filter from a query string (the same for the list and the event stream); `upstreams` are the gateway's. */
export function activityFilter(q: Record<string, unknown>, upstreams: readonly string[] = []): ActivityFilter {
  return {
    tokenId: str(q.token),
    tool: str(q.tool),
    module: str(q.module),
    outcome: str(q.outcome),
    upstream: upstreamParam(q.upstream, upstreams),
    since: time(q.since, "since"),
    until: time(q.until, "until"),
    before: int(q.before, "before"),
    limit: int(q.limit, "limit"),
  };
}

/** A token form's `upstreams`: absent or "all" for every one, else names of the gateway's upstreams. */
export function upstreamsOf(value: unknown, known: readonly string[]): string[] | undefined {
  if (value === undefined || value === null || value === "all") return undefined;
  if (!Array.isArray(value) || !value.every((u) => typeof u === "string")) throw new ApiError(400, "invalid_arguments", "upstreams must be \"all\" or a list of upstream names");
  const names = [...new Set(value as string[])];
  if (names.length === 0) throw new ApiError(400, "invalid_arguments", "upstreams: pick at least one upstream, or \"all\"");
  if (known.length === 0) throw new ApiError(400, "invalid_arguments", "upstreams: this gateway serves one API (no upstreams: in its configuration)");
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new ApiError(400, "invalid_arguments", `upstreams: unknown upstream ${unknown.join(", ")} (this gateway has ${known.join(", ")})`);
  return names;
}

/** A token's or grant's `modules` field: "all" (or absent), or a non-empty list of known module names. */
export function modulesOf(value: unknown, known: readonly string[]): "all" | string[] {
  if (value === undefined || value === "all") return "all";
  if (!Array.isArray(value) || !value.every((m) => typeof m === "string")) throw new ApiError(400, "invalid_arguments", "modules must be \"all\" or a list of module names");
  const modules = [...new Set(value as string[])];
  if (modules.length === 0) throw new ApiError(400, "invalid_arguments", "modules: pick at least one module, or \"all\"");
  const unknown = modules.filter((m) => !known.includes(m));
  if (unknown.length > 0) throw new ApiError(400, "invalid_arguments", `modules: unknown module ${unknown.join(", ")}`);
  return modules;
}
