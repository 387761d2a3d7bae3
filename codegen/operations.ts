/**
 * OpenAPI operations → ToolDescriptors. One function per OpenAPI object, in the order the
 * spec defines them: Paths/Path Item (§4.8.8-9), Operation (§4.8.10), Parameter (§4.8.12),
 * Request Body (§4.8.13), Media Type/Encoding (§4.8.14-15), Responses (§4.8.16),
 * Security Requirement (§4.8.30), Server (§4.8.5).
 */
import type {
  ArgumentBinding,
  BodyBinding,
  HttpBinding,
  JsonSchema,
  ParameterLocation,
  PropertyEncoding,
  SecurityScheme,
  ToolAnnotations,
  ToolDescriptor,
} from "./descriptor.js";
import type { LoadedSpec } from "./load-spec.js";
import { isObject } from "./load-spec.js";
import { ARGUMENT_NAME, TOOL_NAME, argumentName, claim, moduleName, nameFromRoute, snakeCase, fitName } from "./naming.js";
import { createResolver, type Resolver } from "./resolver.js";
import { evaluateRules, type Rule } from "./rules.js";
import { createSchemaTranslator, type DefsSink, type SchemaTranslator } from "./schema.js";
import { SpecError, pointer } from "./spec-error.js";
import { firstSentence, plain, titleFrom } from "./text.js";

type Obj = Record<string, unknown>;

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const LOCATIONS = new Set<ParameterLocation>(["path", "query", "header", "cookie"]);
/** Header parameters OpenAPI says to ignore (§4.8.12.1): they are set by the HTTP layer. */
const IGNORED_HEADERS = new Set(["accept", "content-type", "authorization"]);
/** Headers the gateway sets itself: a confirmed write carries its pending action's id as Idempotency-Key. */
const GATEWAY_HEADERS = new Set(["idempotency-key"]);
const RESERVED_FILES = new Set(["index", "types", "manifest", "upstream"]);

/** One excluded operation, as listed in the manifest. */
export interface ExcludedOperation {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  readonly reason: string;
}

/** One module: its tools share a file. */
export interface ModuleInfo {
  readonly name: string;
  readonly description: string;
  readonly file: string;
}

export interface BuildResult {
  readonly tools: readonly ToolDescriptor[];
  readonly excluded: readonly ExcludedOperation[];
  readonly modules: readonly ModuleInfo[];
}

interface RawOperation {
  readonly method: (typeof METHODS)[number];
  readonly path: string;
  readonly op: Obj;
  readonly item: Obj;
  readonly itemUrl: string;
  readonly at: string;
}

