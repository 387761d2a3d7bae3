/**
 * Request (and, for tests, response) validation against the spec with ajv. The whole document is
 * registered once under `urn:spec` and every schema is compiled by JSON pointer, so `$ref`s between
 * components resolve without copying or dereferencing the spec.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { deref, type LoadedSpec, type Schema, type SpecOperation, type SpecParameter } from "./spec.js";
import { typeOf } from "./synth.js";

// ajv-formats ships CommonJS with a default export property.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: unknown) => void;

/** One validation problem, shaped for a problem+json `errors` list. */
export interface Problem {
  in: "path" | "query" | "header" | "body";
  /** Parameter name, or a JSON pointer into the body. */
  name: string;
  message: string;
}

/** The result of validating one value. */
export type Check = { ok: true } | { ok: false; errors: ErrorObject[] };

/** Rewrites OpenAPI 3.0-isms ajv rejects (`nullable` without `type`). Returns a deep copy. */
function normalize30(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalize30);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = normalize30(v);
  if (out.nullable === true && out.type === undefined && (out.$ref || out.allOf || out.oneOf || out.anyOf)) {
    const { nullable: _n, ...rest } = out;
    return { anyOf: [rest, { type: "null" }] };
  }
  if (out.nullable === false && out.type === undefined) delete out.nullable;
  return out;
}

/** Drops nested `$id`s: the spec's `#/components/...` refs are relative to the document, not to a schema's own id. */
function stripIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripIds);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) if (k !== "$id" || typeof v !== "string") out[k] = stripIds(v);
  return out;
}

function makeAjv(spec: LoadedSpec, coerce: boolean) {
  const options = {
    strict: false,
    allErrors: true,
    verbose: true,
    validateSchema: false,
    coerceTypes: coerce ? ("array" as const) : false,
    useDefaults: false,
  };
  const ajv = spec.version === "3.1" ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  for (const f of ["binary", "byte", "int32", "int64", "float", "double", "password"]) ajv.addFormat(f, true);
  const doc = stripIds(spec.version === "3.0" ? normalize30(spec.doc) : spec.doc) as Schema;
  ajv.addSchema({ ...doc, $id: "https://upstream.local/spec.json" }, undefined, undefined, false);
  return ajv;
}

function pointerUri(pointer: string): string {
  return `https://upstream.local/spec.json#${pointer
    .replace(/^#/, "")
    .split("/")
    .map((t) => encodeURIComponent(t))
    .join("/")}`;
}

/** Creates the validators for one spec (compiled lazily, cached by pointer). */
export function createValidator(spec: LoadedSpec) {
  const strictAjv = makeAjv(spec, false);
  const coercingAjv = makeAjv(spec, true);
  const cache = new Map<string, ValidateFunction>();

  function compile(pointer: string, coerce: boolean): ValidateFunction {
    const key = `${coerce ? "c" : "s"}${pointer}`;
    let fn = cache.get(key);
    if (!fn) {
      fn = (coerce ? coercingAjv : strictAjv).compile({ $ref: pointerUri(pointer) });
      cache.set(key, fn);
    }
    return fn;
  }

  /** Validates `value` against the schema at `pointer` (coercing strings when asked). */
  function check(pointer: string, value: unknown, coerce = false): Check {
    const fn = compile(pointer, coerce);
    return fn(value) ? { ok: true } : { ok: false, errors: fn.errors ?? [] };
  }

  /** Drops `required` errors for readOnly properties (servers fill them; clients must not send them). */
  function dropReadOnly(errors: ErrorObject[]): ErrorObject[] {
    return errors.filter((e) => {
      if (e.keyword !== "required") return true;
      const parent = e.parentSchema as Schema | undefined;
      const prop = (parent?.properties as Record<string, unknown> | undefined)?.[(e.params as { missingProperty: string }).missingProperty];
      if (!prop) return true;
      try {
        return deref(spec.doc, prop).readOnly !== true;
      } catch {
        return true;
      }
    });
  }

  function describe(e: ErrorObject): string {
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case "required":
        return `missing required property '${String(p.missingProperty)}'`;
      case "additionalProperties":
        return `unknown property '${String(p.additionalProperty)}'`;
      case "enum":
        return `must be one of ${JSON.stringify(p.allowedValues)}`;
      default:
        return e.message ?? e.keyword;
    }
  }

  /** Coerces, defaults and validates one parameter value; returns the coerced value and problems. */
  function checkParam(param: SpecParameter, raw: unknown): { value: unknown; problems: Problem[] } {
    const holder: Record<string, unknown> = { v: raw };
    const key = `h${param.schemaPointer}`;
    let wrapper = cache.get(key);
    if (!wrapper) {
      // Validate inside a holder object so ajv's coercion can replace the value in place.
      wrapper = coercingAjv.compile({ type: "object", properties: { v: { $ref: pointerUri(param.schemaPointer) } } });
      cache.set(key, wrapper);
    }
    if (wrapper(holder)) return { value: holder.v, problems: [] };
    const inn = param.in === "cookie" ? "header" : param.in;
    return {
      value: raw,
      problems: (wrapper.errors ?? []).map((e) => ({ in: inn, name: param.name, message: describe(e) })),
    };
  }

  /** Validates a parsed request body against the media type's schema. */
  function checkBody(pointer: string, body: unknown, coerce: boolean): Problem[] {
    const res = check(pointer, body, coerce);
    if (res.ok) return [];
    return dropReadOnly(res.errors).map((e) => ({ in: "body", name: e.instancePath || "/", message: describe(e) }));
  }

  /** Validates a response body against an operation's success schema (used by tests). */
  function checkResponse(op: SpecOperation, mediaType: string, body: unknown): Check {
    const media = op.success.content.find((m) => m.mediaType === mediaType) ?? op.success.content[0];
    if (!media?.schemaPointer) return { ok: true };
    return check(media.schemaPointer, body);
  }

  return { check, checkParam, checkBody, checkResponse, describe };
}

export type Validator = ReturnType<typeof createValidator>;

/** Reads a raw query/header value for a parameter, honouring array styles. */
export function rawParam(doc: Schema, param: SpecParameter, query: URLSearchParams, headers: Record<string, string | string[] | undefined>, cookies: Record<string, string>): unknown {
  const schema = deref(doc, param.schema);
  const type = typeOf(schema);
  if (param.in === "query") {
    if (param.style === "deepObject" || (type === "object" && param.explode !== false)) {
      const obj: Record<string, string> = {};
      let found = false;
      for (const [k, v] of query) {
        const m = new RegExp(`^${param.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\[([^\\]]+)\\]$`).exec(k);
        if (m) {
          obj[m[1]] = v;
          found = true;
        }
      }
      if (found) return obj;
      if (type === "object") return undefined;
    }
    const all = query.getAll(param.name);
    if (all.length === 0) return undefined;
    if (type === "array") {
      const sep = param.style === "spaceDelimited" ? " " : param.style === "pipeDelimited" ? "|" : ",";
      return param.explode === false || all.length === 1 ? all.flatMap((v) => v.split(sep)) : all;
    }
    return all[0];
  }
  if (param.in === "header") {
    const v = headers[param.name.toLowerCase()];
    if (v === undefined) return undefined;
    const s = Array.isArray(v) ? v.join(",") : v;
    return type === "array" ? s.split(",").map((x) => x.trim()) : s;
  }
  if (param.in === "cookie") return cookies[param.name];
  return undefined;
}
