/**
 * Reads a spec (JSON or YAML, optionally gzipped), converts Swagger 2.0 to OpenAPI 3.0, and loads
 * every document its `$ref`s point at, so that later stages work synchronously on memory.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import path from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import YAML from "yaml";
import { SpecError } from "./spec-error.js";
import { convertSwagger2 } from "./swagger2.js";
import type { SpecWarning } from "./warnings.js";

/** One parsed document (the root spec or a file it refers to), keyed by absolute URL. */
export interface SpecDocuments {
  /** URL of the root document (file:// or http(s)://). */
  readonly rootUrl: string;
  readonly documents: ReadonlyMap<string, unknown>;
}

/** The root spec, ready for the generator. */
export interface LoadedSpec extends SpecDocuments {
  /** The OpenAPI 3.x root object (Swagger 2.0 input is converted). */
  readonly root: Record<string, unknown>;
  /** "3.0" or "3.1" (after conversion). */
  readonly dialect: "3.0" | "3.1";
  /** What the input was: `openapi 3.0.3`, `swagger 2.0`, ... */
  readonly sourceVersion: string;
  /** sha256 of the root file's (decompressed) bytes. */
  readonly sha256: string;
  /** Problems with the spec as a whole that were worked around (a missing info object, an unreadable referenced file). */
  readonly warnings: readonly SpecWarning[];
}

export interface LoadOptions {
  /** Fetch `$ref`s to http(s) URLs (off by default: no network unless asked). */
  readonly allowRemoteRefs?: boolean;
}

/** Loads and prepares a spec; throws SpecError for anything the user must fix. */
export async function loadSpec(file: string, options: LoadOptions = {}): Promise<LoadedSpec> {
  const abs = path.resolve(file);
  const bytes = await readBytes(abs, file);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const text = bytes.toString("utf8");
  const parsed = parseText(text, abs, path.basename(file));
  if (!isObject(parsed)) throw new SpecError("#", "the spec is not an object");

  const warnings: SpecWarning[] = [];
  // Walking a 13 MB document for external refs costs more than this scan of its text.
  const hasExternalRefs = /\$ref["']?\s*:\s*["']?(?!#)[^\s"']/.test(text);
  let root = parsed;
  let sourceVersion: string;
  if (typeof parsed.swagger === "string" || typeof parsed.swagger === "number") {
    sourceVersion = `swagger ${String(parsed.swagger)}`;
    if (!String(parsed.swagger).startsWith("2.")) throw new SpecError("#/swagger", `unsupported Swagger version ${String(parsed.swagger)}`);
    root = await convertSwagger2(parsed, hasExternalRefs ? abs : undefined, options, warnings);
  } else if (typeof parsed.openapi === "string") {
    sourceVersion = `openapi ${parsed.openapi}`;
  } else {
    throw new SpecError("#", "neither an `openapi` nor a `swagger` version field: not an OpenAPI document");
  }
  const version = String(root.openapi);
  let dialect: "3.0" | "3.1";
  if (/^3\.0\.\d+/.test(version)) dialect = "3.0";
  else if (/^3\.[12]\.\d+/.test(version)) dialect = "3.1";
  else throw new SpecError("#/openapi", `unsupported OpenAPI version ${JSON.stringify(version)} (3.0.x, 3.1.x or Swagger 2.0 expected)`);
  if (!isObject(root.info)) warnings.push({ pointer: "#/info", problem: "missing info object; the API is titled after its file" });
  if (root.paths !== undefined && !isObject(root.paths)) warnings.push({ pointer: "#/paths", problem: "paths must be an object; no operations were read" });

  const rootUrl = pathToFileURL(abs).href;
  const documents = new Map<string, unknown>([[rootUrl, root]]);
  if (hasExternalRefs) await loadReferencedDocuments(documents, rootUrl, options, warnings);
  return { root, dialect, sourceVersion, sha256, rootUrl, documents, warnings };
}

async function readBytes(abs: string, shown: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new SpecError("", `cannot read spec file ${shown}: ${code}`);
  }
  if (abs.endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      throw new SpecError("", `cannot decompress ${shown}: not valid gzip`);
    }
  }
  return bytes;
}