/** Builds every tool (and exclusion) of a loaded spec. */
export function buildTools(spec: LoadedSpec, rules: readonly Rule[]): BuildResult {
  const resolver = createResolver(spec);
  const schemas = createSchemaTranslator(resolver, spec.dialect, spec.rootUrl);
  const root = spec.root;
  const tagObjects = collectTags(root);
  const oauthPaths = collectOAuthPaths(root, resolver, spec.rootUrl);

  const raws = collectOperations(root, resolver, spec.rootUrl);
  const included: { raw: RawOperation; module: string; sensitive: boolean; base: string; explicit: boolean }[] = [];
  const excluded: ExcludedOperation[] = [];

  for (const raw of raws) {
    const { op, at } = raw;
    const method = raw.method.toUpperCase();
    const operationId = typeof op.operationId === "string" && op.operationId !== "" ? op.operationId : undefined;
    const tags = Array.isArray(op.tags) ? op.tags.filter((t): t is string => typeof t === "string") : [];
    const reason = explicitExclusion(raw, tags, tagObjects);
    const mediaTypes = operationMediaTypes(raw, resolver);
    const verdict = evaluateRules(rules, { method, path: raw.path, operationId, tags, mediaTypes, oauthEndpoint: oauthPaths.has(raw.path) });
    const optIn = op["x-mcp-exclude"] === false;
    const why = reason ?? (!optIn && verdict.exclude ? `${verdict.exclude.reason} (rule ${verdict.exclude.id})` : undefined);
    if (why !== undefined) {
      excluded.push({ operationId: operationId ?? nameFromRoute(method, raw.path), method, path: raw.path, reason: why });
      continue;
    }
    const mcpName = op["x-mcp-name"];
    if (mcpName !== undefined && (typeof mcpName !== "string" || !TOOL_NAME.test(mcpName))) {
      throw new SpecError(`${at}/x-mcp-name`, "must be a string matching [a-z0-9_]{1,64}");
    }
    const sensitive =
      op["x-mcp-sensitive"] === true || tags.some((t) => tagObjects.get(t)?.["x-mcp-sensitive"] === true) || (op["x-mcp-sensitive"] !== false && verdict.sensitive !== undefined);
    const base = typeof mcpName === "string" ? mcpName : operationId ? fitName(snakeCase(operationId) || nameFromRoute(method, raw.path)) : nameFromRoute(method, raw.path);
    included.push({ raw, module: moduleFor(raw, tags), sensitive, base, explicit: typeof mcpName === "string" });
  }

  // Names: explicit x-mcp-name first (a duplicate is an error), then derived names in path order.
  const taken = new Set<string>();
  const names = new Map<(typeof included)[number], string>();
  for (const inc of included) {
    if (!inc.explicit) continue;
    if (taken.has(inc.base)) throw new SpecError(`${inc.raw.at}/x-mcp-name`, `tool name ${JSON.stringify(inc.base)} is used twice`);
    taken.add(inc.base);
    names.set(inc, inc.base);
  }
  for (const inc of included) if (!inc.explicit) names.set(inc, claim(inc.base, taken));

  const tools = included.map((inc) => buildTool(inc.raw, names.get(inc)!, inc.module, inc.sensitive, { spec, resolver, schemas }));
  tools.sort((a, b) => cmp(a.name, b.name));
  excluded.sort((a, b) => cmp(a.path, b.path) || cmp(a.method, b.method));

  const moduleNames = [...new Set(tools.map((t) => t.module))].sort(cmp);
  const modules = moduleNames.map((name) => ({
    name,
    description: moduleDescription(name, root, tagObjects),
    file: `${RESERVED_FILES.has(name) ? `${name}_tools` : name}.ts`,
  }));
  return { tools, excluded, modules };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function collectTags(root: Obj): Map<string, Obj> {
  const tags = new Map<string, Obj>();
  if (Array.isArray(root.tags)) for (const t of root.tags) if (isObject(t) && typeof t.name === "string" && !tags.has(t.name)) tags.set(t.name, t);
  return tags;
}

/** Paths of OAuth 2 flow endpoints declared by the spec's own security schemes. */
function collectOAuthPaths(root: Obj, resolver: Resolver, rootUrl: string): Set<string> {
  const out = new Set<string>();
  const schemes = isObject(root.components) && isObject(root.components.securitySchemes) ? root.components.securitySchemes : {};
  for (const [name, s] of Object.entries(schemes)) {
    const scheme = resolver.deref(s, rootUrl, pointer("#/components/securitySchemes", name)).value;
    if (!isObject(scheme) || !isObject(scheme.flows)) continue;
    for (const flow of Object.values(scheme.flows)) {
      if (!isObject(flow)) continue;
      for (const k of ["authorizationUrl", "tokenUrl", "refreshUrl"]) {
        const u = flow[k];
        if (typeof u !== "string") continue;
        try {
          out.add(new URL(u, "http://relative.invalid").pathname);
        } catch {
          // An unparseable URL cannot match a path anyway.
        }
      }
    }
  }
  return out;
}

function collectOperations(root: Obj, resolver: Resolver, rootUrl: string): RawOperation[] {
  const out: RawOperation[] = [];
  const paths = isObject(root.paths) ? root.paths : {};
  for (const path of Object.keys(paths).sort(cmp)) {
    if (path.startsWith("x-")) continue; // Paths Object extensions (§4.8.8) are not routes.
    const at = pointer("#/paths", path);
    if (!path.startsWith("/")) throw new SpecError(at, "path must start with /");
    const resolved = resolver.deref(paths[path], rootUrl, at);
    const item = resolved.value;
    if (!isObject(item)) throw new SpecError(at, "path item must be an object");
    const itemAt = resolved.key === "" ? at : resolver.display(resolved.url, resolved.fragment);
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      if (!isObject(op)) throw new SpecError(pointer(itemAt, method), "operation must be an object");
      out.push({ method, path, op, item, itemUrl: resolved.url, at: pointer(itemAt, method) });
    }
  }
  return out;
}

