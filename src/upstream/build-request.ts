/**
 * Builds the upstream HTTP request from a tool's binding and its (validated) arguments,
 * following OpenAPI's parameter serialization rules (OpenAPI 3.1 §4.8.12.4, style values).
 * Every value is percent-encoded for its position: no argument can change the path, add a query
 * parameter or inject a header.
 */
import type { ArgumentBinding, BodyBinding, SecurityScheme, ToolDescriptor } from "../../codegen/descriptor.js";
import { GatewayError } from "../errors.js";

/** What to send, ready for fetch. */
export interface BuiltRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array | FormData;
}

/** Where and with what credential the request goes. */
export interface BuildOptions {
  /** Upstream base URL (origin, optionally with a path that replaces the spec's server base path). */
  readonly baseUrl: string;
  /** When set, replaces the spec's server base path (`""` or `/`: none), whatever the base URL's path. */
  readonly basePath?: string;
  /** Upstream credential, applied as the operation's security scheme requires. */
  readonly credential?: string;
  readonly idempotencyKey?: string;
  readonly ifMatch?: string;
}

type Dict = Record<string, unknown>;

const isObject = (v: unknown): v is Dict => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** RFC 3986 unreserved characters stay; everything else is percent-encoded. */
function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** allowReserved: reserved characters pass through, except those that would break the query's structure. */
function encReserved(s: string): string {
  return enc(s).replace(/%(3A|2F|3F|5B|5D|40|21|24|27|28|29|2A|2C|3B)/g, (m) => decodeURIComponent(m));
}

function scalar(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return JSON.stringify(v);
}

function invalid(message: string, argument?: string): GatewayError {
  return new GatewayError("invalid_arguments", message, argument ? { details: { argument } } : undefined);
}

