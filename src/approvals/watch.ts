/**
 * Telling an agent's open session that a person decided its action: a log message
 * (`notifications/message`, logger `countersign`) carrying get_action's answer, which MCP clients
 * show or hand to the model. A decision taken in this process is told at once; one taken by another
 * process or replica is noticed by re-reading the action every 2 s, for up to an hour (a
 * confirm_action after that watches again). Stateless sessions and transports that can't reach
 * the client later are not watched: get_action answers them.
 */
import type { Deps, SessionContext } from "../gateway.js";
import { describeAction } from "./agent.js";

/** How often a watched action is re-read for a decision taken elsewhere. */
export const WATCH_POLL_MS = 2000;
/**
 * A session may be gone without anyone saying so: a watch ends after this long (or at the action's
 * expiry, or its decision). Each later confirm_action on the session starts a new one.
 */
export const WATCH_MAX_MS = 3_600_000;
/** One watch per session and action, however often the agent confirms. */
const watching = new Set<string>();

/** Watches one action for its decision and tells the session once. */
export function watchDecision(deps: Pick<Deps, "approvals" | "pendingActions" | "now" | "log">, session: SessionContext, actionId: string, pollMs = WATCH_POLL_MS): void {
  if (!session.notifyLog || session.sessionId === undefined) return;
  const notify: (level: "notice", data: unknown) => Promise<void> = session.notifyLog.bind(session);
  const key = `${session.sessionId}\u0000${actionId}`;
  if (watching.has(key)) return;
  watching.add(key);
  let done = false;
  const started = deps.now();
  const stop = (): void => {
    done = true;
    watching.delete(key);
    clearInterval(timer);
    unsubscribe();
  };
  async function check(): Promise<void> {
    if (done) return;
    const action = await deps.pendingActions.get(actionId);
    if (!action || action.tokenId !== session.principal.tokenId) return stop();
    if (action.state === "pending" && deps.now() < action.expiresAt) return void (deps.now() - started > WATCH_MAX_MS && stop());
    if (action.state === "executing") return;
    const record = await deps.approvals.store.get(actionId);
    stop();
    const answer = describeAction(action, record, deps.approvals, deps.now(), actionId);
    const text = answer.content[0]?.type === "text" ? answer.content[0].text : "";
    await notify("notice", { event: "action_decided", message: text, ...answer.structuredContent });
  }
  const run = (): void => {
    check().catch((err: unknown) => {
      deps.log.debug({ err, actionId }, "approvals: telling the session of a decision failed");
      stop();
    });
  };
  const unsubscribe = deps.approvals.onDecided(actionId, run);
  const timer = setInterval(run, pollMs);
  timer.unref();
}