function explicitExclusion(raw: RawOperation, tags: string[], tagObjects: Map<string, Obj>): string | undefined {
  const reasonOf = (v: unknown, where: string): string | undefined => {
    if (v === true) return `x-mcp-exclude on ${where}`;
    if (typeof v === "string" && v.trim() !== "") return v.trim();
    return undefined;
  };
  return (
    reasonOf(raw.op["x-mcp-exclude"], "the operation") ??
    reasonOf(raw.item["x-mcp-exclude"], "the path") ??
    tags.map((t) => reasonOf(tagObjects.get(t)?.["x-mcp-exclude"], `tag ${t}`)).find((r) => r !== undefined)
  );
}

/** Request and success-response media types (for the binary import/export rule). */
function operationMediaTypes(raw: RawOperation, resolver: Resolver): string[] {
  const out: string[] = [];
  try {
    if (raw.op.requestBody !== undefined) {
      const body = resolver.deref(raw.op.requestBody, raw.itemUrl, `${raw.at}/requestBody`).value;
      if (isObject(body) && isObject(body.content)) out.push(...Object.keys(body.content));
    }
    if (isObject(raw.op.responses)) {
      for (const [code, r] of Object.entries(raw.op.responses)) {
        if (!/^2/.test(code)) continue;
        const resp = resolver.deref(r, raw.itemUrl, pointer(`${raw.at}/responses`, code)).value;
        if (isObject(resp) && isObject(resp.content)) out.push(...Object.keys(resp.content));
      }
    }
  } catch {
    // Broken references are reported with their pointer when the tool is built.
  }
  return out;
}

function moduleFor(raw: RawOperation, tags: string[]): string {
  const explicit = raw.op["x-mcp-module"];
  if (explicit !== undefined) {
    if (typeof explicit !== "string" || snakeCase(explicit) === "") {
      throw new SpecError(`${raw.at}/x-mcp-module`, "must be a non-empty module name");
    }
    return moduleName(explicit);
  }
  if (tags.length > 0) return moduleName(tags[0]!);
  // Version and API prefixes (`/v1`, `/api`) say nothing about the module.
  const segment = raw.path.split("/").find((s) => s !== "" && !s.startsWith("{") && !/^(v\d+(\.\d+)*|api|rest)$/i.test(s));
  return segment ? moduleName(segment) : "default";
}

function moduleDescription(name: string, root: Obj, tags: Map<string, Obj>): string {
  for (const [tagName, t] of tags) {
    if (moduleName(tagName) !== name) continue;
    if (typeof t.description === "string" && t.description.trim()) return firstSentence(t.description);
    return tagName;
  }
  const info = isObject(root.info) ? root.info : {};
  return `Operations of ${typeof info.title === "string" ? info.title : "the API"} under ${name}`;
}

interface Ctx {
  readonly spec: LoadedSpec;
  readonly resolver: Resolver;
  readonly schemas: SchemaTranslator;
}

