/**
 * The v2 client pinned to 2026-07-28 and declaring the tasks extension, for the tasks tests: each
 * answer is read as it came off the client's own transport (see Tapped).
 */
import { Client as ClientV2, SdkError, SdkErrorCode, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import type { StandardSchemaV1, Transport } from "@modelcontextprotocol/client";
import { expect } from "vitest";
import { TASKS_EXTENSION } from "../../src/mcp/tasks.js";

const MODERN = "2026-07-28";

export type Answer = Record<string, unknown> & { resultType?: string; taskId?: string; status?: string };

/** Takes any result as it came (the tasks methods' shapes are the extension's, not the SDK's). */
const anyResult: StandardSchemaV1<unknown, Answer> = { "~standard": { version: 1, vendor: "test", validate: (value) => ({ value: value as Answer }) } };

/**
 * The v2 client (2.4) negotiates the extension and sends its requests, but decodes no task result
 * (a CreateTaskResult is an "unsupported result type" to it, and it strips `resultType` from the
 * rest), so each answer is read as it came off the client's own transport.
 */
export interface Tapped {
  readonly client: ClientV2;
  last?: Answer;
}

/** The client capabilities of a client that negotiates tasks (and can be asked, with form elicitation). */
export const TASK_CLIENT_CAPABILITIES = { elicitation: { form: {} }, extensions: { [TASKS_EXTENSION]: {} } };

/** A client declaring tasks (or not) and form elicitation (or not: its plain calls are answered on the direct path). */
export async function connect(url: string, token: string, tasks = true, elicit = true): Promise<Tapped> {
  const capabilities = { ...(elicit ? { elicitation: { form: {} } } : {}), ...(tasks ? { extensions: { [TASKS_EXTENSION]: {} } } : {}) };
  const client = new ClientV2({ name: "tasks-test", version: "1.0.0" }, { capabilities, versionNegotiation: { mode: { pin: MODERN } } });
  return tap(client, new TransportV2(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
}

/** Connects `client` over `transport` (HTTP or stdio) and reads each answer off the transport. */
export async function tap(client: ClientV2, transport: Transport): Promise<Tapped> {
  await client.connect(transport);
  const tapped: Tapped = { client };
  const inner = transport.onmessage!;
  transport.onmessage = (message) => {
    if ("result" in message) tapped.last = message.result as Answer;
    inner(message);
  };
  return tapped;
}

/** One request through the client; the result as the gateway sent it. JSON-RPC errors are thrown as the client raises them. */
export async function rpc(t: Tapped, method: string, params: Record<string, unknown>): Promise<Answer> {
  t.last = undefined;
  try {
    await t.client.request({ method, params } as never, anyResult);
  } catch (err) {
    if (!(err instanceof SdkError && err.code === SdkErrorCode.UnsupportedResultType)) throw err;
  }
  return t.last!;
}

export function call(t: Tapped, name: string, args: Record<string, unknown>): Promise<Answer> {
  return rpc(t, "tools/call", { name, arguments: args });
}

export function tasks(t: Tapped, method: "tasks/get" | "tasks/cancel" | "tasks/update", params: Record<string, unknown>): Promise<Answer> {
  return rpc(t, method, params);
}

/** The empty ack of tasks/cancel and tasks/update: `resultType` and the server's `_meta` stamp, nothing of a task. */
export function expectAck(answer: Answer): void {
  expect(answer.resultType).toBe("complete");
  expect(Object.keys(answer).filter((k) => k !== "_meta")).toEqual(["resultType"]);
}

/** Polls tasks/get until the task leaves `working` (bounded by the test's timeout). */
export async function settled(client: Tapped, taskId: string): Promise<Answer> {
  for (;;) {
    const t = await tasks(client, "tasks/get", { taskId });
    if (t.status !== "working") return t;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `check` holds (the upstream sees an abort a moment after the gateway sends it). */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}
