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
import { parseText } from "./load-spec.js";

/** The printed types, or why there are none. */
export type UpstreamTypes = { ok: true; text: string } | { ok: false; reason: string };

/** What to print types for: the spec file itself (relative refs resolve), or an object (converted Swagger 2.0). */
export type TypesSource = { readonly specPath: string } | { readonly root: unknown };

/** Runs openapi-typescript in this thread. */
export async function printUpstreamTypes(source: TypesSource): Promise<UpstreamTypes> {
  try {
    const { default: openapiTS, astToString } = await import("openapi-typescript");
    const input = "root" in source ? source.root : await readSource(source.specPath);
    const ast = await openapiTS(input as never, { silent: true, alphabetize: true });
    return { ok: true, text: astToString(ast) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `openapi-typescript failed: ${message.split("\n")[0]!.slice(0, 300)}` };
  }
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
    const copy: TypesSource = "root" in source ? { root: structuredClone(source.root) } : source;
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