function buildTool(raw: RawOperation, name: string, module: string, sensitive: boolean, ctx: Ctx): ToolDescriptor {
  const { op, at } = raw;
  const method = raw.method.toUpperCase() as HttpBinding["method"];
  const defs: DefsSink = new Set();
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const argNames = new Set<string>();

  const args = buildArguments(raw, ctx, defs, properties, required, argNames);
  const body = buildBody(raw, ctx, defs, properties, required, argNames);

  const inputSchema: Obj = { type: "object", properties };
  if (required.length > 0) inputSchema.required = required;
  inputSchema.additionalProperties = false;
  const inputDefs = ctx.schemas.buildDefs(defs, "request");
  if (inputDefs) inputSchema.$defs = inputDefs;

  const { outputSchema, responseMediaTypes } = buildOutput(raw, ctx);
  const write = typeof op["x-mcp-write"] === "boolean" ? op["x-mcp-write"] : !READ_METHODS.has(method);
  if (op["x-mcp-write"] !== undefined && typeof op["x-mcp-write"] !== "boolean") throw new SpecError(`${at}/x-mcp-write`, "must be true or false");

  const summary = typeof op.summary === "string" && op.summary.trim() ? op.summary.trim() : undefined;
  const longText = typeof op.description === "string" && op.description.trim() ? op.description.trim() : undefined;
  const title = titleFrom(summary, name);
  const description = firstSentence(summary ?? longText ?? `${method} ${raw.path}`);
  const detailsText = [summary, longText].filter((x): x is string => x !== undefined).join("\n\n");
  const details = detailsText && plain(detailsText) !== description ? detailsText : undefined;

  const binding: HttpBinding = {
    method,
    path: raw.path,
    serverPath: serverPath(raw, ctx),
    arguments: args,
    ...(body ? { body } : {}),
    security: buildSecurity(raw, ctx),
    responseMediaTypes,
  };
  const operationId = typeof op.operationId === "string" && op.operationId !== "" ? op.operationId : undefined;
  return {
    name,
    title,
    description,
    ...(details !== undefined ? { details } : {}),
    module,
    ...(operationId !== undefined ? { operationId } : {}),
    inputSchema,
    ...(outputSchema ? { outputSchema } : {}),
    annotations: buildAnnotations(raw, title, method, write),
    binding,
    policy: { write, sensitive, excluded: false },
  };
}

