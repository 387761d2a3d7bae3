/** Responses Object (§4.8.16) and Response Object (§4.8.17): the success response's media types and output schema. */
import { isObject } from "../load-spec.js";
import { newSink } from "../schema.js";
import { pointer } from "../spec-error.js";
import { addWarning, kindOf, type SpecWarning } from "../warnings.js";
import { baseOf, cmp, shownAt, tryDeref, type Ctx, type Obj, type RawOperation } from "./context.js";
import { mediaRank, rankMedia } from "./media-type.js";

/** The first exact 2xx code, else `2XX`. */
function successResponse(responses: Obj): string | undefined {
  const codes = Object.keys(responses);
  const exact = codes.filter((c) => /^2\d\d$/.test(c)).sort(cmp);
  if (exact.length > 0) return exact[0];
  return codes.find((c) => c.toUpperCase() === "2XX");
}

const NO_OUTPUT = "no output schema";

/** An output schema when the success response is a JSON object; its media types best first. Problems go to `warnings`. */
export function buildOutput(raw: RawOperation, ctx: Ctx, warnings: SpecWarning[]): { outputSchema?: Obj; responseMediaTypes: string[] } {
  const responses = raw.op.responses;
  if (responses === undefined) return { responseMediaTypes: [] };
  if (!isObject(responses)) {
    addWarning(warnings, { pointer: `${raw.at}/responses`, problem: `responses must be an object, not ${kindOf(responses)}; ${NO_OUTPUT}` });
    return { responseMediaTypes: [] };
  }
  const code = successResponse(responses);
  if (code === undefined) return { responseMediaTypes: [] };
  const at = pointer(`${raw.at}/responses`, code);
  const r = tryDeref(ctx, responses[code], raw.itemUrl, at, warnings, NO_OUTPUT);
  if (!r) return { responseMediaTypes: [] };
  const resp = r.value;
  const rAt = shownAt(ctx, r, at);
  const url = baseOf(r, raw.itemUrl);
  if (!isObject(resp)) {
    addWarning(warnings, { pointer: rAt, problem: `response must be an object, not ${kindOf(resp)}; ${NO_OUTPUT}` });
    return { responseMediaTypes: [] };
  }
  if (!isObject(resp.content)) return { responseMediaTypes: [] };
  const types = rankMedia(Object.keys(resp.content));
  const best = types[0];
  if (best === undefined || mediaRank(best) !== 0) return { responseMediaTypes: types };
  const media = resp.content[best];
  if (!isObject(media) || media.schema === undefined) return { responseMediaTypes: types };
  const sink = newSink();
  const schema = ctx.schemas.translateTop(media.schema, url, pointer(`${rAt}/content`, best, "schema"), "response", sink);
  for (const w of sink.warnings) addWarning(warnings, w);
  if (typeof schema !== "object" || schema.type !== "object") return { responseMediaTypes: types };
  const out: Obj = { ...schema };
  const outDefs = ctx.schemas.buildDefs(sink, "response");
  for (const w of sink.warnings) addWarning(warnings, w);
  if (outDefs) out.$defs = outDefs;
  return { outputSchema: out, responseMediaTypes: types };
}
