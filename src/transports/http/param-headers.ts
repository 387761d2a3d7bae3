/**
 * SEP-2243 custom headers: a 2026-07-28 client mirrors each tools/call argument whose property
 * declares `x-mcp-header: Name` into an `Mcp-Param-Name` header (see codegen/transform/mcp-header.ts).
 * Proxies may have routed the request on that header, so a call whose header and body disagree is
 * refused (400, -32020) before it runs: an argument present in the body needs its header, and the
 * header must decode to the same value. A value wrapped as `=?base64?…?=` is decoded (canonical
 * Base64 of UTF-8, else refused); anything else is taken literally. Absent or null arguments need
 * no header, and a header for them is ignored.
 */
import type { IncomingHttpHeaders } from "node:http";
import { GatewayError } from "../../errors.js";

/** One mirrored argument: where it sits in the arguments, and its header's name. */
export interface MirroredArgument {
  readonly path: readonly string[];
  readonly header: string;
  readonly type: string | undefined;
}

const KEY = "x-mcp-header";
const PREFIX = "=?base64?";
const SUFFIX = "?=";
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const cache = new WeakMap<object, readonly MirroredArgument[]>();

/** The mirrored arguments of an input schema: `x-mcp-header` on properties reached through `properties` only. */
export function mirroredArguments(schema: object): readonly MirroredArgument[] {
  const hit = cache.get(schema);
  if (hit) return hit;
  const out: MirroredArgument[] = [];
  const visit = (node: Obj, path: string[]): void => {
    if (path.length > 0 && typeof node[KEY] === "string") out.push({ path, header: node[KEY], type: typeof node.type === "string" ? node.type : undefined });
    if (isObj(node.properties)) for (const [k, child] of Object.entries(node.properties)) if (isObj(child)) visit(child, [...path, k]);
  };
  if (isObj(schema)) visit(schema, []);
  cache.set(schema, out);
  return out;
}

/** A header's value as the client meant it; undefined for a malformed Base64 wrapper. */
export function decodeParamHeader(value: string): string | undefined {
  if (!(value.startsWith(PREFIX) && value.endsWith(SUFFIX) && value.length >= PREFIX.length + SUFFIX.length)) return value;
  const b64 = value.slice(PREFIX.length, value.length - SUFFIX.length);
  if (!CANONICAL_BASE64.test(b64)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(b64, "base64"));
  } catch {
    return undefined;
  }
}

function asText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function valueAt(args: unknown, path: readonly string[]): unknown {
  let node = args;
  for (const key of path) node = isObj(node) ? node[key] : undefined;
  return node;
}

function mismatch(header: string, argument: string, message: string): GatewayError {
  return new GatewayError("header_mismatch", `Bad Request: the request headers and body disagree: ${message}`, { details: { header, argument } });
}

/** Throws `header_mismatch` when a mirrored argument's header is missing, malformed or disagrees with the body. */
export function checkParamHeaders(mirrored: readonly MirroredArgument[], args: unknown, headers: IncomingHttpHeaders): void {
  for (const m of mirrored) {
    const value = valueAt(args, m.path);
    if (value === undefined || value === null) continue;
    const text = asText(value);
    if (text === undefined) continue;
    const header = `Mcp-Param-${m.header}`;
    const argument = m.path.join(".");
    const raw = headers[header.toLowerCase()];
    const sent = Array.isArray(raw) ? raw.join(", ") : raw;
    if (sent === undefined) throw mismatch(header, argument, `argument '${argument}' is ${JSON.stringify(value)} but the ${header} header is missing`);
    const decoded = decodeParamHeader(sent.trim());
    if (decoded === undefined) throw mismatch(header, argument, `the ${header} header's =?base64?…?= value is not canonical Base64 of UTF-8 text`);
    const numeric = (m.type === "integer" || m.type === "number") && typeof value === "number" && DECIMAL.test(decoded);
    if (numeric ? Number(decoded) !== value : decoded !== text) {
      throw mismatch(header, argument, `the ${header} header says ${JSON.stringify(decoded)} but argument '${argument}' is ${JSON.stringify(value)}`);
    }
  }
}
