/**
 * `x-mcp-header` on a Parameter Object: the argument is mirrored by 2026-07-28 clients into an
 * `Mcp-Param-{Name}` HTTP header (SEP-2243), so proxies and load balancers can route on it without
 * reading the body, and the gateway refuses a call whose header and body disagree. The listed input
 * schema carries the declaration on the argument's property, as the MCP specification defines it.
 */
import type { JsonSchema } from "../descriptor.js";
import type { Obj } from "./context.js";

/** RFC 9110 §5.1 token: what an HTTP field name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The primitive types the specification admits on a mirrored argument. */
const MIRRORED_TYPES = new Set(["string", "integer", "boolean"]);

/**
 * The header name a parameter asks to be mirrored under, or undefined (with a warning through
 * `warn`) when it asks for nothing or for something invalid. `taken` holds the lower-cased names
 * the operation already declares.
 */
export function mirroredHeader(param: Obj, schema: JsonSchema, at: string, taken: Set<string>, warn: (at: string, problem: string) => void): string | undefined {
  const raw = param["x-mcp-header"];
  if (raw === undefined) return undefined;
  const where = `${at}/x-mcp-header`;
  if (typeof raw !== "string" || !TOKEN.test(raw)) return void warn(where, "must be a header name (letters, digits and !#$%&'*+-.^_`|~); ignored");
  const type = typeof schema === "object" ? schema.type : undefined;
  if (typeof type !== "string" || !MIRRORED_TYPES.has(type)) return void warn(where, `only a string, integer or boolean argument can be mirrored into a header (this one is ${JSON.stringify(type ?? "untyped")}); ignored`);
  const lower = raw.toLowerCase();
  if (taken.has(lower)) return void warn(where, `header name ${JSON.stringify(raw)} is already declared by another parameter of this operation (names are case-insensitive); ignored`);
  taken.add(lower);
  return raw;
}
