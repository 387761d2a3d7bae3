/**
 * Types for the upstream API, printed by openapi-typescript; failures become a note, not an error.
 * On large specs this is the slowest step, so it runs on a worker thread while the tools are
 * built (from dist/); under a TypeScript-source runner it runs in-process.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/** The printed types, or why there are none. */
export type UpstreamTypes = { ok: true; text: string } | { ok: false; reason: string };

/** Runs openapi-typescript on an OpenAPI 3.x object in this thread. */
export async function printUpstreamTypes(root: unknown): Promise<UpstreamTypes> {
  try {
    const { default: openapiTS, astToString } = await import("openapi-typescript");
    const ast = await openapiTS(root as never, { silent: true, alphabetize: true });
    return { ok: true, text: astToString(ast) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `openapi-typescript failed: ${message.split("\n")[0]!.slice(0, 300)}` };
  }
}

/** Types being printed; `cancel` stops the worker when the run fails early. */
export interface PendingTypes {
  readonly result: Promise<UpstreamTypes>;
  cancel(): void;
}

/**
 * Starts printing types for `root` (copied: the library annotates its input); the caller builds
 * tools meanwhile.
 */
export function startUpstreamTypes(root: Record<string, unknown>): PendingTypes {
  const workerFile = fileURLToPath(new URL("./upstream-types-worker.js", import.meta.url));
  if (!existsSync(workerFile)) {
    const copy = structuredClone(root);
    // Deferred so a failing tool build does not wait for the types first.
    let cancelled = false;
    const result = new Promise<void>((r) => setImmediate(r)).then(() => (cancelled ? { ok: false as const, reason: "cancelled" } : printUpstreamTypes(copy)));
    return { result, cancel: () => void (cancelled = true) };
  }
  // The library logs problems itself; its failure reason reaches the manifest notes instead.
  const worker = new Worker(workerFile, { workerData: root, stdout: true, stderr: true });
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