/** Path-level then operation-level parameters; the operation's win on (name, in) (§4.8.10.1). */
function buildArguments(raw: RawOperation, ctx: Ctx, defs: DefsSink, properties: Record<string, JsonSchema>, required: string[], argNames: Set<string>): ArgumentBinding[] {
  const merged = new Map<string, { param: Obj; url: string; at: string }>();
  const lists: [unknown, string][] = [
    [raw.item.parameters, `${raw.at.slice(0, raw.at.lastIndexOf("/"))}/parameters`],
    [raw.op.parameters, `${raw.at}/parameters`],
  ];
  for (const [list, listAt] of lists) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new SpecError(listAt, "parameters must be a list");
    list.forEach((p, i) => {
      const at = `${listAt}/${i}`;
      const r = ctx.resolver.deref(p, raw.itemUrl, at);
      const param = r.value;
      const pAt = r.key === "" ? at : ctx.resolver.display(r.url, r.fragment);
      if (!isObject(param)) throw new SpecError(pAt, "parameter must be an object");
      if (typeof param.name !== "string" || param.name === "") throw new SpecError(pAt, "parameter has no name");
      if (typeof param.in !== "string" || !LOCATIONS.has(param.in as ParameterLocation)) {
        throw new SpecError(pAt, `parameter ${JSON.stringify(param.name)} has an invalid location ${JSON.stringify(param.in)} (path, query, header or cookie)`);
      }
      merged.set(`${param.in}:${param.name}`, { param, url: r.key === "" ? raw.itemUrl : r.url, at: pAt });
    });
  }

  const templateNames = [...raw.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  for (const t of templateNames) {
    if (!merged.has(`path:${t}`)) throw new SpecError(raw.at, `path template variable {${t}} has no path parameter`);
  }

  const out: ArgumentBinding[] = [];
  // Path parameters first (in template order), then the rest in spec order: stable and readable.
  const ordered = [...merged.values()].sort((a, b) => rank(a.param) - rank(b.param));
  function rank(p: Obj): number {
    if (p.in !== "path") return 1000;
    const i = templateNames.indexOf(p.name as string);
    return i === -1 ? 999 : i;
  }
  for (const { param, url, at } of ordered) {
    const wire = param.name as string;
    const location = param.in as ParameterLocation;
    if (location === "header" && (IGNORED_HEADERS.has(wire.toLowerCase()) || GATEWAY_HEADERS.has(wire.toLowerCase()))) continue;
    if (location === "path" && !templateNames.includes(wire)) continue;

    let schemaValue: unknown = param.schema;
    let schemaAt = `${at}/schema`;
    let contentType: string | undefined;
    if (param.schema === undefined) {
      if (!isObject(param.content) || Object.keys(param.content).length === 0) {
        throw new SpecError(at, "parameter has neither schema nor content");
      }
      contentType = Object.keys(param.content)[0]!;
      const media = param.content[contentType];
      schemaValue = isObject(media) && media.schema !== undefined ? media.schema : {};
      schemaAt = pointer(`${at}/content`, contentType, "schema");
    }
    let schema = ctx.schemas.translate(schemaValue, url, schemaAt, "request", defs);
    schema = withDescription(schema, typeof param.description === "string" ? param.description : undefined, param.deprecated === true);

    let argName = argumentName(wire);
    if (argNames.has(argName)) argName = fitName(`${argName}_${location}`);
    argName = claim(argName, argNames);
    properties[argName] = schema;
    const isRequired = location === "path" || param.required === true;
    if (isRequired) required.push(argName);

    const style = typeof param.style === "string" ? param.style : location === "query" || location === "cookie" ? "form" : "simple";
    const explode = typeof param.explode === "boolean" ? param.explode : style === "form";
    out.push({
      name: argName,
      in: location,
      wireName: wire,
      style,
      explode,
      allowReserved: location === "query" && param.allowReserved === true,
      required: isRequired,
      ...(contentType !== undefined ? { contentType } : {}),
    });
  }
  return out;
}

/** Adds a parameter's own description (it wins over the schema's) without mutating shared schemas. */
function withDescription(schema: JsonSchema, description: string | undefined, deprecated: boolean): JsonSchema {
  if (description === undefined && !deprecated) return schema;
  const base: Obj = typeof schema === "boolean" ? (schema ? {} : { not: {} }) : { ...schema };
  const out: Obj = {};
  if (description !== undefined && description.trim() !== "") out.description = description.trim();
  if (deprecated) out.deprecated = true;
  for (const [k, v] of Object.entries(base)) if (!(k in out)) out[k] = v;
  return out;
}

function mediaRank(mt: string): number {
  const m = mt.toLowerCase().split(";")[0]!.trim();
  if (m === "application/json" || /^application\/[^/]*\+json$/.test(m)) return 0;
  if (m === "application/x-www-form-urlencoded") return 1;
  if (m === "multipart/form-data") return 2;
  if (m.endsWith("/json") || m.includes("json")) return 3;
  if (m.startsWith("text/")) return 4;
  if (m === "*/*") return 6;
  return 5;
}

/** Media types ordered best-first for a tool: JSON, form, multipart, other JSON, text, the rest. */
function rankMedia(types: string[]): string[] {
  return types
    .map((t, i) => ({ t, i }))
    .sort((a, b) => mediaRank(a.t) - mediaRank(b.t) || a.i - b.i)
    .map((x) => x.t);
}

