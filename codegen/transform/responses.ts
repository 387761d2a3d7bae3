/** Responses Object (§4.8.16) and Response Object (§4.8.17): the success response's media types and output schema. */
import { isObject } from "../load-spec.js";
import type { DefsSink } from "../schema.js";
import { SpecError, pointer } from "../spec-error.js";
import { cmp, type Ctx, type Obj, type RawOperation } from "./context.js";
import { mediaRank, rankMedia } from "./media-type.js";

/** The first exact 2xx code, else `2XX`. */
function successResponse(responses: Obj): string | undefined {
  const codes = Object.keys(responses);
  const exact = codes.filter((c) => /^2\d\d$/.test(c)).sort(cmp);
  if (exact.length > 0) return exact[0];
  return codes.find((c) => c.toUpperCase() === "2XX");
}

/** An output schema when the success response is a JSON object; its media types best first. */
export function buildOutput(raw: RawOperation, ctx: Ctx): { outputSchema?: Obj; responseMediaTypes: string[] } {
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
