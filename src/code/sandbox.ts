/**
 * The sandbox pool: a few worker threads (src/code/worker.ts), each with QuickJS loaded and ready,
 * so a run starts in about a millisecond. A run holds one worker; runs beyond the pool's size
 * wait their turn. A worker that stops answering (its run passed the wall time plus a grace) or
 * dies is replaced, and its run ends with a clear failure.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { packageRoot } from "../config/paths.js";
import type { DoneMessage, FromWorker, RunFailureKind, SandboxLimits, ToWorker } from "./protocol.js";

export type { RunFailureKind, SandboxLimits } from "./protocol.js";

/** What one API call made by a script answers: a JSON value, or an error the script can catch. */
export type CallHandler = (tool: string, args: unknown) => Promise<unknown>;

/** One run's outcome. */
export interface RunOutcome {
  readonly logs: readonly string[];
  readonly calls: number;
  readonly startMs: number;
  readonly cpuMs: number;
  /** The return value (JSON-safe), when the run finished. */
  readonly value?: unknown;
  readonly failure?: { readonly kind: RunFailureKind; readonly message: string };
}

export interface RunRequest {
  readonly runId: string;
  readonly code: string;
  readonly modules: Readonly<Record<string, readonly string[]>>;
  readonly limits: SandboxLimits;
  readonly onCall: CallHandler;
}

export interface SandboxPool {
  run(request: RunRequest): Promise<RunOutcome>;
  close(): Promise<void>;
}

/** Extra wall time a worker gets past the run's own limit before it is replaced. */
const GRACE_MS = 2_000;
/** Extra CPU time one slice of script may run past the limit (QuickJS's own check missed it) before the worker is replaced. */
const CPU_GRACE_MS = 500;
const CPU_CHECK_MS = 100;

/** The compiled worker: next to this file in dist/, or in dist/ when running from sources or the bundle. */
function workerFile(): string {
  const here = fileURLToPath(new URL("./worker.js", import.meta.url));
  if (existsSync(here)) return here;
  const root = packageRoot();
  const built = root ? join(root, "dist", "src", "code", "worker.js") : here;
  if (!existsSync(built)) throw new Error(`sandbox: ${built} is missing; run \`make build\``);
  return built;
}

interface Slot {
  worker: Worker;
  /** Epoch ms at which the worker's current VM slice started; 0 between slices. */
  sliceClock: Float64Array;
  ready: Promise<void>;
  busy: boolean;
}

/** Creates a pool of `size` sandbox workers, started on first use; each caps its WebAssembly memory near `memoryBytes`. */
export function createSandboxPool(options: { size: number; memoryBytes: number }): SandboxPool {
  const slots: Slot[] = [];
  const queue: (() => void)[] = [];
  let closed = false;

  function spawn(): Slot {
    const shared = new SharedArrayBuffer(8);
    const worker = new Worker(workerFile(), { workerData: { sliceClock: shared, memoryBytes: options.memoryBytes } });
    worker.unref();
    const slot: Slot = { worker, sliceClock: new Float64Array(shared), busy: false, ready: undefined as unknown as Promise<void> };
    slot.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === "ready") {
          worker.off("message", onMessage);
          worker.off("error", reject);
          resolve();
        }
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
    slot.ready.catch(() => undefined);
    return slot;
  }

  function acquire(): Promise<Slot> {
    if (closed) return Promise.reject(new Error("the sandbox pool is closed"));
    const free = slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    if (slots.length < options.size) {
      const slot = spawn();
      slot.busy = true;
      slots.push(slot);
      return Promise.resolve(slot);
    }
    return new Promise((resolve) => queue.push(() => void acquire().then(resolve)));
  }

  function release(slot: Slot, healthy: boolean): void {
    if (!healthy) {
      // A fresh worker takes the broken one's place at once, so the next run starts warm.
      const i = slots.indexOf(slot);
      void slot.worker.terminate();
      if (i >= 0) slots.splice(i, 1, ...(closed ? [] : [spawn()]));
    } else slot.busy = false;
    queue.shift()?.();
  }

  async function runOn(slot: Slot, req: RunRequest): Promise<{ outcome: RunOutcome; healthy: boolean }> {
    await slot.ready;
    const { worker } = slot;
    const post = (m: ToWorker) => worker.postMessage(m);
    return new Promise((resolve) => {
      let settled = false;
      const end = (outcome: RunOutcome, healthy: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        clearInterval(cpuWatch);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        resolve({ outcome, healthy });
      };
      const broken = (kind: RunFailureKind, message: string) => end({ logs: [], calls: 0, startMs: 0, cpuMs: 0, failure: { kind, message } }, false);
      const onMessage = (m: FromWorker) => {
        if (m.type === "call" && m.runId === req.runId) {
          req.onCall(m.tool, m.args).then(
            (value) => {
              if (!settled) post({ type: "reply", runId: req.runId, callId: m.callId, json: JSON.stringify(value ?? null) });
            },
            (err: unknown) => {
              const e = err as { code?: unknown; message?: unknown };
              if (!settled) post({ type: "reply", runId: req.runId, callId: m.callId, error: { code: typeof e.code === "string" ? e.code : "error", message: typeof e.message === "string" ? e.message : String(err) } });
            },
          );
        } else if (m.type === "done" && m.runId === req.runId) {
          end(outcomeOf(m), true);
        }
      };
      const onError = (err: Error) => broken("crashed", `The sandbox failed: ${err.message}`);
      const onExit = () => broken("crashed", "The sandbox stopped unexpectedly.");
      const watchdog = setTimeout(() => broken("wall_time", `The run took longer than ${req.limits.wallTimeMs} ms and was stopped.`), req.limits.wallTimeMs + GRACE_MS);
      const cpuWatch = setInterval(() => {
        const started = slot.sliceClock[0]!;
        if (started > 0 && performance.timeOrigin + performance.now() - started > req.limits.cpuTimeMs + CPU_GRACE_MS) {
          broken("cpu_time", `The script used more than ${req.limits.cpuTimeMs} ms of CPU time and was stopped.`);
        }
      }, CPU_CHECK_MS);
      cpuWatch.unref();
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      post({ type: "run", runId: req.runId, code: req.code, modules: req.modules, limits: req.limits });
    });
  }

  return {
    async run(req) {
      const slot = await acquire();
      let healthy = false;
      try {
        const { outcome, healthy: ok } = await runOn(slot, req);
        healthy = ok;
        return outcome;
      } catch (err) {
        return { logs: [], calls: 0, startMs: 0, cpuMs: 0, failure: { kind: "crashed", message: `The sandbox could not start: ${err instanceof Error ? err.message : String(err)}` } };
      } finally {
        release(slot, healthy);
      }
    },
    async close() {
      closed = true;
      await Promise.all(slots.splice(0).map((s) => s.worker.terminate()));
    },
  };
}

function outcomeOf(m: DoneMessage): RunOutcome {
  const base = { logs: m.logs, calls: m.calls, startMs: m.startMs, cpuMs: m.cpuMs };
  if (m.failure) return { ...base, failure: m.failure };
  return { ...base, value: JSON.parse(m.json ?? "null") as unknown };
}