function isFileSchema(s: JsonSchema): boolean {
  if (typeof s !== "object") return false;
  const t = s.type;
  const isString = t === "string" || (Array.isArray(t) && t.includes("string"));
  if (isString && (s.format === "binary" || s.format === "byte" || typeof s.contentMediaType === "string")) return true;
  if ((t === "array" || (Array.isArray(t) && t.includes("array"))) && s.items !== undefined) return isFileSchema(s.items as JsonSchema);
  return false;
}

/** A file argument: text or base64 content (the runtime decides how to send it). */
function fileArgument(s: JsonSchema): JsonSchema {
  const o = s as Obj;
  if (o.type === "array" || (Array.isArray(o.type) && o.type.includes("array"))) return { ...o, items: fileArgument(o.items as JsonSchema) };
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (k !== "format" && k !== "contentMediaType") out[k] = v;
  const note = "File content: text, or base64-encoded bytes.";
  out.description = typeof o.description === "string" ? `${o.description} (${note})` : note;
  return out;
}

function buildBody(raw: RawOperation, ctx: Ctx, defs: DefsSink, properties: Record<string, JsonSchema>, required: string[], argNames: Set<string>): BodyBinding | undefined {
  if (raw.op.requestBody === undefined) return undefined;
  const at = `${raw.at}/requestBody`;
  const r = ctx.resolver.deref(raw.op.requestBody, raw.itemUrl, at);
  const body = r.value;
  const bAt = r.key === "" ? at : ctx.resolver.display(r.url, r.fragment);
  const url = r.key === "" ? raw.itemUrl : r.url;
  if (!isObject(body)) throw new SpecError(bAt, "requestBody must be an object");
  if (!isObject(body.content) || Object.keys(body.content).length === 0) throw new SpecError(bAt, "requestBody has no content");
  const mediaType = rankMedia(Object.keys(body.content))[0]!;
  const media = body.content[mediaType];
  if (!isObject(media)) throw new SpecError(pointer(`${bAt}/content`, mediaType), "media type object must be an object");
  const rank = mediaRank(mediaType);
  const bodyRequired = body.required === true;
  const schemaAt = pointer(`${bAt}/content`, mediaType, "schema");
  let schema: JsonSchema =
    media.schema !== undefined ? ctx.schemas.translateTop(media.schema, url, schemaAt, "request", defs) : rank <= 3 ? {} : { type: "string" };

  const encoding = buildEncoding(media, rank);
  const fileProperties: string[] = [];
  if (typeof schema === "object" && schema.type === "object" && isObject(schema.properties) && (rank === 1 || rank === 2)) {
    const props: Obj = { ...schema.properties };
    for (const [k, v] of Object.entries(props)) {
      if (isFileSchema(v as JsonSchema)) {
        fileProperties.push(k);
        props[k] = fileArgument(v as JsonSchema);
      }
    }
    if (fileProperties.length > 0) schema = { ...schema, properties: props };
  }
  if (rank >= 4 && typeof schema === "object" && schema.type === "string") {
    schema = fileArgument({ ...schema, description: typeof body.description === "string" ? body.description : "Raw request body." });
  }

  const flat = rank <= 3 && canFlatten(schema, argNames);
  if (flat) {
    const s = schema as Obj;
    const map: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.properties as Obj)) {
      properties[k] = v as JsonSchema;
      argNames.add(k);
      map[k] = k;
    }
    if (bodyRequired && Array.isArray(s.required)) for (const k of s.required as string[]) required.push(k);
    return {
      mediaType,
      mode: "flat",
      properties: map,
      required: bodyRequired,
      ...(encoding ? { encoding } : {}),
      ...(fileProperties.length > 0 ? { fileProperties } : {}),
    };
  }
  const argument = claim(argNames.has("body") ? "request_body" : "body", argNames);
  properties[argument] = withDescription(schema, typeof body.description === "string" ? body.description : undefined, false);
  if (bodyRequired) required.push(argument);
  return {
    mediaType,
    mode: "wrapped",
    argument,
    required: bodyRequired,
    ...(encoding ? { encoding } : {}),
    ...(fileProperties.length > 0 ? { fileProperties } : {}),
  };
}

