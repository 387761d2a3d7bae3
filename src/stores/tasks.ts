/**
 * Tasks (the MCP `io.modelcontextprotocol/tasks` extension): what a stored task is, the store
 * contract, and the embedded (in-process) store. The Redis store (src/stores/redis/tasks.ts) keeps
 * the same records under keys with a TTL, so any replica answers `tasks/get` for a task another
 * one runs.
 */

/** Life of a task: working ⇄ input_required → completed | failed | cancelled (terminal). */
export type TaskStatus = "working" | "input_required" | "completed" | "failed" | "cancelled";

/** The statuses a task never leaves. */
export const TERMINAL: readonly TaskStatus[] = ["completed", "failed", "cancelled"];

/** One task, as stored. */
export interface TaskRecord {
  readonly id: string;
  /** The token that created it: only this token reads, updates or cancels it. */
  readonly tokenId: string;
  readonly tool: string;
  status: TaskStatus;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  lastUpdatedAt: number;
  readonly ttlMs: number;
  readonly expiresAt: number;
  statusMessage?: string;
  /** The tool's result, once completed (a tool error is a completed task whose result has `isError`). */
  result?: Record<string, unknown>;
  /** The gateway's own failure, once failed (JSON-RPC error shape). */
  error?: { code: number; message: string; data?: unknown };
  /** What the task waits for while `input_required` (the confirmation of a write). */
  inputRequests?: Record<string, unknown>;
  /** The sealed confirmation state the answer is checked against; never shown to the client. */
  requestState?: string;
}

/** Fields a transition may change. */
export type TaskPatch = Partial<Pick<TaskRecord, "status" | "statusMessage" | "result" | "error" | "inputRequests" | "requestState">>;

/** Where tasks are kept: the embedded store, or Redis in the distributed mode. */
export interface TaskStore {
  /** Stores a new task; resolves once a `get` anywhere would find it. */
  create(task: TaskRecord): Promise<void>;
  /** The task, or undefined when unknown or expired. */
  get(id: string): Promise<TaskRecord | undefined>;
  /**
   * Applies `patch` only when the task's status is one of `from` (atomically): the task as it now
   * is, or undefined when it was not in one of those statuses (or is gone).
   */
  transition(id: string, from: readonly TaskStatus[], patch: TaskPatch): Promise<TaskRecord | undefined>;
  /** Tells every replica that the task was cancelled, so the one running it aborts its upstream request. */
  announceCancel(id: string): Promise<void>;
  /** Called with the id of each task cancelled anywhere (including here). */
  onCancel(listener: (id: string) => void): void;
  close(): Promise<void>;
}

/** Applies a patch to a record (both stores). */
export function patched(task: TaskRecord, patch: TaskPatch, now: number): TaskRecord {
  const next: TaskRecord = { ...task, ...patch, lastUpdatedAt: now };
  // A task that left input_required no longer shows (or keeps) what it asked.
  if (patch.status !== undefined && patch.status !== "input_required" && patch.inputRequests === undefined) {
    delete next.inputRequests;
    delete next.requestState;
  }
  return next;
}

/** The embedded store: a map in this process, each task dropped once its TTL has passed. */
export function createMemoryTaskStore(now: () => number = Date.now): TaskStore {
  const tasks = new Map<string, TaskRecord>();
  const listeners = new Set<(id: string) => void>();
  function sweep(): void {
    const t = now();
    for (const [id, task] of tasks) if (task.expiresAt <= t) tasks.delete(id);
  }
  function live(id: string): TaskRecord | undefined {
    const task = tasks.get(id);
    if (task && task.expiresAt <= now()) {
      tasks.delete(id);
      return undefined;
    }
    return task;
  }
  return {
    async create(task) {
      sweep();
      tasks.set(task.id, { ...task });
    },
    async get(id) {
      const task = live(id);
      return task && { ...task };
    },
    async transition(id, from, patch) {
      const task = live(id);
      if (!task || !from.includes(task.status)) return undefined;
      const next = patched(task, patch, now());
      tasks.set(id, next);
      return { ...next };
    },
    async announceCancel(id) {
      for (const l of listeners) l(id);
    },
    onCancel(listener) {
      listeners.add(listener);
    },
    async close() {
      tasks.clear();
      listeners.clear();
    },
  };
}
