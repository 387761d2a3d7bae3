/**
 * Swagger 2.0 → OpenAPI 3.0 with swagger2openapi. The converter assumes a well-typed document, so
 * root fields of the wrong type are dropped first, and if it still fails, path items are
 * converted one at a time so that one broken path costs only its own operations.
 */
import { SpecError, pointer } from "./spec-error.js";
import type { SpecWarning } from "./warnings.js";

type Obj = Record<string, unknown>;

/** What the conversion needs of the load options. */
interface ConvertOptions {
  readonly allowRemoteRefs?: boolean;
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === "string");

/** Root fields the converter reads without checking, and the shape each must have (Swagger 2.0 §Swagger Object). */
const ROOT_SHAPES: Record<string, [(v: unknown) => boolean, string]> = {
  info: [isObj, "an object"],
  host: [(v) => typeof v === "string", "a string"],
  basePath: [(v) => typeof v === "string", "a string"],
  schemes: [isStrings, "a list of strings"],
  consumes: [isStrings, "a list of strings"],
  produces: [isStrings, "a list of strings"],
  paths: [isObj, "an object"],
  definitions: [isObj, "an object"],
  parameters: [isObj, "an object"],
  responses: [isObj, "an object"],
  securityDefinitions: [isObj, "an object"],
  security: [Array.isArray, "a list"],
  tags: [Array.isArray, "a list"],
  externalDocs: [isObj, "an object"],
};

/**
 * Converts a Swagger 2.0 root. A spec split across files (`source` set) has its external `$ref`s
 * resolved by the converter first, so parameters, responses and schemas in other files are
 * converted too (Swagger 2.0 fragments are not valid OpenAPI 3 on their own).
 */
export async function convertSwagger2(spec: Obj, source: string | undefined, options: ConvertOptions, warnings: SpecWarning[]): Promise<Obj> {
  const { default: converter } = await import("swagger2openapi");
  const clean = sanitize(spec, warnings);
  const convert = async (doc: Obj, resolve: boolean): Promise<Obj> => {
    // The converter logs what it rejects to the console; the rejection itself is what is reported.
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      // The converter mutates its input; each attempt gets its own copy.
      const out = await converter.convertObj(structuredClone(doc) as never, { patch: true, warnOnly: true, resolve, ...(resolve ? { source, fetch: remoteFetch(options) } : {}) } as never);
      return out.openapi as unknown as Obj;
    } finally {
      console.warn = warn;
    }
  };
  const whole = async (doc: Obj): Promise<Obj> => {
    if (source !== undefined) {
      try {
        return await convert(doc, true);
      } catch (err) {
        warnings.push({ pointer: "#", problem: `external $refs of the Swagger 2.0 spec could not be resolved (${(err as Error).message}); converted without them` });
        source = undefined;
      }
    }
    return convert(doc, false);
  };
  try {
    return await whole(clean);
  } catch {
    // Find the path items the converter cannot take; the rest converts without them.
  }
  const paths = isObj(clean.paths) ? clean.paths : {};
  let skeleton: Obj;
  try {
    skeleton = await convert({ ...clean, paths: {} }, false);
  } catch (err) {
    throw new SpecError("#", `Swagger 2.0 conversion failed: ${(err as Error).message}`);
  }
  const kept: Obj = {};
  for (const [p, item] of Object.entries(paths)) {
    try {
      await convert({ ...clean, paths: { [p]: item } }, false);
      kept[p] = item;
    } catch (err) {
      warnings.push({ pointer: pointer("#/paths", p), problem: `Swagger 2.0 conversion failed (${(err as Error).message}); its operations were skipped` });
    }
  }
  try {
    return await whole({ ...clean, paths: kept });
  } catch {
    return skeleton;
  }
}

/** Drops root fields, and operations' `consumes`/`produces`, whose type the converter cannot take. */
function sanitize(spec: Obj, warnings: SpecWarning[]): Obj {
  const clean: Obj = {};
  for (const [k, v] of Object.entries(spec)) {
    const shape = ROOT_SHAPES[k];
    if (shape && v !== undefined && !shape[0](v)) warnings.push({ pointer: pointer("#", k), problem: `must be ${shape[1]}; ignored` });
    else clean[k] = v;
  }
  if (!isObj(clean.paths)) return clean;
  const paths: Obj = {};
  for (const [p, item] of Object.entries(clean.paths)) {
    if (!isObj(item)) {
      paths[p] = item;
      continue;
    }
    const copy: Obj = { ...item };
    for (const [method, op] of Object.entries(item)) {
      if (!isObj(op)) continue;
      const bad = ["consumes", "produces"].filter((k) => op[k] !== undefined && !isStrings(op[k]));
      if (bad.length === 0) continue;
      const fixed = { ...op };
      for (const k of bad) {
        delete fixed[k];
        warnings.push({ pointer: pointer("#/paths", p, method, k), problem: "must be a list of strings; ignored" });
      }
      copy[method] = fixed;
    }
    paths[p] = copy;
  }
  return { ...clean, paths };
}

/** The converter's fetch for http(s) `$ref`s: refused unless remote refs are allowed. */
function remoteFetch(options: ConvertOptions): (url: string) => Promise<Response> {
  return async (url) => {
    if (!options.allowRemoteRefs) throw new Error(`remote $ref ${JSON.stringify(url)} is not fetched without --allow-remote-refs`);
    return fetch(url, { signal: AbortSignal.timeout(30_000) });
  };
}
