/**
 * The tasks extension's methods (SEP-2663), for 2026-07-28 clients that negotiated it:
 * - `tasks/get`: the task's status; a completed task inlines its result, a failed one its error,
 *   one waiting for input its input requests.
 * - `tasks/update`: answers an `input_required` task's questions (a write's confirmation); the
 *   write then runs, at most once, as the confirmation's answer says.
 * - `tasks/cancel`: stops a working task (its upstream request is aborted, on whichever replica
 *   runs it) or discards a write waiting for confirmation; a task already finished is left as is.
 *
 * A task belongs to the token that created it: any other token's request for it, like one for an
 * unknown or expired id, is answered -32602 "unknown task". A client that did not negotiate the
 * extension gets -32021 naming it (SEP-2575's missing required client capability).
 */
import { ProtocolError, ProtocolErrorCode, type Server, type ServerContext, type StandardSchemaV1 } from "@modelcontextprotocol/server";
import type { Principal } from "../context.js";
import type { Gateway, SessionContext } from "../gateway.js";
import { TERMINAL, type TaskRecord } from "../stores/tasks.js";
import { answerConfirmation, CONFIRM_INPUT } from "./confirm-input-required.js";
import { negotiatesTasks, runTask, taskFields, tasksCapabilityMissing } from "./tasks.js";

/** What the task methods need from the server adapter. */
export interface TaskMethodContext {
  /** Admits the request where the server admits its own requests (stdio); resolves the principal. */
  admit(method: string): Promise<Principal>;
  /** The session a task's follow-up call (the confirmed write) runs in. */
  session(ctx: ServerContext, signal: AbortSignal): SessionContext;
}

/** Checks `params` as a task method takes them, naming what is wrong (the SDK answers -32602 with it). */
function taskParams(method: string): StandardSchemaV1<unknown, { taskId: string }> {
  return {
    "~standard": {
      version: 1,
      vendor: "countersign",
      validate(value: unknown) {
        const p = value as Record<string, unknown>;
        if (typeof p?.taskId !== "string" || p.taskId.length === 0) return { issues: [{ message: `${method} needs params.taskId, the taskId a tools/call answered with`, path: ["taskId"] }] };
        return { value: { taskId: p.taskId } };
      },
    },
  };
}

function unknownTask(id: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown task "${id}": no task of this token has that id (it may have expired)`, { taskId: id });
}

/** Registers tasks/get, tasks/update and tasks/cancel on a server. */
export function serveTaskMethods(gateway: Gateway, server: Server, here: TaskMethodContext): void {
  const store = gateway.deps.tasks;

  /** Refuses a client that did not negotiate the extension; admits the request; finds the caller's task. */
  async function find(method: string, id: string, ctx: ServerContext): Promise<{ task: TaskRecord; principal: Principal }> {
    const version = server.getNegotiatedProtocolVersion();
    // A 2025-11-25 session never had these methods here (its own tasks were experimental and are not served).
    if (version === undefined || version < "2026-07-28") throw new ProtocolError(ProtocolErrorCode.MethodNotFound, "Method not found");
    if (!negotiatesTasks(server, ctx)) throw tasksCapabilityMissing(method);
    const principal = await here.admit(method);
    const task = await store.get(id);
    if (!task || task.tokenId !== principal.tokenId) throw unknownTask(id);
    return { task, principal };
  }

  server.setRequestHandler("tasks/get", { params: taskParams("tasks/get") }, async ({ taskId }, ctx) => {
    const { task } = await find("tasks/get", taskId, ctx);
    return {
      ...taskFields(task),
      ...(task.status === "completed" && task.result ? { result: task.result } : {}),
      ...(task.status === "failed" && task.error ? { error: task.error } : {}),
      ...(task.status === "input_required" && task.inputRequests ? { inputRequests: task.inputRequests } : {}),
    };
  });

  server.setRequestHandler("tasks/update", { params: taskParams("tasks/update") }, async ({ taskId }, ctx) => {
    // The SDK lifts inputResponses out of params (as on a tools/call retry) and keeps the well-formed ones.
    const inputResponses = ctx.mcpReq.inputResponses as Record<string, unknown> | undefined;
    if (inputResponses === undefined) throw new ProtocolError(ProtocolErrorCode.InvalidParams, "tasks/update needs params.inputResponses, an object keyed by the ids of the task's inputRequests");
    const { task } = await find("tasks/update", taskId, ctx);
    if (task.status !== "input_required") {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Task "${taskId}" is ${task.status}: only a task waiting for input (input_required) takes inputResponses`, { taskId, status: task.status });
    }
    // Answers to other keys than the task asked are ignored; without the confirmation's, it still waits.
    if (inputResponses[CONFIRM_INPUT] === undefined || typeof task.requestState !== "string") return {};
    // The answer is taken once: a replay (or a racing twin) finds the task no longer waiting.
    const claimed = await store.transition(taskId, ["input_required"], { status: "working", statusMessage: "Running the confirmed change" });
    if (!claimed) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Task "${taskId}" was already answered`, { taskId });
    const state = task.requestState;
    runTask(gateway, taskId, (signal) => answerConfirmation(gateway, here.session(ctx, signal), task.tool, state, inputResponses));
    return {};
  });

  server.setRequestHandler("tasks/cancel", { params: taskParams("tasks/cancel") }, async ({ taskId }, ctx) => {
    const { task } = await find("tasks/cancel", taskId, ctx);
    // Cancelling a finished task changes nothing (and runs nothing again): the same empty ack.
    if (TERMINAL.includes(task.status)) return {};
    const cancelled = await store.transition(taskId, ["working", "input_required"], { status: "cancelled", statusMessage: "Cancelled by the client" });
    if (!cancelled) return {};
    if (task.status === "working") await store.announceCancel(taskId);
    else if (typeof task.requestState === "string") {
      // A write waiting for its confirmation: discarded, so nothing can run it later.
      await answerConfirmation(gateway, here.session(ctx, ctx.mcpReq.signal), task.tool, task.requestState, { [CONFIRM_INPUT]: { action: "decline" } }).catch((err: unknown) =>
        gateway.deps.log.warn({ err, task: taskId }, "discarding the pending action of a cancelled task failed"),
      );
    }
    return {};
  });
}
