/**
 * Loads an OpenAPI 3.x document and indexes its operations for the sample upstream.
 * Schemas keep their local `$ref`s; `deref` follows them on demand so recursive schemas stay finite.
 */
import { createHash } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import $RefParser from "@apidevtools/json-schema-ref-parser";
import { parse as parseYaml } from "yaml";

export type Schema = Record<string, unknown>;

/** One operation parameter after `$ref` resolution. */
export interface SpecParameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required: boolean;
  schema: Schema;
  style?: string;
  explode?: boolean;
  /** JSON pointer of the parameter's schema inside the document (for the validator). */
  schemaPointer: string;
}

/** One media type of a request body or response. */
export interface SpecMedia {
  mediaType: string;
  schema?: Schema;
  schemaPointer?: string;
}

/** One operation of the spec with everything the engine needs. */
export interface SpecOperation {
  operationId: string;
  method: string;
  /** Path template as written in the spec, e.g. `/projects/{project_id}/tasks`. */
  path: string;
  summary: string;
  description: string;
  tags: string[];
  parameters: SpecParameter[];
  requestBody?: { required: boolean; content: SpecMedia[] };
  /** The first 2xx response. */
  success: { status: number; content: SpecMedia[]; headers: string[] };
  /** All declared status codes. */
  statuses: string[];
  /** Whether the operation requires the bearer token (operation security, else the document's). */
  secured: boolean;
  /** Raw operation object (for extensions). */
  raw: Schema;
}

/** A loaded spec. */
export interface LoadedSpec {
  doc: Schema;
  /** 3.0 or 3.1 */
  version: "3.0" | "3.1";
  sha256: string;
  /** Base path of the first server URL (e.g. `/v1`), without a trailing slash. */
  basePath: string;
  operations: SpecOperation[];
}

const METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"];

/** Escapes one JSON pointer token. */
export function pointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Follows a local JSON pointer (`#/a/b`) inside the document. */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  const parts = pointer.replace(/^#/, "").split("/").slice(1);
  let cur: unknown = doc;
  for (const raw of parts) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Follows `$ref` chains until a schema without `$ref` (siblings of a 3.1 `$ref` are merged). */
export function deref(doc: Schema, schema: unknown): Schema {
  let cur = (schema ?? {}) as Schema;
  for (let i = 0; i < 32 && typeof cur.$ref === "string"; i++) {
    const { $ref, ...rest } = cur;
    const target = resolvePointer(doc, $ref as string) as Schema | undefined;
    if (!target) throw new Error(`unresolvable $ref ${String($ref)}`);
    cur = Object.keys(rest).length > 0 ? { ...target, ...rest } : target;
  }
  return cur;
}

/** The component name a schema refers to (`#/components/schemas/Task` → `Task`), if any. */
export function refName(schema: unknown): string | undefined {
  const ref = (schema as Schema | undefined)?.$ref;
  if (typeof ref !== "string") return undefined;
  const m = /^#\/components\/schemas\/([^/]+)$/.exec(ref);
  return m ? decodeURIComponent(m[1]).replace(/~1/g, "/").replace(/~0/g, "~") : undefined;
}

function basePathOf(doc: Schema): string {
  const servers = doc.servers as Array<{ url?: string }> | undefined;
  const url = servers?.[0]?.url ?? "";
  let path = url;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(url);
  if (m) path = m[1] ?? "";
  path = path.replace(/\{[^}]*\}/g, "").replace(/\/+$/, "");
  return path.startsWith("/") || path === "" ? path : `/${path}`;
}

function mediaList(content: unknown, pointer: string): SpecMedia[] {
  if (!content || typeof content !== "object") return [];
  return Object.entries(content as Record<string, Schema>).map(([mediaType, media]) => ({
    mediaType,
    schema: media?.schema as Schema | undefined,
    schemaPointer: media?.schema ? `${pointer}/${pointerToken(mediaType)}/schema` : undefined,
  }));
}

/** Resolves a `$ref`'d object (parameter, response, request body) and the pointer where it lives. */
function follow(doc: Schema, obj: unknown, pointer: string): { value: Schema; pointer: string } {
  let value = obj as Schema;
  let at = pointer;
  for (let i = 0; i < 16 && typeof value?.$ref === "string"; i++) {
    at = value.$ref as string;
    value = resolvePointer(doc, at) as Schema;
  }
  return { value, pointer: at };
}

