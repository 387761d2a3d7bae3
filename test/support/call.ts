/**
 * Calls a tool as a transport does: admission (authenticate the credential, charge the call), then
 * the tool-call chain. A refusal at admission comes back as the tool error a stdio client sees.
 */
import type { Gateway, SessionContext } from "../../src/gateway.js";
import type { ToolResult, Transport } from "../../src/context.js";
import { toToolResult } from "../../src/errors.js";

export async function callAs(
  gateway: Gateway,
  credential: string | undefined,
  name: string,
  args: Record<string, unknown>,
  options: { transport?: Transport; sessionId?: string; session?: Partial<SessionContext>; signal?: AbortSignal } = {},
): Promise<ToolResult> {
  const transport = options.transport ?? "stdio";
  let principal;
  try {
    principal = await gateway.admit({ transport, credential, request: "tools/call", calls: [{ id: 1, name, args }] });
  } catch (err) {
    return toToolResult(err);
  }
  const signal = options.signal ?? new AbortController().signal;
  const session: SessionContext = { principal, transport, signal, gateway, params: {}, notifyToolsChanged: async () => {}, ...(options.sessionId ? { sessionId: options.sessionId } : {}), ...options.session };
  return (await gateway.call({ name, args, principal, transport, sessionId: options.sessionId, signal, session })).result;
}
