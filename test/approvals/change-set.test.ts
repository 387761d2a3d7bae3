/**
 * A code run's change set under the approval policy: the set needs a person when one of its
 * writes does, the agent's confirm_action never runs it, and a console admin's approval runs every
 * step in order, once each. Real parts: the SDK client over Streamable HTTP, the console API, the
 * sample upstream behind a counting proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { stepActionId } from "../../src/confirm/change-set-run.js";
import { agentTokens, consoleApi, startApprovalsGateway, startCountingUpstream, type ApprovalsGateway, type CountingUpstream, type Result, type Task } from "./harness.js";

let up: CountingUpstream;
let g: ApprovalsGateway;
let agent: Client;
let other: Client;
let alice: string;
let bob: string;
const { tokens, secrets } = agentTokens("agent", "other");

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Result> {
  return (await client.callTool({ name, arguments: args })) as Result;
}

async function tasks(from: number, n: number): Promise<Task[]> {
  const list = await up.api<{ data: Task[] }>("GET", "/tasks?limit=40");
  return list.body.data.slice(from, from + n);
}

const writesTo = (id: string) => up.writes.filter((w) => w.path.includes(id));

/** A script that renames one task and deletes another: the delete needs a person, the rename does not. */
async function renameAndDelete(keep: Task, drop: Task): Promise<Result> {
  return call(agent, "run_code", {
    intent: "Rename one task and delete a duplicate",
    code: `
      await api.tasks.update_task({ task_id: ${JSON.stringify(keep.id)}, body: { title: "Merged with its duplicate" } });
      await api.tasks.delete_task({ task_id: ${JSON.stringify(drop.id)} });
      return "queued";`,
  });
}

beforeAll(async () => {
  up = await startCountingUpstream();
  g = await startApprovalsGateway({ upstream: up, tokens, file: { approvals: { rules: [{ methods: ["DELETE"], approval: "person" }, { tool: "create_task", approval: "both" }] } } });
  alice = (await g.admins.create("alice")).credential;
  bob = (await g.admins.create("bob")).credential;
  agent = await g.agent(secrets.agent!);
  other = await g.agent(secrets.other!);
}, 60_000);

afterAll(async () => {
  await g?.close();
  await up?.close();
});