const FLAT_BLOCKERS = ["anyOf", "oneOf", "allOf", "not", "if", "$ref", "patternProperties", "dependentSchemas", "dependentRequired", "unevaluatedProperties", "propertyNames", "minProperties", "maxProperties"];

/** A body flattens into top-level arguments only when nothing about it would be lost or clash. */
function canFlatten(schema: JsonSchema, argNames: Set<string>): boolean {
  if (typeof schema !== "object" || schema.type !== "object" || !isObject(schema.properties)) return false;
  const names = Object.keys(schema.properties);
  if (names.length === 0) return false;
  if (FLAT_BLOCKERS.some((k) => k in schema)) return false;
  if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) return false;
  return names.every((n) => ARGUMENT_NAME.test(n) && !argNames.has(n));
}

function buildEncoding(media: Obj, rank: number): Record<string, PropertyEncoding> | undefined {
  if (!isObject(media.encoding) || (rank !== 1 && rank !== 2)) return undefined;
  const out: Record<string, PropertyEncoding> = {};
  for (const name of Object.keys(media.encoding).sort(cmp)) {
    const e = media.encoding[name];
    if (!isObject(e)) continue;
    const style = typeof e.style === "string" ? e.style : "form";
    out[name] = {
      ...(typeof e.contentType === "string" ? { contentType: e.contentType } : {}),
      style,
      explode: typeof e.explode === "boolean" ? e.explode : style === "form",
      allowReserved: e.allowReserved === true,
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function successResponse(responses: Obj): string | undefined {
  const codes = Object.keys(responses);
  const exact = codes.filter((c) => /^2\d\d$/.test(c)).sort(cmp);
  if (exact.length > 0) return exact[0];
  return codes.find((c) => c.toUpperCase() === "2XX");
}

function buildOutput(raw: RawOperation, ctx: Ctx): { outputSchema?: Obj; responseMediaTypes: string[] } {
  const responses = raw.op.responses;
  if (responses === undefined) return { responseMediaTypes: [] };
  if (!isObject(responses)) throw new SpecError(`${raw.at}/responses`, "responses must be an object");
  const code = successResponse(responses);
  if (code === undefined) return { responseMediaTypes: [] };
  const at = pointer(`${raw.at}/responses`, code);
  const r = ctx.resolver.deref(responses[code], raw.itemUrl, at);
  const resp = r.value;
  const rAt = r.key === "" ? at : ctx.resolver.display(r.url, r.fragment);
  const url = r.key === "" ? raw.itemUrl : r.url;
  if (!isObject(resp)) throw new SpecError(rAt, "response must be an object");
  if (!isObject(resp.content)) return { responseMediaTypes: [] };
  const types = rankMedia(Object.keys(resp.content));
  const best = types[0];
  if (best === undefined || mediaRank(best) !== 0) return { responseMediaTypes: types };
  const media = resp.content[best];
  if (!isObject(media) || media.schema === undefined) return { responseMediaTypes: types };
  const defs: DefsSink = new Set();
  const schema = ctx.schemas.translateTop(media.schema, url, pointer(`${rAt}/content`, best, "schema"), "response", defs);
  if (typeof schema !== "object" || schema.type !== "object") return { responseMediaTypes: types };
  const out: Obj = { ...schema };
  const outDefs = ctx.schemas.buildDefs(defs, "response");
  if (outDefs) out.$defs = outDefs;
  return { outputSchema: out, responseMediaTypes: types };
}

function buildSecurity(raw: RawOperation, ctx: Ctx): SecurityScheme[][] {
  const root = ctx.spec.root;
  const fromOp = raw.op.security !== undefined;
  const reqs = fromOp ? raw.op.security : root.security;
  const at = fromOp ? `${raw.at}/security` : "#/security";
  if (reqs === undefined) return [];
  if (!Array.isArray(reqs)) throw new SpecError(at, "security must be a list of requirement objects");
  const schemes = isObject(root.components) && isObject(root.components.securitySchemes) ? root.components.securitySchemes : {};
  return reqs.map((req, i) => {
    if (!isObject(req)) throw new SpecError(`${at}/${i}`, "security requirement must be an object");
    return Object.keys(req)
      .sort(cmp)
      .map((name): SecurityScheme => {
        if (!Object.hasOwn(schemes, name)) throw new SpecError(pointer(`${at}/${i}`, name), `security scheme ${JSON.stringify(name)} is not defined in components.securitySchemes`);
        const sAt = pointer("#/components/securitySchemes", name);
        const s = ctx.resolver.deref(schemes[name], ctx.spec.rootUrl, sAt).value;
        if (!isObject(s) || typeof s.type !== "string") throw new SpecError(sAt, "security scheme has no type");
        const type = s.type as SecurityScheme["type"];
        if (!["http", "apiKey", "oauth2", "openIdConnect", "mutualTLS"].includes(type)) throw new SpecError(`${sAt}/type`, `unknown security scheme type ${JSON.stringify(s.type)}`);
        const scopes = Array.isArray(req[name]) ? (req[name] as unknown[]).filter((x): x is string => typeof x === "string") : [];
        return {
          name,
          type,
          ...(type === "http" && typeof s.scheme === "string" ? { scheme: s.scheme.toLowerCase() } : {}),
          ...(type === "apiKey" && (s.in === "header" || s.in === "query" || s.in === "cookie") ? { in: s.in } : {}),
          ...(type === "apiKey" && typeof s.name === "string" ? { paramName: s.name } : {}),
          scopes,
        };
      });
  });
}

/** Base path of the first applicable server URL, with variables set to their defaults. */
function serverPath(raw: RawOperation, ctx: Ctx): string {
  const pick = (v: unknown): Obj | undefined => (Array.isArray(v) && isObject(v[0]) ? v[0] : undefined);
  const server = pick(raw.op.servers) ?? pick(raw.item.servers) ?? pick(ctx.spec.root.servers);
  if (!server || typeof server.url !== "string") return "";
  const vars = isObject(server.variables) ? server.variables : {};
  const url = server.url.replace(/\{([^}]+)\}/g, (_m, v: string) => {
    const d = isObject(vars[v]) ? vars[v].default : undefined;
    return typeof d === "string" ? d : "";
  });
  let p: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      p = new URL(url).pathname;
    } catch {
      return "";
    }
  } else {
    p = url.split(/[?#]/)[0]!;
    if (p.startsWith("//")) p = p.replace(/^\/\/[^/]*/, "");
  }
  p = p.replace(/\/+$/, "");
  return p === "" || p === "/" ? "" : p.startsWith("/") ? p : `/${p}`;
}

function buildAnnotations(raw: RawOperation, title: string, method: string, write: boolean): ToolAnnotations {
  const base = {
    title,
    readOnlyHint: !write,
    destructiveHint: method === "DELETE",
    idempotentHint: READ_METHODS.has(method) || method === "PUT" || method === "DELETE",
    openWorldHint: true,
  };
  const o = raw.op["x-mcp-annotations"];
  if (o === undefined) return base;
  const at = `${raw.at}/x-mcp-annotations`;
  if (!isObject(o)) throw new SpecError(at, "must be an object of MCP tool annotations");
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(o)) {
    if (k === "title") {
      if (typeof v !== "string") throw new SpecError(`${at}/title`, "must be a string");
    } else if (["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"].includes(k)) {
      if (typeof v !== "boolean") throw new SpecError(pointer(at, k), "must be true or false");
    } else throw new SpecError(pointer(at, k), "is not an MCP tool annotation (title, readOnlyHint, destructiveHint, idempotentHint, openWorldHint)");
    out[k] = v;
  }
  return out as ToolAnnotations;
}