/** Parses JSON or YAML; errors name the file and line. */
export function parseText(text: string, abs: string, shown: string): unknown {
  const name = abs.replace(/\.gz$/, "");
  const looksJson = name.endsWith(".json") || /^\s*[{[]/.test(text);
  if (looksJson) {
    try {
      return JSON.parse(text);
    } catch (err) {
      if (name.endsWith(".json")) {
        const m = /position (\d+)/.exec((err as Error).message);
        const line = m ? text.slice(0, Number(m[1])).split("\n").length : undefined;
        throw new SpecError("", `${shown}${line ? ` line ${line}` : ""}: invalid JSON (${(err as Error).message})`);
      }
      // YAML is a superset of JSON-ish text: fall through.
    }
  }
  const doc = YAML.parseDocument(text, { merge: true, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    const firstLine = e.message.split("\n")[0];
    throw new SpecError("", `${shown}${line ? ` line ${line}` : ""}: invalid YAML (${firstLine})`);
  }
  return doc.toJS({ maxAliasCount: -1 });
}

/** Walks every loaded document for `$ref`s to other documents and loads them, transitively. */
async function loadReferencedDocuments(documents: Map<string, unknown>, rootUrl: string, options: LoadOptions, warnings: SpecWarning[]): Promise<void> {
  const queue = [rootUrl];
  const failed = new Set<string>();
  while (queue.length > 0) {
    const url = queue.shift()!;
    const refs = collectExternalRefs(documents.get(url));
    for (const [ref, where] of refs) {
      let target: string;
      try {
        target = documentUrl(ref, url);
      } catch {
        continue; // Not a URL: the resolver reports it where the reference is used.
      }
      if (documents.has(target) || failed.has(target)) continue;
      const at = url === rootUrl ? where : `${displayUrl(url, rootUrl)}${where}`;
      try {
        documents.set(target, await fetchDocument(target, at, ref, options));
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        // Only the operations that use the document lose what it describes.
        failed.add(target);
        warnings.push({ pointer: err.pointer, problem: err.problem });
        continue;
      }
      queue.push(target);
    }
  }
}

/** Absolute URL of the document part of a `$ref`. */
export function documentUrl(ref: string, baseUrl: string): string {
  const hash = ref.indexOf("#");
  const docPart = hash === -1 ? ref : ref.slice(0, hash);
  if (docPart === "") return baseUrl;
  return new URL(docPart, baseUrl).href;
}

/** Short name for a document in messages: relative to the root file's folder. */
export function displayUrl(url: string, rootUrl: string): string {
  if (url === rootUrl) return "";
  if (url.startsWith("file:") && rootUrl.startsWith("file:")) {
    return path.relative(path.dirname(fileURLToPath(rootUrl)), fileURLToPath(url)).split(path.sep).join("/");
  }
  return url;
}

function collectExternalRefs(node: unknown): Map<string, string> {
  const found = new Map<string, string>();
  const stack: { v: unknown; p: string }[] = [{ v: node, p: "#" }];
  while (stack.length > 0) {
    const { v, p } = stack.pop()!;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], p: `${p}/${i}` });
    } else if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o.$ref === "string" && !o.$ref.startsWith("#") && !found.has(o.$ref)) found.set(o.$ref, p);
      for (const k of Object.keys(o)) {
        const child = o[k];
        if (child !== null && typeof child === "object") stack.push({ v: child, p: `${p}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}` });
      }
    }
  }
  return found;
}

async function fetchDocument(url: string, at: string, ref: string, options: LoadOptions): Promise<unknown> {
  if (url.startsWith("file:")) {
    const file = fileURLToPath(url);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new SpecError(at, `unresolvable $ref ${JSON.stringify(ref)}: cannot read ${path.basename(file)} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
    return parseText(text, file, path.basename(file));
  }
  if (url.startsWith("http:") || url.startsWith("https:")) {
    if (!options.allowRemoteRefs) {
      throw new SpecError(at, `remote $ref ${JSON.stringify(ref)} is not fetched without --allow-remote-refs`);
    }
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new SpecError(at, `unresolvable $ref ${JSON.stringify(ref)}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new SpecError(at, `unresolvable $ref ${JSON.stringify(ref)}: HTTP ${res.status}`);
    return parseText(await res.text(), new URL(url).pathname, url);
  }
  throw new SpecError(at, `unresolvable $ref ${JSON.stringify(ref)}: unsupported URL scheme`);
}

/** A plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
