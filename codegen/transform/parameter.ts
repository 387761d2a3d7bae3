/** Parameter Object (§4.8.12): path, query, header and cookie arguments, merged path-level then operation-level. */
import type { ArgumentBinding, JsonSchema, ParameterLocation } from "../descriptor.js";
import { isObject } from "../load-spec.js";
import { argumentName, claim, fitName } from "../naming.js";
import type { DefsSink } from "../schema.js";
import { pointer } from "../spec-error.js";
import { addWarning, kindOf, RELAXED } from "../warnings.js";
import { baseOf, shownAt, tryDeref, type Ctx, type Obj, type RawOperation } from "./context.js";
import { mirroredHeader } from "./mcp-header.js";

const LOCATIONS = new Set<ParameterLocation>(["path", "query", "header", "cookie"]);
/** Header parameters OpenAPI says to ignore (§4.8.12.1): they are set by the HTTP layer. */
const IGNORED_HEADERS = new Set(["accept", "content-type", "authorization"]);
/** Headers the gateway sets itself: a confirmed write carries its pending action's id as Idempotency-Key. */
const GATEWAY_HEADERS = new Set(["idempotency-key"]);

/** Where a tool's arguments go: the input schema's properties and required list, and the names already used. */
export interface InputSink extends DefsSink {
  readonly properties: Record<string, JsonSchema>;
  readonly required: string[];
  readonly argNames: Set<string>;
}

/** Path-level then operation-level parameters; the operation's win on (name, in) (§4.8.10.1). */
export function buildArguments(raw: RawOperation, ctx: Ctx, sink: InputSink): ArgumentBinding[] {
  const { properties, required, argNames, warnings } = sink;
  const warn = (at: string, problem: string): void => addWarning(warnings, { pointer: at, problem });
  const merged = new Map<string, { param: Obj; url: string; at: string }>();
  const lists: [unknown, string][] = [
    [raw.item.parameters, `${raw.at.slice(0, raw.at.lastIndexOf("/"))}/parameters`],
    [raw.op.parameters, `${raw.at}/parameters`],
  ];
  for (const [list, listAt] of lists) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      warn(listAt, `parameters must be a list, not ${kindOf(list)}; ignored`);
      continue;
    }
    const seen = new Set<string>();
    list.forEach((p, i) => {
      const at = `${listAt}/${i}`;
      const r = tryDeref(ctx, p, raw.itemUrl, at, warnings, "parameter ignored");
      if (!r) return;
      const param = r.value;
      const pAt = shownAt(ctx, r, at);
      if (!isObject(param)) return warn(pAt, `parameter must be an object, not ${kindOf(param)}; ignored`);
      if (typeof param.name !== "string" || param.name === "") return warn(pAt, "parameter has no name; ignored");
      if (typeof param.in !== "string" || !LOCATIONS.has(param.in as ParameterLocation)) {
        return warn(pAt, `parameter ${JSON.stringify(param.name)} has an invalid location ${JSON.stringify(param.in)} (path, query, header or cookie); ignored`);
      }
      const key = `${param.in}:${param.name}`;
      // A list must not repeat (name, in) (§4.8.10.1); the later one wins, as before it was checked.
      if (seen.has(key)) warn(pAt, `duplicate parameter ${JSON.stringify(param.name)} in ${param.in}; the later one is used`);
      seen.add(key);
      merged.set(key, { param, url: baseOf(r, raw.itemUrl), at: pAt });
    });
  }

  const templateNames = [...raw.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  for (const t of templateNames) {
    if (merged.has(`path:${t}`)) continue;
    warn(raw.at, `path template variable {${t}} has no path parameter; a required string argument was added`);
    merged.set(`path:${t}`, { param: { name: t, in: "path", required: true, schema: { type: "string" } }, url: raw.itemUrl, at: raw.at });
  }

  const out: ArgumentBinding[] = [];
  const mirrored = new Set<string>();
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
        warn(at, `parameter has neither schema nor content; ${RELAXED}`);
        schemaValue = {};
      } else {
        contentType = Object.keys(param.content)[0]!;
        const media = param.content[contentType];
        schemaValue = isObject(media) && media.schema !== undefined ? media.schema : {};
        schemaAt = pointer(`${at}/content`, contentType, "schema");
      }
    }
    let schema = ctx.schemas.translate(schemaValue, url, schemaAt, "request", sink);
    schema = withDescription(schema, typeof param.description === "string" ? param.description : undefined, param.deprecated === true);
    const header = mirroredHeader(param, schema, at, mirrored, warn);
    if (header !== undefined) schema = { ...(schema as Obj), "x-mcp-header": header };

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
export function withDescription(schema: JsonSchema, description: string | undefined, deprecated: boolean): JsonSchema {
  if (description === undefined && !deprecated) return schema;
  const base: Obj = typeof schema === "boolean" ? (schema ? {} : { not: {} }) : { ...schema };
  const out: Obj = {};
  if (description !== undefined && description.trim() !== "") out.description = description.trim();
  if (deprecated) out.deprecated = true;
  for (const [k, v] of Object.entries(base)) if (!(k in out)) out[k] = v;
  return out;
}
