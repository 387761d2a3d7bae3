/**
 * Messages between the gateway and a sandbox worker (src/code/worker.ts). Types only: the worker
 * and the pool (src/code/sandbox.ts) both import them, neither imports the other.
 */

/** Per-run limits; every one is a setting (code.* in src/config/settings.ts). */
export interface SandboxLimits {
  /** CPU time spent running the script itself (waiting on API calls does not count). */
  readonly cpuTimeMs: number;
  /** Wall time of the whole run, API calls included. */
  readonly wallTimeMs: number;
  readonly memoryBytes: number;
  readonly maxApiCalls: number;
  /** Logs plus the JSON of the return value. */
  readonly maxOutputBytes: number;
}

/** Why a run stopped without a value. */
export type RunFailureKind = "syntax" | "exception" | "cpu_time" | "wall_time" | "memory" | "stack" | "api_calls" | "output" | "stalled" | "crashed";

/** gateway → worker: start a run. */
export interface RunMessage {
  readonly type: "run";
  readonly runId: string;
  readonly code: string;
  /** Tool names by module: what `api.<module>.<tool>` offers. */
  readonly modules: Readonly<Record<string, readonly string[]>>;
  readonly limits: SandboxLimits;
}

/** gateway → worker: the answer to one API call. */
export interface ReplyMessage {
  readonly type: "reply";
  readonly runId: string;
  readonly callId: number;
  /** JSON of the value, when the call succeeded. */
  readonly json?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/** worker → gateway: one API call made by the script. */
export interface CallMessage {
  readonly type: "call";
  readonly runId: string;
  readonly callId: number;
  readonly tool: string;
  readonly args: unknown;
}

/** worker → gateway: the run ended. */
export interface DoneMessage {
  readonly type: "done";
  readonly runId: string;
  readonly logs: readonly string[];
  readonly calls: number;
  /** Milliseconds from the run message to the script's first instruction (context, globals, type stripping). */
  readonly startMs: number;
  readonly cpuMs: number;
  /** JSON of the return value (`null` for undefined). */
  readonly json?: string;
  readonly failure?: { readonly kind: RunFailureKind; readonly message: string };
}

export type ToWorker = RunMessage | ReplyMessage;
export type FromWorker = { readonly type: "ready" } | CallMessage | DoneMessage;