/** Indexes every operation of an OpenAPI 3.x document. */
export function indexSpec(doc: Schema): LoadedSpec {
  const openapi = String(doc.openapi ?? "");
  if (!/^3\.[01]\./.test(openapi)) throw new Error(`spec: 'openapi' must be 3.0.x or 3.1.x (got '${openapi}')`);
  const version = openapi.startsWith("3.1") ? "3.1" : "3.0";
  const rootSecured = Array.isArray(doc.security) && (doc.security as unknown[]).length > 0;
  const operations: SpecOperation[] = [];
  const paths = (doc.paths ?? {}) as Record<string, Schema>;
  for (const [path, item] of Object.entries(paths)) {
    const itemPtr = `#/paths/${pointerToken(path)}`;
    const shared = (item.parameters as unknown[] | undefined) ?? [];
    for (const method of METHODS) {
      const op = item[method] as Schema | undefined;
      if (!op) continue;
      const opPtr = `${itemPtr}/${method}`;
      const params = new Map<string, SpecParameter>();
      const addParams = (list: unknown[], listPtr: string) =>
        list.forEach((p, i) => {
          const { value, pointer } = follow(doc, p, `${listPtr}/${i}`);
          const inn = value.in as SpecParameter["in"];
          const schema = (value.schema as Schema | undefined) ?? firstContentSchema(value.content);
          const schemaPointer = value.schema
            ? `${pointer}/schema`
            : `${pointer}/content/${pointerToken(Object.keys((value.content as Schema) ?? {})[0] ?? "")}/schema`;
          params.set(`${inn}:${String(value.name)}`, {
            name: String(value.name),
            in: inn,
            required: value.required === true || inn === "path",
            schema: schema ?? {},
            style: value.style as string | undefined,
            explode: value.explode as boolean | undefined,
            schemaPointer,
          });
        });
      addParams(shared, `${itemPtr}/parameters`);
      addParams((op.parameters as unknown[] | undefined) ?? [], `${opPtr}/parameters`);
      let requestBody: SpecOperation["requestBody"];
      if (op.requestBody) {
        const { value, pointer } = follow(doc, op.requestBody, `${opPtr}/requestBody`);
        requestBody = { required: value.required === true, content: mediaList(value.content, `${pointer}/content`) };
      }
      const responses = (op.responses ?? {}) as Record<string, unknown>;
      const statuses = Object.keys(responses);
      const okKey = statuses.filter((s) => /^2/.test(s)).sort()[0] ?? "200";
      let success: SpecOperation["success"] = { status: Number(okKey.replace(/X/gi, "0")), content: [], headers: [] };
      if (responses[okKey]) {
        const { value, pointer } = follow(doc, responses[okKey], `${opPtr}/responses/${pointerToken(okKey)}`);
        success = {
          status: success.status,
          content: mediaList(value.content, `${pointer}/content`),
          headers: Object.keys((value.headers as Schema) ?? {}),
        };
      }
      const security = op.security as unknown[] | undefined;
      operations.push({
        operationId: String(op.operationId ?? `${method}_${path}`),
        method: method.toUpperCase(),
        path,
        summary: String(op.summary ?? ""),
        description: String(op.description ?? ""),
        tags: (op.tags as string[] | undefined) ?? [],
        parameters: [...params.values()],
        requestBody,
        success,
        statuses,
        secured: security ? security.some((s) => Object.keys(s as object).length > 0) : rootSecured,
        raw: op,
      });
    }
  }
  const sha256 = createHash("sha256").update(JSON.stringify(doc)).digest("hex");
  return { doc, version, sha256, basePath: basePathOf(doc), operations };
}

function firstContentSchema(content: unknown): Schema | undefined {
  if (!content || typeof content !== "object") return undefined;
  const first = Object.values(content as Record<string, Schema>)[0];
  return first?.schema as Schema | undefined;
}

/** Reads a YAML or JSON spec from disk, bundling external `$ref`s into the document. */
export async function loadSpec(file: string): Promise<LoadedSpec> {
  const text = await readFile(file, "utf8");
  const needsBundle = /\$ref["']?\s*:\s*["']?(?!#)[^"'\s]/.test(text);
  if (needsBundle) return indexSpec((await $RefParser.bundle(file)) as Schema);
  if (file.endsWith(".json")) return indexSpec(JSON.parse(text) as Schema);
  // Parsing a large YAML file takes seconds; keep a JSON copy keyed by the text's hash.
  const cache = join(tmpdir(), `countersign-upstream-spec-${createHash("sha256").update(text).digest("hex").slice(0, 24)}.json`);
  try {
    return indexSpec(JSON.parse(await readFile(cache, "utf8")) as Schema);
  } catch {
    const doc = parseYaml(text) as Schema;
    await writeFile(`${cache}.${process.pid}`, JSON.stringify(doc)).then(() => rename(`${cache}.${process.pid}`, cache)).catch(() => undefined);
    return indexSpec(doc);
  }
}