/** In a `u` regex a surrogate pair is one code point, so only an unpaired half matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/** The first string (key or value) in `v` with a lone surrogate: its path and the offending code unit. */
function findLoneSurrogate(v: unknown, path: string, depth = 0): { path: string; at: number; unit: number } | undefined {
  if (typeof v === "string") {
    const m = LONE_SURROGATE.exec(v);
    return m ? { path, at: m.index, unit: v.charCodeAt(m.index) } : undefined;
  }
  if (typeof v !== "object" || v === null || v instanceof Uint8Array || depth > 64) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const found = findLoneSurrogate(v[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    const inKey = findLoneSurrogate(k, path, depth + 1);
    if (inKey) return inKey;
    const found = findLoneSurrogate(x, `${path}.${k}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses a value with a lone UTF-16 surrogate where it would be percent-encoded or sent as text:
 * encodeURIComponent throws on one, and FormData, Buffer and header encoding replace it with U+FFFD,
 * so the upstream would never see what the caller sent. (JSON bodies carry it as a `\uD800` escape.)
 */
function assertWellFormed(v: unknown, argument: string): void {
  const found = findLoneSurrogate(v, argument);
  if (!found) return;
  const unit = found.unit.toString(16).toUpperCase();
  throw new GatewayError(
    "invalid_arguments",
    `${found.path}: contains a lone UTF-16 surrogate (U+${unit} at index ${found.at}), which cannot be sent upstream; send well-formed Unicode text`,
    { details: { argument, path: found.path, reason: "lone_surrogate" } },
  );
}

const encLabel = (s: string) => enc(s).replace(/\./g, "%2E");

/** Path parameters: simple (default), label, matrix. */
function serializePath(b: ArgumentBinding, v: unknown): string {
  const style = b.style || "simple";
  if (b.contentType) return enc(JSON.stringify(v));
  // Label style separates with "."; a "." inside a value must not read as one.
  const encode = style === "label" ? encLabel : enc;
  const name = style === "matrix" ? encode(b.wireName) : "";
  if (Array.isArray(v)) {
    const items = v.map((x) => encode(scalar(x)));
    if (style === "label") return "." + items.join(b.explode ? "." : ",");
    if (style === "matrix") return b.explode ? items.map((i) => `;${name}=${i}`).join("") : `;${name}=${items.join(",")}`;
    return items.join(",");
  }
  if (isObject(v)) {
    const pairs = Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [encode(k), encode(scalar(x))] as const);
    if (style === "label") return "." + (b.explode ? pairs.map(([k, x]) => `${k}=${x}`).join(".") : pairs.flat().join(","));
    if (style === "matrix") return b.explode ? pairs.map(([k, x]) => `;${k}=${x}`).join("") : `;${name}=${pairs.flat().join(",")}`;
    return b.explode ? pairs.map(([k, x]) => `${k}=${x}`).join(",") : pairs.flat().join(",");
  }
  const s = encode(scalar(v));
  if (style === "label") return `.${s}`;
  if (style === "matrix") return `;${name}=${s}`;
  return s;
}

/** deepObject: name[key][sub]=value, arrays by index. */
function deepObject(prefix: string, v: unknown, out: string[], encValue: (s: string) => string): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) v.forEach((x, i) => deepObject(`${prefix}[${i}]`, x, out, encValue));
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) deepObject(`${prefix}[${enc(k)}]`, x, out, encValue);
  else out.push(`${prefix}=${encValue(scalar(v))}`);
}

/**
 * spaceDelimited and pipeDelimited join with an encoded space or pipe (`%20`, `%7C`), which is also
 * how a space or pipe inside a value is encoded: the upstream could not tell them apart.
 */
function refuseDelimiter(wireName: string, style: string, v: unknown[] | Dict): void {
  const delimiter = style === "spaceDelimited" ? " " : "|";
  const items = Array.isArray(v) ? v.map((x, i) => [`[${i}]`, x] as const) : Object.entries(v).flatMap(([k, x]) => [[`.${k}`, k], [`.${k}`, x]] as const);
  for (const [at, x] of items) {
    if (x !== undefined && x !== null && scalar(x).includes(delimiter)) {
      throw invalid(`${wireName}${at}: contains '${delimiter}', which ${style} style uses to separate values`, wireName);
    }
  }
}

/** Query-string style serialization of one named value (also used for form bodies). */
function serializeForm(
  wireName: string,
  v: unknown,
  style: string,
  explode: boolean,
  allowReserved: boolean,
  contentType: string | undefined,
  out: string[],
): void {
  if (v === undefined || v === null) return;
  const encValue = allowReserved ? encReserved : enc;
  const name = enc(wireName);
  if (contentType) {
    out.push(`${name}=${encValue(typeof v === "string" ? v : JSON.stringify(v))}`);
    return;
  }
  if (style === "deepObject") {
    if (isObject(v) || Array.isArray(v)) deepObject(name, v, out, encValue);
    else out.push(`${name}=${encValue(scalar(v))}`);
    return;
  }
  const sep = style === "spaceDelimited" ? "%20" : style === "pipeDelimited" ? "%7C" : ",";
  if (sep !== "," && (Array.isArray(v) || isObject(v))) refuseDelimiter(wireName, style, v);
  if (Array.isArray(v)) {
    if (v.length === 0) return;
    const items = v.map((x) => encValue(scalar(x)));
    if (style === "form" && explode) for (const i of items) out.push(`${name}=${i}`);
    else out.push(`${name}=${items.join(sep)}`);
    return;
  }
  if (isObject(v)) {
    const pairs = Object.entries(v).filter(([, x]) => x !== undefined && x !== null);
    if (style === "form" && explode) for (const [k, x] of pairs) out.push(`${enc(k)}=${encValue(scalar(x))}`);
    else out.push(`${name}=${pairs.map(([k, x]) => `${enc(k)}${sep}${encValue(scalar(x))}`).join(sep)}`);
    return;
  }
  out.push(`${name}=${encValue(scalar(v))}`);
}

const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Header parameters: simple style, no percent-encoding, so CR/LF and non-Latin-1 are refused. */
function serializeHeader(b: ArgumentBinding, v: unknown): string {
  let s: string;
  if (b.contentType) s = JSON.stringify(v);
  else if (Array.isArray(v)) s = v.map(scalar).join(",");
  else if (isObject(v)) {
    const pairs = Object.entries(v).filter(([, x]) => x !== undefined);
    s = b.explode ? pairs.map(([k, x]) => `${k}=${scalar(x)}`).join(",") : pairs.map(([k, x]) => `${k},${scalar(x)}`).join(",");
  } else s = scalar(v);
  if (/[\r\n\0]/.test(s)) throw invalid(`Argument '${b.name}' (header ${b.wireName}) must not contain CR, LF or NUL characters`, b.name);
  if (!HEADER_VALUE.test(s)) throw invalid(`Argument '${b.name}' (header ${b.wireName}) contains characters a header cannot carry`, b.name);
  return s;
}

/** Headers the gateway owns; a spec parameter of the same name is not sent. */
const RESERVED_HEADERS = new Set(["host", "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade", "te", "trailer", "proxy-authorization", "expect"]);

/** Decodes base64 (standard or URL-safe, optionally a data: URL); refuses anything else. */
export function decodeBase64(value: string, argument: string): Uint8Array {
  const raw = value.startsWith("data:") ? value.slice(value.indexOf(",") + 1) : value;
  const compact = raw.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) || compact.replace(/=+$/, "").length % 4 === 1) {
    throw invalid(`Argument '${argument}' must be base64-encoded`, argument);
  }
  return new Uint8Array(Buffer.from(compact, compact.includes("-") || compact.includes("_") ? "base64url" : "base64"));
}

/** The schema of one body property, looked up through the binding (flat or wrapped). */
function bodyPropertySchema(tool: ToolDescriptor, body: BodyBinding, prop: string): Dict | undefined {
  const props = (tool.inputSchema as Dict).properties as Dict | undefined;
  if (!props) return undefined;
  if (body.mode === "flat") {
    const arg = Object.entries(body.properties ?? {}).find(([, p]) => p === prop)?.[0];
    return arg ? (props[arg] as Dict | undefined) : undefined;
  }
  const wrapped = props[body.argument ?? "body"] as Dict | undefined;
  return (wrapped?.properties as Dict | undefined)?.[prop] as Dict | undefined;
}

function bodyValue(body: BodyBinding, args: Dict): unknown {
  if (body.mode === "wrapped") return args[body.argument ?? "body"];
  const obj: Dict = {};
  for (const [arg, prop] of Object.entries(body.properties ?? {})) if (args[arg] !== undefined) obj[prop] = args[arg];
  return Object.keys(obj).length > 0 || body.required ? obj : undefined;
}

const isJson = (mt: string) => /^application\/([\w.+-]+\+)?json\b/.test(mt) || mt === "application/json";
const isText = (mt: string) => mt.startsWith("text/") || /xml|yaml|javascript|csv/.test(mt);

/** One multipart file part: a string (base64 when the schema says so, else text) or { base64|text, filename, contentType }. */
function filePart(tool: ToolDescriptor, body: BodyBinding, prop: string, v: unknown): Blob & { filename: string } {
  const schema = bodyPropertySchema(tool, body, prop);
  const itemSchema = (schema?.type === "array" ? schema.items : schema) as Dict | undefined;
  const declaredType = body.encoding?.[prop]?.contentType?.split(",")[0]?.trim();
  let bytes: Uint8Array | string;
  let filename = prop;
  let type = declaredType && !declaredType.includes("*") ? declaredType : "application/octet-stream";
  if (isObject(v)) {
    if (typeof v.filename === "string") filename = v.filename;
    if (typeof v.contentType === "string") type = v.contentType;
    if (typeof v.base64 === "string") bytes = decodeBase64(v.base64, prop);
    else if (typeof v.text === "string") bytes = v.text;
    else throw invalid(`File argument '${prop}' needs 'base64' or 'text'`, prop);
  } else if (typeof v === "string") {
    bytes = itemSchema?.contentEncoding === "base64" ? decodeBase64(v, prop) : v;
  } else throw invalid(`File argument '${prop}' must be a string (base64 or text)`, prop);
  const blob = new Blob([bytes as BlobPart], { type }) as Blob & { filename: string };
  blob.filename = filename;
  return blob;
}

function multipartBody(tool: ToolDescriptor, body: BodyBinding, value: unknown): FormData {
  if (!isObject(value)) throw invalid("The multipart body must be an object", body.argument);
  const form = new FormData();
  const files = new Set(body.fileProperties ?? []);
  for (const [prop, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const values = Array.isArray(v) && (files.has(prop) || v.every((x) => typeof x !== "object")) ? v : [v];
    for (const item of values) {
      if (files.has(prop)) {
        const part = filePart(tool, body, prop, item);
        form.append(prop, part, part.filename);
      } else if (typeof item === "object") {
        form.append(prop, new Blob([JSON.stringify(item)], { type: body.encoding?.[prop]?.contentType ?? "application/json" }), "");
      } else form.append(prop, scalar(item));
    }
  }
  return form;
}

function formBody(body: BodyBinding, value: unknown): string {
  if (!isObject(value)) throw invalid("The form body must be an object", body.argument);
  const out: string[] = [];
  for (const [prop, v] of Object.entries(value)) {
    const e = body.encoding?.[prop];
    // Objects without an explicit encoding use brackets: what form-encoded APIs (Stripe, Rails, PHP) expect.
    const style = e?.style ?? (isObject(v) ? "deepObject" : "form");
    const contentType = e?.contentType && isJson(e.contentType) ? e.contentType : undefined;
    serializeForm(prop, v, style, e?.explode ?? true, e?.allowReserved ?? false, contentType, out);
  }
  return out.join("&");
}

/** Builds the body and its Content-Type (none for multipart: fetch adds the boundary). */
function buildBody(tool: ToolDescriptor, args: Dict): { body?: BuiltRequest["body"]; contentType?: string } {
  const body = tool.binding.body;
  if (!body) return {};
  const value = bodyValue(body, args);
  if (value === undefined) {
    if (body.required) throw invalid(`A request body is required ('${body.argument ?? "body"}')`, body.argument);
    return {};
  }
  const mt = body.mediaType.toLowerCase();
  if (!isJson(mt)) {
    if (body.mode === "wrapped") assertWellFormed(value, body.argument ?? "body");
    else for (const arg of Object.keys(body.properties ?? {})) assertWellFormed(args[arg], arg);
  }
  if (isJson(mt)) return { body: JSON.stringify(value), contentType: body.mediaType };
  if (mt === "application/x-www-form-urlencoded") return { body: formBody(body, value), contentType: body.mediaType };
  if (mt.startsWith("multipart/")) return { body: multipartBody(tool, body, value) };
  if (isText(mt)) return { body: typeof value === "string" ? value : JSON.stringify(value), contentType: body.mediaType };
  if (typeof value !== "string") throw invalid(`Argument '${body.argument ?? "body"}' must be a base64 string (${body.mediaType})`, body.argument);
  return { body: decodeBase64(value, body.argument ?? "body"), contentType: body.mediaType.includes("*") ? "application/octet-stream" : body.mediaType };
}

const supported = (s: SecurityScheme) =>
  s.type === "oauth2" || s.type === "openIdConnect" || (s.type === "http" && /^(bearer|basic)$/i.test(s.scheme ?? "")) || (s.type === "apiKey" && !!s.paramName);

/** Applies the service (or token's own) credential the way the operation's first satisfiable requirement asks. */
function applySecurity(tool: ToolDescriptor, credential: string | undefined, headers: Record<string, string>, query: string[], cookies: string[]): void {
  if (!credential || tool.binding.security.length === 0) return;
  const alternative = tool.binding.security.find((alt) => alt.length > 0 && alt.every(supported));
  if (!alternative) return;
  if (/[\r\n\0]/.test(credential)) throw new GatewayError("internal", "upstream credential contains CR/LF", { expose: false });
  for (const s of alternative) {
    if (s.type === "apiKey") {
      if (s.in === "query") query.push(`${enc(s.paramName!)}=${enc(credential)}`);
      else if (s.in === "cookie") cookies.push(`${s.paramName}=${enc(credential)}`);
      else headers[s.paramName!.toLowerCase()] = credential;
    } else if (s.type === "http" && /^basic$/i.test(s.scheme ?? "")) {
      headers.authorization = `Basic ${credential.includes(":") ? Buffer.from(credential).toString("base64") : credential}`;
    } else headers.authorization = `Bearer ${credential}`;
  }
}

/** The configured base URL, parsed once (it is the same on every call). */
let parsedBase: { url: string; origin: string; path: string } | undefined;
function parseBase(baseUrl: string): { origin: string; path: string } {
  if (parsedBase?.url !== baseUrl) {
    const u = new URL(baseUrl);
    parsedBase = { url: baseUrl, origin: u.origin, path: u.pathname.replace(/\/+$/, "") };
  }
  return parsedBase;
}

/** The Accept header of a binding, built once per binding. */
const acceptOf = new WeakMap<ToolDescriptor["binding"], string>();
function accept(binding: ToolDescriptor["binding"]): string {
  let value = acceptOf.get(binding);
  if (value === undefined) acceptOf.set(binding, (value = [...binding.responseMediaTypes, "*/*;q=0.1"].join(", ")));
  return value;
}

/** Joins base URL, server base path and the expanded path template. */
function joinUrl(baseUrl: string, basePathOverride: string | undefined, serverPath: string, path: string, query: string[]): string {
  const base = parseBase(baseUrl);
  const basePath = base.path;
  // An upstream URL with its own path replaces the spec's server base path (a proxy prefix or the same /v1).
  const prefix = basePathOverride !== undefined ? `${basePath}${basePathOverride.replace(/\/+$/, "")}` : basePath !== "" ? basePath : serverPath.replace(/\/+$/, "");
  return `${base.origin}${prefix}${path}${query.length ? `?${query.join("&")}` : ""}`;
}

/**
 * A form-exploded object's keys become parameters of their own (`?k1=v1&k2=v2`, or cookies): a key
 * named like another parameter of the operation in the same place (or its API key there) would
 * smuggle a value into it.
 */
function refuseCollidingKeys(binding: ToolDescriptor["binding"], b: ArgumentBinding, v: Dict): void {
  const taken = new Set<string>();
  for (const a of binding.arguments) if (a.in === b.in && a !== b) taken.add(a.wireName);
  for (const alt of binding.security) for (const s of alt) if (s.type === "apiKey" && s.in === b.in && s.paramName) taken.add(s.paramName);
  for (const k of Object.keys(v)) {
    if (taken.has(k) && v[k] !== undefined && v[k] !== null) {
      throw invalid(`${b.name}: key '${k}' would be sent as the ${b.in} parameter '${k}', which is another parameter of this operation`, b.name);
    }
  }
}

/** Builds the upstream request; throws GatewayError("invalid_arguments") for values that cannot be sent safely. */
export function buildRequest(tool: ToolDescriptor, args: Readonly<Record<string, unknown>>, options: BuildOptions): BuiltRequest {
  const binding = tool.binding;
  const headers: Record<string, string> = {};
  const query: string[] = [];
  const cookies: string[] = [];
  const pathValues = new Map<string, string>();

  for (const b of binding.arguments) {
    const v = args[b.name];
    if (v === undefined || v === null) {
      if (b.in === "path") throw invalid(`Missing path argument '${b.name}'`, b.name);
      continue;
    }
    assertWellFormed(v, b.name);
    switch (b.in) {
      case "path": {
        const s = serializePath(b, v);
        if (s === "") throw invalid(`Path argument '${b.name}' must not be empty`, b.name);
        pathValues.set(b.wireName, s);
        break;
      }
      case "query":
        if ((b.style || "form") === "form" && b.explode && !b.contentType && isObject(v)) refuseCollidingKeys(binding, b, v);
        serializeForm(b.wireName, v, b.style || "form", b.explode, b.allowReserved, b.contentType, query);
        break;
      case "header":
        if (!RESERVED_HEADERS.has(b.wireName.toLowerCase())) headers[b.wireName.toLowerCase()] = serializeHeader(b, v);
        break;
      case "cookie": {
        if (b.explode && !b.contentType && isObject(v)) refuseCollidingKeys(binding, b, v);
        const parts: string[] = [];
        serializeForm(b.wireName, v, "form", b.explode, false, b.contentType, parts);
        cookies.push(...parts);
        break;
      }
    }
  }

  const path = binding.path.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
    const s = pathValues.get(name);
    if (s === undefined) throw invalid(`Missing path argument '${name}'`, name);
    return s;
  });
  // Dot segments would be collapsed by URL parsing (even percent-encoded), letting a value climb the path.
  if (path.split("/").some((seg) => /^(\.|%2e){1,2}$/i.test(seg))) {
    throw invalid("A path argument must not be '.' or '..'");
  }

  const { body, contentType } = buildBody(tool, args as Dict);
  applySecurity(tool, options.credential, headers, query, cookies);
  if (contentType) headers["content-type"] = contentType;
  if (cookies.length) headers.cookie = cookies.join("; ");
  if (binding.responseMediaTypes.length) headers.accept = accept(binding);
  if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
  if (options.ifMatch) headers["if-match"] = options.ifMatch;

  return { method: binding.method, url: joinUrl(options.baseUrl, options.basePath, binding.serverPath, path, query), headers, body };
}