describe("a change set with a write that needs a person", () => {
  it("takes its strictest write's policy; the agent looping on confirm_action runs nothing; an admin's approval runs every step once, in order", async () => {
    const [keep, drop] = await tasks(0, 2);
    const r = await renameAndDelete(keep!, drop!);
    expect(r.isError, JSON.stringify(r)).toBeFalsy();
    const s = r.structuredContent!;
    expect(s).toMatchObject({ status: "pending_confirmation", approval: "person", preview: { approval_policy: "person" } });
    expect(s.preview.steps.map((x: { ref: string; approval_policy: string }) => [x.ref, x.approval_policy])).toEqual([["w1", "agent"], ["w2", "person"]]);
    expect(r.content.map((c) => c.text).join("\n")).toContain("APPROVAL: this write needs a person");
    const id = s.action_id as string;

    // An agent looping on confirm_action never gets it run.
    for (let i = 0; i < 5; i++) {
      const c = await call(agent, "confirm_action", { confirm_token: s.confirm_token });
      expect(c.isError, JSON.stringify(c)).toBeFalsy();
      expect(c.structuredContent).toMatchObject({ status: "awaiting_approval", action_id: id });
    }
    // Another token can't confirm it either (its token is unknown to them).
    const stranger = await call(other, "confirm_action", { confirm_token: s.confirm_token });
    expect(stranger.isError).toBe(true);
    expect(writesTo(keep!.id)).toHaveLength(0);
    expect(writesTo(drop!.id)).toHaveLength(0);
    expect((await call(agent, "get_action", { action_id: id })).structuredContent).toMatchObject({ status: "awaiting_approval", approval: "person" });

    // The inbox has the set, with its writes in order.
    const inbox = await consoleApi(g.base, alice, "GET", "/approvals");
    expect(inbox.body.approvals.find((a: { actionId: string }) => a.actionId === id)).toMatchObject({ tool: "run_code", method: "CHANGE_SET", status: "awaiting_approval", approval: "person" });
    const detail = await consoleApi(g.base, alice, "GET", `/approvals/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.approval.preview.steps.map((x: { ref: string; method: string }) => `${x.ref} ${x.method}`)).toEqual(["w1 PATCH", "w2 DELETE"]);

    // Bad input and the wrong identity are refused and run nothing.
    expect((await consoleApi(g.base, alice, "POST", "/approvals/not-an-id/approve", {})).status).toBe(400);
    expect((await consoleApi(g.base, secrets.agent!, "POST", `/approvals/${id}/approve`, {})).status).toBe(401);
    expect(up.writes.filter((w) => w.path.includes(keep!.id) || w.path.includes(drop!.id))).toHaveLength(0);

    const approved = await consoleApi(g.base, alice, "POST", `/approvals/${id}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ verdict: "approved", outcome: "executed" });
    expect(approved.body.steps.map((x: { ref: string; status: string }) => `${x.ref} ${x.status}`)).toEqual(["w1 executed", "w2 executed"]);
    // Each step reached the upstream once, in order.
    const mine = up.writes.filter((w) => w.path.includes(keep!.id) || w.path.includes(drop!.id));
    expect(mine.map((w) => w.method)).toEqual(["PATCH", "DELETE"]);
    expect(mine.map((w) => w.headers["idempotency-key"])).toEqual([stepActionId(id, 1), stepActionId(id, 2)]);
    // The delete's step carried its own policy, so only the admin's approval let it past the gate.
    expect((await g.gateway.deps.pendingActions.get(stepActionId(id, 2)))?.approval).toBe("person");
    expect((await up.api<Task>("GET", `/tasks/${keep!.id}`)).body.title).toBe("Merged with its duplicate");
    expect((await up.api("GET", `/tasks/${drop!.id}`)).status).toBe(404);

    // Replay: neither a second approval, a rejection nor the agent's confirm runs anything again.
    expect((await consoleApi(g.base, bob, "POST", `/approvals/${id}/approve`, {})).status).toBe(409);
    expect((await consoleApi(g.base, bob, "POST", `/approvals/${id}/reject`, { reason: "late" })).status).toBe(409);
    const again = await call(agent, "confirm_action", { confirm_token: s.confirm_token });
    expect(again.structuredContent).toMatchObject({ status: "already_executed" });
    expect(up.writes.filter((w) => w.path.includes(keep!.id) || w.path.includes(drop!.id))).toHaveLength(2);
    expect((await call(agent, "get_action", { action_id: id })).structuredContent).toMatchObject({ status: "executed", decision: { verdict: "approved", by: "alice", outcome: "executed" } });
  });

  it("a rejection cancels the whole set: nothing runs, the agent is told why", async () => {
    const [keep, drop] = await tasks(2, 2);
    const r = await renameAndDelete(keep!, drop!);
    const id = r.structuredContent!.action_id as string;
    expect(r.structuredContent!.approval).toBe("person");
    const rejected = await consoleApi(g.base, alice, "POST", `/approvals/${id}/reject`, { reason: "That task is not a duplicate" });
    expect(rejected).toMatchObject({ status: 200, body: { verdict: "rejected" } });
    const c = await call(agent, "confirm_action", { confirm_token: r.structuredContent!.confirm_token });
    expect(c.structuredContent).toMatchObject({ status: "rejected" });
    expect((await consoleApi(g.base, bob, "POST", `/approvals/${id}/approve`, {})).status).toBe(409);
    expect((await call(agent, "get_action", { action_id: id })).structuredContent).toMatchObject({ status: "rejected", decision: { reason: "That task is not a duplicate" } });
    expect(up.writes.filter((w) => w.path.includes(keep!.id) || w.path.includes(drop!.id))).toHaveLength(0);
    expect((await up.api("GET", `/tasks/${drop!.id}`)).status).toBe(200);
  });

  it("both beats person: the agent's confirm sends the set to the inbox, then an admin's approval runs it", async () => {
    const [keep, drop] = await tasks(6, 2);
    const r = await call(agent, "run_code", {
      intent: "Replace a task",
      code: `
        await api.tasks.create_task({ project_id: ${JSON.stringify(keep!.project_id)}, title: "Replacement task" });
        await api.tasks.delete_task({ task_id: ${JSON.stringify(drop!.id)} });`,
    });
    expect(r.isError, JSON.stringify(r)).toBeFalsy();
    const id = r.structuredContent!.action_id as string;
    expect(r.structuredContent).toMatchObject({ approval: "both", preview: { approval_policy: "both" } });
    expect((await consoleApi(g.base, alice, "GET", "/approvals")).body.approvals.some((a: { actionId: string }) => a.actionId === id)).toBe(false);
    expect((await consoleApi(g.base, alice, "POST", `/approvals/${id}/approve`, {})).body.error.message).toContain("has not confirmed");
    const c = await call(agent, "confirm_action", { confirm_token: r.structuredContent!.confirm_token });
    expect(c.structuredContent).toMatchObject({ status: "awaiting_approval" });
    expect((await consoleApi(g.base, alice, "GET", "/approvals")).body.approvals.some((a: { actionId: string }) => a.actionId === id)).toBe(true);
    const before = up.writes.length;
    const approved = await consoleApi(g.base, bob, "POST", `/approvals/${id}/approve`, {});
    expect(approved.body).toMatchObject({ verdict: "approved", outcome: "executed" });
    expect(up.writes.slice(before).map((w) => w.method)).toEqual(["POST", "DELETE"]);
    expect((await up.api("GET", `/tasks/${drop!.id}`)).status).toBe(404);
  });

  it("a set whose writes all need only the agent runs on confirm_action, as before", async () => {
    const [keep] = await tasks(4, 1);
    const r = await call(agent, "run_code", { intent: "Rename a task", code: `await api.tasks.update_task({ task_id: ${JSON.stringify(keep!.id)}, body: { title: "Renamed by the agent" } });` });
    expect(r.structuredContent!.approval).toBeUndefined();
    expect(r.structuredContent!.preview.approval_policy).toBe("agent");
    const c = await call(agent, "confirm_action", { confirm_token: r.structuredContent!.confirm_token });
    expect(c.structuredContent).toMatchObject({ status: "executed" });
    expect(writesTo(keep!.id)).toHaveLength(1);
    const inbox = await consoleApi(g.base, alice, "GET", "/approvals?all=1");
    expect(inbox.body.approvals.some((a: { actionId: string }) => a.actionId === r.structuredContent!.action_id)).toBe(false);
  });
});
