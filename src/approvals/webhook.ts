/**
 * Announces each action that enters the approval inbox to `approvals.webhook.url`: plain JSON or
 * a Slack incoming-webhook message, with the preview's summary and a link to the action in the
 * console. The link only opens the console page, which asks the reader to sign in: no decision
 * is ever taken by following it.
 *
 * Signed with HMAC-SHA256 over `<timestamp>.<body>` when a secret is set; retried with doubling
 * backoff on a network error, 429 or 5xx; the last outcome is kept on the approval record, where
 * the console shows it. Only the process that put the action in the inbox sends it, so an action
 * is announced once however many replicas run.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { ApprovalWebhookConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import type { PendingActionStore } from "../stores/pending-actions/contract.js";
import type { ApprovalHub } from "./hub.js";
import type { ApprovalRecord, WebhookDelivery } from "./store.js";

/** Each attempt gives up after this long. */
const ATTEMPT_TIMEOUT_MS = 10_000;

/** What the webhook needs. */
export interface WebhookDeps {
  readonly hub: ApprovalHub;
  readonly pendingActions: PendingActionStore;
  readonly config: ApprovalWebhookConfig;
  /** The console's address when `config.consoleUrl` is not set. */
  readonly consoleUrl: string;
  readonly log: Logger;
  readonly now: () => number;
}

/** The signature header's value for a body sent at `timestamp` (seconds). */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** Slack mrkdwn treats these three as control characters. */
function slackText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The body of one announcement. */
export function payloadOf(record: ApprovalRecord, details: { summary: string; method: string; url: string; warnings: readonly string[] }, link: string, format: "json" | "slack"): unknown {
  const fields = {
    event: "approval_requested",
    action_id: record.actionId,
    tool: record.tool,
    summary: details.summary,
    method: details.method,
    url: details.url,
    warnings: details.warnings,
    approval: record.approval,
    requested_by: record.subject,
    token_id: record.tokenId,
    requested_at: new Date(record.requestedAt).toISOString(),
    expires_at: new Date(record.expiresAt).toISOString(),
    console_url: link,
  };
  if (format === "json") return fields;
  const text = `Approval needed: ${slackText(details.summary)} (asked by ${slackText(record.subject)})`;
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*Approval needed* — ${slackText(details.summary)}\n\`${slackText(details.method)} ${slackText(details.url)}\`${details.warnings.map((w) => `\n:warning: ${slackText(w)}`).join("")}` } },
      { type: "context", elements: [{ type: "mrkdwn", text: `Asked by ${slackText(record.subject)} · expires ${fields.expires_at} · <${link}|Open in the console> (sign in to approve or reject)` }] },
    ],
  };
}

/** Starts announcing; returns the stop function (deliveries in flight finish or give up on their own). */
export function startWebhook(deps: WebhookDeps): () => void {
  const { config, log } = deps;
  const target = config.url;
  if (!target) return () => undefined;
  const base = (config.consoleUrl ?? deps.consoleUrl).replace(/\/+$/, "");
  /** Backoff waits in progress, each with the resolve that ends it early on stop. */
  const waits = new Map<NodeJS.Timeout, () => void>();
  let stopped = false;

  async function attempt(body: string): Promise<{ ok: boolean; retry: boolean; status?: number; error?: string }> {
    const timestamp = String(Math.floor(deps.now() / 1000));
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "countersign-approvals",
      "x-countersign-event": "approval_requested",
      "x-countersign-delivery": randomUUID(),
      "x-countersign-timestamp": timestamp,
    };
    if (config.secret) headers["x-countersign-signature"] = signature(config.secret, timestamp, body);
    try {
      const res = await fetch(target!, { method: "POST", headers, body, signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS), redirect: "manual" });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, retry: false, status: res.status };
      return { ok: false, retry: res.status === 429 || res.status >= 500, status: res.status, error: `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, retry: true, error: (err as Error).name === "TimeoutError" ? `no answer in ${ATTEMPT_TIMEOUT_MS / 1000} s` : `not delivered (${(err as Error).message})` };
    }
  }

  async function deliver(record: ApprovalRecord): Promise<void> {
    const action = await deps.pendingActions.get(record.actionId);
    const p = action?.preview;
    const details = { summary: p?.summary ?? record.tool, method: p?.method ?? "", url: p?.url ?? "", warnings: p?.warnings ?? [] };
    const link = `${base}/#/approvals?id=${encodeURIComponent(record.actionId)}`;
    const body = JSON.stringify(payloadOf(record, details, link, config.format));
    let last: Awaited<ReturnType<typeof attempt>> = { ok: false, retry: true };
    let attempts = 0;
    for (; attempts < config.attempts && !stopped; ) {
      attempts++;
      last = await attempt(body);
      if (last.ok || !last.retry || attempts >= config.attempts) break;
      const wait = config.backoffMs * 2 ** (attempts - 1);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => (waits.delete(t), resolve()), wait);
        t.unref();
        waits.set(t, resolve);
      });
    }
    const delivery: WebhookDelivery = { at: deps.now(), ok: last.ok, attempts, ...(last.status !== undefined ? { status: last.status } : {}), ...(last.error ? { error: last.error } : {}) };
    await deps.hub.store.update(record.actionId, { delivery });
    if (!last.ok) log.warn({ actionId: record.actionId, attempts, error: last.error }, "approvals: the webhook was not delivered; the console shows it");
  }

  const unsubscribe = deps.hub.onEntered((record) => {
    deliver(record).catch((err: unknown) => log.warn({ err, actionId: record.actionId }, "approvals: recording a webhook delivery failed"));
  });
  return () => {
    stopped = true;
    unsubscribe();
    for (const [t, resolve] of waits) (clearTimeout(t), resolve());
    waits.clear();
  };
}
