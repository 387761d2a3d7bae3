/**
 * Reads and checks a POST body before admission, so that nothing is charged for a request that
 * can't run: too large, not JSON, an empty or oversized batch, a tools/call whose name or
 * arguments have the wrong type. Also reads the connection parameters of the query string.
 */
import type { IncomingMessage } from "node:http";
import type Koa from "koa";
import { MAX_BATCH_SIZE } from "@modelcontextprotocol/sdk/server/requestBody.js";
import type { Config } from "../../config.js";
import { GatewayError } from "../../errors.js";
import { surfaceSettings } from "../../surface/session-surface.js";
import type { JsonRpcMessage, McpState } from "./state.js";

/** Reads the request body up to `max` bytes; a larger body is refused with payload_too_large. */
async function readBody(req: IncomingMessage, max: number): Promise<string> {
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The checks of one tools/call that the SDK would otherwise answer with a schema-library dump. */
function checkCall(m: JsonRpcMessage): void {
  if (m.method !== "tools/call") return;
  const id = m.id ?? null;
  if (!isObject(m.params)) throw Object.assign(new GatewayError("invalid_arguments", "tools/call needs params: { name, arguments }"), { rpcId: id });
  if (typeof m.params.name !== "string") throw Object.assign(new GatewayError("invalid_arguments", "tools/call params.name must be a string (the tool's name)"), { rpcId: id });
  if (m.params.arguments !== undefined && !isObject(m.params.arguments)) {
    throw Object.assign(new GatewayError("invalid_arguments", `tools/call params.arguments must be an object of the tool's arguments, not ${Array.isArray(m.params.arguments) ? "an array" : m.params.arguments === null ? "null" : typeof m.params.arguments}`), { rpcId: id });
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
      for (const m of state.messages) checkCall(m);
    }
    await next();
  };
}
