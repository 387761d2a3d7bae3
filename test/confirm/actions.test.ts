import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createConfirmActions, type ActionCaller, type ConfirmActions } from "../../src/confirm/actions.js";
import type { Stage, ToolResult } from "../../src/context.js";
import { GatewayError } from "../../src/errors.js";
import { createPendingActions, type PendingActionStore } from "../../src/stores/pending-actions/index.js";
import { createMiniChain, PRINCIPALS, type MiniChain } from "../fixtures/confirm/mini-chain.js";
import { startTasksUpstream, type TasksUpstream } from "../fixtures/confirm/tasks-api.js";

let upstream: TasksUpstream;
let clock: number;
let store: PendingActionStore;
let chain: MiniChain;
let actions: ConfirmActions;

const caller = (credential = "cred-a"): ActionCaller => ({ principal: PRINCIPALS[credential]!, transport: "stdio", signal: new AbortController().signal });
const sc = (r: ToolResult) => r.structuredContent as Record<string, any>;

async function preview(name: string, args: Record<string, unknown>, credential = "cred-a"): Promise<{ token: string; id: string }> {
  const r = await chain.tool(name, args, credential);
  expect(sc(r).status).toBe("pending_confirmation");
  return { token: sc(r).confirm_token, id: sc(r).action_id };
}

/** Runs an operation expected to be refused, returning the GatewayError. */
async function refused(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected a refusal");
}

function setup(dataDir?: string, extraStages?: Stage[]): void {
  store = createPendingActions({ now: () => clock, ...(dataDir ? { dataDir } : {}) });
  chain = createMiniChain({ store, upstreamUrl: upstream.url, now: () => clock, ...(extraStages ? { extraStages } : {}) });
  actions = createConfirmActions({ store, gateway: chain });
}

beforeAll(async () => {
  upstream = await startTasksUpstream();
});
afterAll(() => upstream.close());
beforeEach(() => {
  clock = Date.now();
  upstream.writes.length = 0;
  upstream.writeDelayMs = 0;
  setup();
});

