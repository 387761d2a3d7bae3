/**
 * Tasks (the MCP `io.modelcontextprotocol/tasks` extension, SEP-2663) for 2026-07-28 clients that
 * negotiate it: a `tools/call` still running after `http.pollAfterMs` answers with a task instead
 * of holding the request open, and the client polls it with `tasks/get` (task-methods.ts). A write
 * whose confirmation is asked as an input request parks as an `input_required` task: the question
 * is the task's input request, and the write runs only once `tasks/update` carries the person's
 * yes (through the pending-action store, as every confirmation does).
 *
 * The call keeps running on the replica that took it, under an AbortController of the task's own
 * (the request's signal stops cancelling it once the task exists); `tasks/cancel` on any replica
 * reaches it through the task store and aborts the upstream request. Records live in the task
 * store (deps.tasks: in-process, or Redis), bound to the token that created them.
 */
import { randomBytes } from "node:crypto";
import { isInputRequiredResult, MissingRequiredClientCapabilityError, ProtocolError, type CallToolResult, type InputRequiredResult, type Server, type ServerContext } from "@modelcontextprotocol/server";
import type { ToolResult } from "../context.js";
import type { Gateway } from "../gateway.js";
import type { TaskRecord, TaskStatus } from "../stores/tasks.js";
import { clientCapabilitiesOf } from "./client-capabilities.js";

/** The extension's identifier, in client and server `capabilities.extensions`. */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

/** How often clients are told to poll `tasks/get`. */
export const POLL_INTERVAL_MS = 1000;

/** What answering a tools/call produces: a result, or a question (a write's confirmation). */
export type CallAnswer = ToolResult | CallToolResult | InputRequiredResult;

/** Whether this gateway serves tasks: only when calls may outlive `http.pollAfterMs` (> 0). */
export function servesTasks(gateway: Gateway): boolean {
  return gateway.deps.config.http.pollAfterMs > 0;
}

/**
 * Whether the client of this (2026-07-28) request negotiated the tasks extension, in its envelope
 * (over stdio the server keeps no capabilities of its own: each request's envelope says them).
 */
export function negotiatesTasks(server: Server, ctx: ServerContext): boolean {
  if (!modern(server)) return false;
  const extensions = clientCapabilitiesOf(server, ctx)?.extensions as Record<string, unknown> | undefined;
  return extensions?.[TASKS_EXTENSION] !== undefined;
}

/** Whether the server speaks 2026-07-28 (or later) on this request. */
function modern(server: Server): boolean {
  const version = server.getNegotiatedProtocolVersion();
  return version !== undefined && version >= "2026-07-28";
}

/** Whether this tool runs only as a task here (`x-mcp-task: required`, with tasks served, to a 2026-07-28 client). */
export function taskRequired(gateway: Gateway, server: Server, tool: string): boolean {
  return servesTasks(gateway) && modern(server) && gateway.registry.get(tool)?.policy.task === "required";
}

/** -32021, naming the extension: what a client that did not negotiate tasks gets for what needs them. */
export function tasksCapabilityMissing(what: string): MissingRequiredClientCapabilityError {
  return new MissingRequiredClientCapabilityError({ requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } }, `${what} needs the ${TASKS_EXTENSION} extension: declare it in the request's client capabilities`);
}

/** The in-process half of running tasks: each task this replica runs, by id, with what aborts it. */
const running = new WeakMap<Gateway, Map<string, AbortController>>();

function runningOn(gateway: Gateway): Map<string, AbortController> {
  let tasks = running.get(gateway);
  if (!tasks) {
    const map = new Map<string, AbortController>();
    running.set(gateway, (tasks = map));
    // A cancel on any replica: the one running the task aborts its upstream request.
    gateway.deps.tasks.onCancel((id) => map.get(id)?.abort(new ProtocolError(-32800, `task ${id} was cancelled`)));
  }
  return tasks;
}

/** The task envelope fields every task answer carries (CreateTaskResult, tasks/get). */
export function taskFields(task: TaskRecord): Record<string, unknown> {
  return {
    taskId: task.id,
    status: task.status,
    ...(task.statusMessage !== undefined ? { statusMessage: task.statusMessage } : {}),
    createdAt: new Date(task.createdAt).toISOString(),
    lastUpdatedAt: new Date(task.lastUpdatedAt).toISOString(),
    ttlMs: task.ttlMs,
    pollIntervalMs: POLL_INTERVAL_MS,
  };
}

/** The error a failed task shows: the JSON-RPC error the call would have answered. */
function failure(err: unknown): NonNullable<TaskRecord["error"]> {
  if (err instanceof ProtocolError) return { code: err.code, message: err.message, ...(err.data !== undefined ? { data: err.data } : {}) };
  return { code: -32603, message: "Internal error" };
}

