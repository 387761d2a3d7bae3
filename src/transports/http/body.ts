/**
 * Reads and checks a POST body before admission, so that nothing is charged for a request that
 * can't run: too large, not JSON, an empty or oversized batch, a tools/call whose name or
 * arguments have the wrong type. Also reads the connection parameters of the query string.
 */
import type { IncomingMessage } from "node:http";
import type Koa from "koa";
import type { Config } from "../../config.js";
import { GatewayError } from "../../errors.js";
import { surfaceSettings } from "../../surface/session-surface.js";
import { MAX_BATCH_SIZE, type JsonRpcMessage, type McpState } from "./state.js";
import { isObject } from "../../shape.js";

/** Reads the request body up to `max` bytes; a larger body is refused with payload_too_large. */
export async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  const tooLarge = () => new GatewayError("payload_too_large", `Request body exceeds the limit of ${max} bytes`, { details: { limit_bytes: max } });
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function invalidParams(m: JsonRpcMessage, message: string): GatewayError {
  const e = new GatewayError("invalid_arguments", `Invalid params for ${m.method}: ${message}`);
  e.rpcId = m.id ?? null;
  return e;
}

const LOG_LEVELS = new Set(["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]);

/**
 * The checks of the requests this server serves that the SDK would otherwise answer with -32603
 * and a schema-library dump: cheap structural checks, named in words.
 */
function checkParams(m: JsonRpcMessage): void {
  if (typeof m.method !== "string") return;
  const p = m.params as unknown;
  if (p !== undefined && !isObject(p)) throw invalidParams(m, "params must be an object");
  const params = (p ?? {}) as Record<string, unknown>;
  switch (m.method) {
    case "tools/call":
      if (p === undefined) throw invalidParams(m, "params { name, arguments } are required");
      if (typeof params.name !== "string") throw invalidParams(m, "params.name must be a string (the tool's name)");
      if (params.arguments !== undefined && !isObject(params.arguments)) {
        throw invalidParams(m, `params.arguments must be an object of the tool's arguments, not ${Array.isArray(params.arguments) ? "an array" : params.arguments === null ? "null" : typeof params.arguments}`);
      }
      return;
    case "initialize":
      if (typeof params.protocolVersion !== "string") throw invalidParams(m, "params.protocolVersion must be a string");
      if (!isObject(params.capabilities)) throw invalidParams(m, "params.capabilities must be an object");
      if (!isObject(params.clientInfo) || typeof params.clientInfo.name !== "string" || typeof params.clientInfo.version !== "string") {
        throw invalidParams(m, "params.clientInfo must be { name, version } strings");
      }
      return;
    case "tools/list":
      if (params.cursor !== undefined && typeof params.cursor !== "string") throw invalidParams(m, "params.cursor must be a string");
      return;
    case "logging/setLevel":
      if (typeof params.level !== "string" || !LOG_LEVELS.has(params.level)) throw invalidParams(m, `params.level must be one of ${[...LOG_LEVELS].join(", ")}`);
      return;
  }
}

/** Parses the POST body into `ctx.state.body` / `messages`, and the query into `params`. */
export function jsonRpcBody(config: Config): Koa.Middleware<McpState> {
  return async function body(ctx, next) {
    const state = ctx.state;
    state.messages = [];
    state.params = Object.fromEntries(Object.entries(ctx.query).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v ?? "")]));
    surfaceSettings(config.surface, state.params); // a bad ?mode= / ?profile= is a 400 up front
    if (ctx.method === "POST") {
      const text = await readBody(ctx.req, config.http.maxBodyBytes);
      try {
        state.body = JSON.parse(text);
      } catch {
        throw new GatewayError("parse_error", "Parse error: the body is not valid JSON");
      }
      const raw = state.body;
      if (Array.isArray(raw)) {
        if (raw.length === 0) throw new GatewayError("bad_request", "Invalid Request: an empty batch");
        if (raw.length > MAX_BATCH_SIZE) throw new GatewayError("bad_request", `Invalid Request: a batch must not exceed ${MAX_BATCH_SIZE} messages (this one has ${raw.length}); nothing in it was run`);
      }
      state.messages = (Array.isArray(raw) ? raw : [raw]).filter(isObject) as JsonRpcMessage[];
    }
    await next();
  };
}

/**
 * The structural checks of 2025 requests (after the era is known: a 2026-07-28 request is checked
 * by the SDK's handler, which answers a method the revision removed, initialize among them, with 404).
 */
export function legacyParamChecks(): Koa.Middleware<McpState> {
  return async function checkLegacyParams(ctx, next) {
    if (ctx.state.era !== "modern") for (const m of ctx.state.messages) checkParams(m);
    await next();
  };
}