describe("confirm_action", () => {
  it("executes exactly the stored request and returns the upstream result", async () => {
    const { token, id } = await preview("create_task", { project_id: 42, title: "Ship Q2 launch" });
    expect(upstream.writes).toHaveLength(0);
    const r = await actions.confirm(token, caller());
    expect(r.isError).toBeFalsy();
    expect(sc(r)).toMatchObject({ status: "executed", action_id: id });
    expect(upstream.writes).toHaveLength(1);
    expect(upstream.writes[0]).toMatchObject({ method: "POST", path: "/v1/projects/42/tasks", body: { title: "Ship Q2 launch" } });
    expect(upstream.writes[0]!.headers["idempotency-key"]).toBe(id);
    expect(r.content[0]).toMatchObject({ type: "text", text: expect.stringContaining(`Executed action ${id}`) });
  });

  it("answers a repeated confirm with the stored outcome, without a second write", async () => {
    const { token, id } = await preview("update_task", { project_id: 42, task_id: 18, status: "done" });
    const first = await actions.confirm(token, caller());
    expect(sc(first).status).toBe("executed");
    const again = await actions.confirm(token, caller());
    expect(sc(again)).toMatchObject({ status: "already_executed", action_id: id, outcome: "executed" });
    expect(upstream.writes).toHaveLength(1);
  });

  it("answers a repeated confirm with already_executed after the settled bound dropped the action from memory", async () => {
    store = createPendingActions({ now: () => clock, dataDir: mkdtempSync(join(tmpdir(), "cs-confirm-bound-")), maxSettled: 5, sweepIntervalMs: 0 });
    chain = createMiniChain({ store, upstreamUrl: upstream.url, now: () => clock });
    actions = createConfirmActions({ store, gateway: chain });
    const first = await preview("update_task", { project_id: 42, task_id: 18, status: "done" });
    expect(sc(await actions.confirm(first.token, caller())).status).toBe("executed");
    for (let i = 0; i < 20; i++) {
      clock += 1000;
      const p = await preview("update_task", { project_id: 42, task_id: 18, status: "open" });
      expect(sc(await actions.confirm(p.token, caller())).status).toBe("executed");
    }
    const again = await actions.confirm(first.token, caller());
    expect(sc(again)).toMatchObject({ status: "already_executed", action_id: first.id, outcome: "executed" });
    expect(upstream.writes).toHaveLength(21);
    await store.close();
  });

  it("runs 50 concurrent confirms of one action exactly once; 49 get already_executed", async () => {
    const { token } = await preview("create_task", { project_id: 42, title: "Once only" });
    upstream.writeDelayMs = 50;
    const results = await Promise.all(Array.from({ length: 50 }, () => actions.confirm(token, caller())));
    const statuses = results.map((r) => sc(r).status);
    expect(statuses.filter((s) => s === "executed")).toHaveLength(1);
    expect(statuses.filter((s) => s === "already_executed")).toHaveLength(49);
    expect(upstream.writes).toHaveLength(1);
    expect([...upstream.tasks.values()].filter((t) => t.title === "Once only")).toHaveLength(1);
  });

  it("a write that times out after it was sent is settled unknown, never retryable, and never runs again", async () => {
    chain = createMiniChain({ store, upstreamUrl: upstream.url, now: () => clock, upstreamTimeoutMs: 300 });
    actions = createConfirmActions({ store, gateway: chain });
    const { token, id } = await preview("create_task", { project_id: 42, title: "Slow write" });
    upstream.writeDelayMs = 1_000;
    const r = await actions.confirm(token, caller());
    expect(r.isError).toBe(true);
    expect(sc(r)).toMatchObject({ status: "unknown", action_id: id, error: { code: "upstream_unavailable", retryable: false, outcome: "unknown", delivery: "sent" } });
    expect(sc(r).error.message).toMatch(/outcome is unknown.*Read the resource before trying again/);
    // The upstream did perform it.
    await expect.poll(() => upstream.writes.filter((w) => w.method === "POST").length, { timeout: 3_000 }).toBe(1);
    const again = await actions.confirm(token, caller());
    expect(sc(again)).toMatchObject({ status: "already_executed", outcome: "unknown" });
    expect(upstream.writes.filter((w) => w.method === "POST")).toHaveLength(1);
  });

  it("refuses an expired token and sends nothing", async () => {
    const { token } = await preview("create_task", { project_id: 42, title: "Too late" });
    clock += 600_001;
    const err = await refused(actions.confirm(token, caller()));
    expect(err.code).toBe("confirmation_invalid");
    expect(err.message).toMatch(/expired at .*; nothing was sent/);
    expect(upstream.writes).toHaveLength(0);
  });

  it("refuses a cancelled action and sends nothing", async () => {
    const { token, id } = await preview("delete_task", { project_id: 42, task_id: 19 });
    const c = await actions.cancel(token, caller());
    expect(sc(c)).toEqual({ status: "cancelled", action_id: id });
    const err = await refused(actions.confirm(token, caller()));
    expect(err.message).toContain("was cancelled; nothing was sent");
    expect(upstream.writes).toHaveLength(0);
    expect(upstream.tasks.has(19)).toBe(true);
  });

  it("refuses another token's action, and that token cannot cancel or list it", async () => {
    const { token } = await preview("delete_task", { project_id: 42, task_id: 19 });
    const err = await refused(actions.confirm(token, caller("cred-b")));
    expect(err.code).toBe("confirmation_invalid");
    expect(err.message).toContain("Unknown confirm token");
    expect((await refused(actions.cancel(token, caller("cred-b")))).code).toBe("confirmation_invalid");
    expect(sc(await actions.list(caller("cred-b")))).toEqual({ actions: [] });
    expect(sc(await actions.list(caller("cred-a"))).actions).toHaveLength(1);
    expect(upstream.writes).toHaveLength(0);
  });

  it("refuses a token revoked between preview and confirm", async () => {
    const { token, id } = await preview("create_task", { project_id: 42, title: "Revoked" });
    chain.revoked.add("cred-a");
    // Admission authenticates every request: the confirm never reaches the action.
    const err = await refused(chain.admit("cred-a").then((principal) => actions.confirm(token, { ...caller(), principal })));
    expect(err.code).toBe("unauthorized");
    expect(upstream.writes).toHaveLength(0);
    expect((await store.get(id))?.state).toBe("pending");
  });

  it("refuses tampered, made-up and malformed confirm tokens", async () => {
    const { token } = await preview("create_task", { project_id: 42, title: "Tamper" });
    const last = token.at(-1)!;
    const tampered = token.slice(0, -1) + (last === "x" ? "y" : "x");
    expect((await refused(actions.confirm(tampered, caller()))).message).toContain("Unknown confirm token");
    const madeUp = `cfm_${"A".repeat(20)}_${"B".repeat(32)}`;
    expect((await refused(actions.confirm(madeUp, caller()))).message).toContain("Unknown confirm token");
    expect((await refused(actions.confirm("please-just-do-it", caller()))).message).toContain("Malformed confirm token");
    expect((await refused(actions.confirm(undefined, caller()))).code).toBe("invalid_arguments");
    expect(upstream.writes).toHaveLength(0);
    // The real token still works after the failed attempts.
    expect(sc(await actions.confirm(token, caller())).status).toBe("executed");
  });

  it("refuses a stale preview: the resource changed since, so nothing is overwritten", async () => {
    const { token, id } = await preview("update_task", { project_id: 42, task_id: 17, title: "Mine" });
    upstream.touch(17, { title: "Theirs" });
    const r = await actions.confirm(token, caller());
    expect(r.isError).toBe(true);
    expect(sc(r)).toMatchObject({ status: "failed", action_id: id, error: { code: "conflict", message: expect.stringContaining("changed since the preview; preview again") } });
    expect(upstream.tasks.get(17)!.title).toBe("Theirs");
    // The conflict settles the action: a new preview is needed.
    expect(sc(await actions.confirm(token, caller())).status).toBe("already_executed");
    expect(upstream.writes.filter((w) => w.status < 300)).toHaveLength(0);
  });

  it("keeps an If-Match the caller chose, even one older than the preview", async () => {
    const current = upstream.tasks.get(17)!;
    const { token, id } = await preview("rename_task", { project_id: 42, task_id: 17, if_match: `"v${current.version - 1}"`, title: "Guarded" });
    expect((await store.get(id))?.ifMatch).toBeUndefined();
    const r = await actions.confirm(token, caller());
    expect(sc(r).error).toMatchObject({ code: "conflict" });
    expect(upstream.writes[0]!.headers["if-match"]).toBe(`"v${current.version - 1}"`);
    expect(upstream.tasks.get(17)!.title).not.toBe("Guarded");
  });

  it("guards an action on a sub-path with the ETag of the resource it acts on", async () => {
    const { token } = await preview("move_task", { project_id: 42, task_id: 19, body: { status: "done" } });
    upstream.touch(19, { title: "Edited meanwhile" });
    const r = await actions.confirm(token, caller());
    expect(sc(r).error).toMatchObject({ code: "conflict" });
    expect(upstream.tasks.get(19)!.status).toBe("open");
    const again = await preview("move_task", { project_id: 42, task_id: 19, body: { status: "done" } });
    expect(sc(await actions.confirm(again.token, caller())).status).toBe("executed");
    expect(upstream.tasks.get(19)!.status).toBe("done");
    upstream.touch(19, { status: "open" });
  });

  it("refuses a stale preview guarded by a version field", async () => {
    const { token } = await preview("update_note", { note_id: 5, text: "mine" });
    upstream.notes.get(5)!.version++;
    const r = await actions.confirm(token, caller());
    expect(sc(r).error).toMatchObject({ code: "conflict" });
    expect(upstream.notes.get(5)!.text).toBe("hello");
  });

  it("keeps the action pending when the chain refuses it before the upstream (rate limited)", async () => {
    let limited = true;
    const limiter: Stage = async (ctx, next) => {
      if (limited && ctx.confirmed) throw new GatewayError("rate_limited", "sensitive bucket exhausted", { retryAfterSeconds: 7 });
      await next();
    };
    setup(undefined, [limiter]);
    const { token, id } = await preview("bulk_delete_tasks", { ids: [18] });
    const r = await actions.confirm(token, caller());
    expect(sc(r)).toMatchObject({ status: "not_executed", action_id: id, retry_after_seconds: 7 });
    expect((await store.get(id))?.state).toBe("pending");
    limited = false;
    expect(sc(await actions.confirm(token, caller())).status).toBe("executed");
    expect(upstream.writes).toHaveLength(1);
  });

  it("confirms after a restart an action previewed before it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cs-confirm-restart-"));
    setup(dataDir);
    const { token } = await preview("update_task", { project_id: 42, task_id: 19, title: "Swag ordered" });
    await store.close();
    setup(dataDir); // a new store and chain on the same data dir
    const r = await actions.confirm(token, caller());
    expect(sc(r).status).toBe("executed");
    expect(upstream.tasks.get(19)!.title).toBe("Swag ordered");
  });

  it("reports unknown, and never re-runs, an action the gateway stopped in the middle of", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cs-confirm-crash-"));
    setup(dataDir);
    const { token, id } = await preview("create_task", { project_id: 42, title: "Interrupted" });
    await store.claim(id, "tok_a"); // executing, then the process "dies"
    await store.close();
    setup(dataDir);
    const r = await actions.confirm(token, caller());
    expect(r.isError).toBe(true);
    expect(sc(r)).toMatchObject({ status: "unknown", action_id: id });
    expect(upstream.writes).toHaveLength(0);
  });

  it("lists only the caller's own pending actions with their summaries", async () => {
    await preview("create_task", { project_id: 42, title: "A" });
    await preview("delete_task", { project_id: 42, task_id: 17 });
    await preview("create_task", { project_id: 42, title: "B" }, "cred-b");
    const r = await actions.list(caller());
    const items = sc(r).actions as { summary: string; tool: string }[];
    expect(items.map((i) => i.tool)).toEqual(["create_task", "delete_task"]);
    expect(items[0]!.summary).toBe('Create a task (project_id=42) with title="A".');
    expect(r.content[0]).toMatchObject({ type: "text", text: expect.stringContaining("2 pending actions") });
  });
});
