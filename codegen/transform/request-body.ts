/** Request Body Object (§4.8.13): the body as flat arguments or one `body` argument, files as text or base64. */
import type { BodyBinding, JsonSchema } from "../descriptor.js";
import { isObject } from "../load-spec.js";
import { wrappedBecause } from "../body-shape.js";
import { claim } from "../naming.js";
import { pointer } from "../spec-error.js";
import { addWarning, kindOf, RELAXED } from "../warnings.js";
import { baseOf, shownAt, tryDeref, type Ctx, type Obj, type RawOperation } from "./context.js";
import { buildEncoding, mediaRank, rankMedia } from "./media-type.js";
import { withDescription, type InputSink } from "./parameter.js";

/** Adds the body's arguments to `sink` and returns how to assemble it, or undefined when there is no body. */
export function buildBody(raw: RawOperation, ctx: Ctx, sink: InputSink): BodyBinding | undefined {
  const { properties, required, argNames, warnings } = sink;
  if (raw.op.requestBody === undefined) return undefined;
  const at = `${raw.at}/requestBody`;
  // A body the spec does not describe usably is still sent: as JSON, any value, optional.
  const loose = (): BodyBinding => {
    const argument = claim(argNames.has("body") ? "request_body" : "body", argNames);
    properties[argument] = {};
    return { mediaType: "application/json", mode: "wrapped", argument, required: false };
  };
  const r = tryDeref(ctx, raw.op.requestBody, raw.itemUrl, at, warnings, RELAXED);
  if (!r) return loose();
  const body = r.value;
  const bAt = shownAt(ctx, r, at);
  const url = baseOf(r, raw.itemUrl);
  if (!isObject(body)) {
    addWarning(warnings, { pointer: bAt, problem: `requestBody must be an object, not ${kindOf(body)}; ${RELAXED}` });
    return loose();
  }
  if (!isObject(body.content) || Object.keys(body.content).length === 0) {
    addWarning(warnings, { pointer: bAt, problem: `requestBody has no content; ${RELAXED}` });
    return loose();
  }
  const mediaType = rankMedia(Object.keys(body.content))[0]!;
  const rawMedia = body.content[mediaType];
  if (!isObject(rawMedia)) addWarning(warnings, { pointer: pointer(`${bAt}/content`, mediaType), problem: `media type object must be an object, not ${kindOf(rawMedia)}; ${RELAXED}` });
  const media: Obj = isObject(rawMedia) ? rawMedia : {};
  const rank = mediaRank(mediaType);
  const bodyRequired = body.required === true;
  const schemaAt = pointer(`${bAt}/content`, mediaType, "schema");
  let schema: JsonSchema =
    media.schema !== undefined ? ctx.schemas.translateTop(media.schema, url, schemaAt, "request", sink) : rank <= 3 ? {} : { type: "string" };

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

/** A body flattens into top-level arguments only when nothing about it would be lost or clash (codegen/body-shape.ts). */
function canFlatten(schema: JsonSchema, argNames: Set<string>): boolean {
  return wrappedBecause(schema, argNames) === undefined;
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
