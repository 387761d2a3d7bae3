/**
 * Types for the upstream API, printed by openapi-typescript; failures become a note, not an error.
 * On large specs this is the slowest step, so it runs on a worker thread while the tools are
 * built (from dist/); under a TypeScript-source runner it runs in-process.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { gunzipSync } from "node:zlib";
import type { GlobalContext } from "openapi-typescript";
import { parseText } from "./load-spec.js";

/** The printed types, or why there are none. */
export type UpstreamTypes = { ok: true; text: string } | { ok: false; reason: string };

/**
 * What to print types for: the spec file itself (relative refs resolve), or an object (converted
 * Swagger 2.0). `singleDocument` says the spec has no external refs, which allows the fast path.
 */
export type TypesSource = ({ readonly specPath: string } | { readonly root: unknown }) & { readonly singleDocument: boolean };

/** Runs openapi-typescript in this thread. */
export async function printUpstreamTypes(source: TypesSource): Promise<UpstreamTypes> {
  try {
    const ots = await import("openapi-typescript");
    if (source.singleDocument) {
      const root = "root" in source ? source.root : await readObject(source.specPath);
      if (!hasDuplicateOperationIds(root)) return { ok: true, text: ots.astToString(transformWithoutBundling(ots, root)) };
      // Duplicates make the library refuse the spec; the full path reports that in its own words.
      return { ok: true, text: ots.astToString(await ots.default(root as never, OPTIONS)) };
    }
    const input = "root" in source ? source.root : await readSource(source.specPath);
    return { ok: true, text: ots.astToString(await ots.default(input as never, OPTIONS)) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `openapi-typescript failed: ${message.split("\n")[0]!.slice(0, 300)}` };
  }
}

const OPTIONS = { silent: true, alphabetize: true } as const;

/**
 * openapiTS() minus Redocly's lint and bundle passes, which cost more than half its time on large
 * specs and change nothing for a single self-contained document (the output is byte-identical on
 * the GitHub, Stripe, Box, Figma and workspace specs). The context mirrors openapiTS's defaults.
 */
function transformWithoutBundling(ots: typeof import("openapi-typescript"), root: unknown): ReturnType<typeof ots.transformSchema> {
  const schema = root as Parameters<typeof ots.transformSchema>[0];
  const ctx: GlobalContext = {
    additionalProperties: false,
    alphabetize: OPTIONS.alphabetize,
    arrayLength: false,
    defaultNonNullable: true,
    discriminators: ots.scanDiscriminators(schema, OPTIONS),
    emptyObjectsUnknown: false,
    enum: false,
    enumValues: false,
    conditionalEnums: false,
    dedupeEnums: false,
    excludeDeprecated: false,
    exportType: false,
    immutable: false,
    injectFooter: [],
    pathParamsAsTypes: false,
    postTransform: undefined,
    propertiesRequiredByDefault: false,
    rootTypes: false,
    rootTypesNoSchemaPrefix: false,
    rootTypesKeepCasing: false,
    redoc: undefined as unknown as GlobalContext["redoc"],
    silent: OPTIONS.silent,
    inject: undefined,
    transform: undefined,
    transformProperty: undefined,
    makePathsEnum: false,
    generatePathParams: false,
    readWriteMarkers: false,
    resolve<T>($ref: string): T | undefined {
      return ots.resolveRef<T>(schema, $ref, { silent: OPTIONS.silent });
    },
  };
  return ots.transformSchema(schema, ctx);
}

function hasDuplicateOperationIds(root: unknown): boolean {
  const seen = new Set<string>();
  const paths = (root as { paths?: Record<string, Record<string, { operationId?: unknown }>> }).paths ?? {};
  for (const item of Object.values(paths)) {
    if (item === null || typeof item !== "object") continue;
    for (const op of Object.values(item)) {
      const id = op !== null && typeof op === "object" ? op.operationId : undefined;
      if (typeof id !== "string") continue;
      if (seen.has(id)) return true;
      seen.add(id);
    }
  }
  return false;
}

async function readObject(specPath: string): Promise<unknown> {
  const abs = path.resolve(specPath);
  const bytes = await readFile(abs);
  const text = (abs.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
  return parseText(text, abs, path.basename(abs));
}

/** A plain file goes in by URL (so its relative refs resolve); a gzipped one is unpacked first. */
async function readSource(specPath: string): Promise<unknown> {
  const abs = path.resolve(specPath);
  if (!abs.endsWith(".gz")) return pathToFileURL(abs);
  const text = gunzipSync(await readFile(abs)).toString("utf8");
  return parseText(text, abs, path.basename(abs));
}

/** Types being printed; `cancel` stops the worker when the run fails early. */
export interface PendingTypes {
  readonly result: Promise<UpstreamTypes>;
  cancel(): void;
}

/** Starts printing types on a worker thread (in-process when running from TypeScript sources). */
export function startUpstreamTypes(source: TypesSource): PendingTypes {
  const workerFile = fileURLToPath(new URL("./upstream-types-worker.js", import.meta.url));
  if (!existsSync(workerFile)) {
    // The library annotates object input: give it a copy. Deferred so a failing build need not wait.
    const copy: TypesSource = "root" in source ? { root: structuredClone(source.root), singleDocument: source.singleDocument } : source;
    let cancelled = false;
    const result = new Promise<void>((r) => setImmediate(r)).then(() => (cancelled ? { ok: false as const, reason: "cancelled" } : printUpstreamTypes(copy)));
    return { result, cancel: () => void (cancelled = true) };
  }
  // The library logs problems itself; its failure reason reaches the manifest notes instead.
  const worker = new Worker(workerFile, { workerData: source, stdout: true, stderr: true });
  worker.stdout.resume();
  worker.stderr.resume();
  const result = new Promise<UpstreamTypes>((resolve) => {
    let settled = false;
    const done = (r: UpstreamTypes): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    worker.once("message", (r: UpstreamTypes) => done(r));
    worker.once("error", (err) => done({ ok: false, reason: `openapi-typescript failed: ${err.message.split("\n")[0]}` }));
    worker.once("exit", (code) => done({ ok: false, reason: `openapi-typescript worker exited with code ${code}` }));
  });
  return { result, cancel: () => void worker.terminate() };
}