/**
 * Settles a running task with what its call produced: a question parks it (input_required), a
 * result completes it, a thrown error fails it. A task cancelled meanwhile stays cancelled.
 */
async function settle(gateway: Gateway, id: string, outcome: { ok: true; answer: CallAnswer } | { ok: false; err: unknown }): Promise<void> {
  const from: TaskStatus[] = ["working"];
  try {
    if (!outcome.ok) {
      await gateway.deps.tasks.transition(id, from, { status: "failed", error: failure(outcome.err), statusMessage: "The call failed" });
    } else if (isInputRequiredResult(outcome.answer)) {
      const { inputRequests, requestState } = outcome.answer;
      await gateway.deps.tasks.transition(id, from, { status: "input_required", inputRequests: inputRequests as Record<string, unknown>, ...(requestState !== undefined ? { requestState } : {}), statusMessage: "Waiting for the person to confirm the change" });
    } else {
      await gateway.deps.tasks.transition(id, from, { status: "completed", result: outcome.answer as unknown as Record<string, unknown> });
    }
  } catch (err) {
    gateway.deps.log.error({ err, task: id }, "recording a task's outcome failed");
  }
}

/** How often a running task's record is read again, to notice a cancel whose message was missed (pub/sub delivers at most once). */
const CANCEL_CHECK_MS = 1000;

/** Runs `work` as task `id` on this replica: its outcome settles the task; a cancel anywhere aborts it. */
export function runTask(gateway: Gateway, id: string, work: (signal: AbortSignal) => Promise<CallAnswer>, controller = new AbortController()): void {
  const tasks = runningOn(gateway);
  tasks.set(id, controller);
  const check = setInterval(() => {
    gateway.deps.tasks.get(id).then(
      (task) => task?.status === "cancelled" && controller.abort(new ProtocolError(-32800, `task ${id} was cancelled`)),
      () => undefined,
    );
  }, CANCEL_CHECK_MS);
  check.unref();
  work(controller.signal)
    .then((answer) => settle(gateway, id, { ok: true, answer }), (err: unknown) => settle(gateway, id, { ok: false, err }))
    .finally(() => {
      clearInterval(check);
      tasks.delete(id);
    });
}

/** A fresh, unguessable task id. */
function newTaskId(): string {
  return `task_${randomBytes(18).toString("base64url")}`;
}

/**
 * A tools/call of a client that negotiated tasks. A call that settles within `http.pollAfterMs`
 * is answered as usual; one still running then, one that asks to confirm a write, or one of a tool
 * that runs only as a task (`always`) answers with a task (CreateTaskResult) that is stored before
 * it is returned, so `tasks/get` finds it at once.
 */
export async function callAsTask(gateway: Gateway, tokenId: string, tool: string, requestSignal: AbortSignal, work: (signal: AbortSignal) => Promise<CallAnswer>, always = false): Promise<CallAnswer | Record<string, unknown>> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(requestSignal.reason);
  requestSignal.addEventListener("abort", onAbort, { once: true });
  const outcome = work(controller.signal).then(
    (answer) => ({ ok: true as const, answer }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const early = always ? undefined : await Promise.race([outcome, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), gateway.deps.config.http.pollAfterMs)))]);
  clearTimeout(timer);
  // From here on only tasks/cancel stops the call: the request that started it is answered now.
  requestSignal.removeEventListener("abort", onAbort);
  if (early && !early.ok) throw early.err;
  if (early && !isInputRequiredResult(early.answer)) return early.answer;

  const now = gateway.deps.now();
  const ttlMs = gateway.deps.config.mcp.taskTtlMs;
  const question = early?.ok ? (early.answer as InputRequiredResult) : undefined;
  const task: TaskRecord = {
    id: newTaskId(),
    tokenId,
    tool,
    status: question ? "input_required" : "working",
    createdAt: now,
    lastUpdatedAt: now,
    ttlMs,
    expiresAt: now + ttlMs,
    ...(question
      ? { inputRequests: question.inputRequests as Record<string, unknown>, ...(question.requestState !== undefined ? { requestState: question.requestState } : {}), statusMessage: "Waiting for the person to confirm the change" }
      : { statusMessage: "The call is running" }),
  };
  try {
    await gateway.deps.tasks.create(task);
  } catch (err) {
    // Not stored (the store is down): nobody could poll it, so the call stops here.
    controller.abort(err);
    throw err;
  }
  if (!question) runTask(gateway, task.id, () => outcome.then((o) => (o.ok ? o.answer : Promise.reject(o.err))), controller);
  return { resultType: "task", ...taskFields(task) };
}
