/**
 * Countersigned by a person, end to end: the agent's SDK client over Streamable HTTP, the console
 * API with admin credentials, the sample upstream behind a counting proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { agentTokens, consoleApi, startApprovalsGateway, startCountingUpstream, until, type ApprovalsGateway, type CountingUpstream, type Result, type Task } from "./harness.js";

let up: CountingUpstream;
let g: ApprovalsGateway;
let agent: Client;
let other: Client;
let alice: string;
let bob: string;
const logs: any[] = [];
const { tokens, secrets } = agentTokens("agent", "other");

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Result> {
  return (await client.callTool({ name, arguments: args })) as Result;
}

async function someTask(skip: number): Promise<Task> {
  const list = await up.api<{ data: Task[] }>("GET", "/tasks?limit=30");
  return list.body.data[skip]!;
}

const writesTo = (path: string) => up.writes.filter((w) => w.path.includes(path));

beforeAll(async () => {
  up = await startCountingUpstream();
  g = await startApprovalsGateway({ upstream: up, tokens, env: { COUNTERSIGN_APPROVALS_SEPARATE_APPROVER: "1" } });
  alice = (await g.admins.create("alice")).credential;
  bob = (await g.admins.create("bob")).credential;
  agent = await g.agent(secrets.agent!, (d) => logs.push(d));
  other = await g.agent(secrets.other!);
}, 60_000);

afterAll(async () => {
  await g?.close();
  await up?.close();
});

describe("an action that needs a person", () => {
  it("a delete is previewed with approval person, an agent looping on confirm_action never runs it, a person's approval runs it once and the agent is told", async () => {
    const task = await someTask(0);
    const p = await call(agent, "delete_task", { task_id: task.id });
    expect(p.structuredContent).toMatchObject({ status: "pending_confirmation", approval: "person" });
    expect(p.content[0]!.text).toContain("APPROVAL: this write needs a person");
    const id = p.structuredContent!.action_id as string;

    for (let i = 0; i < 5; i++) {
      const c = await call(agent, "confirm_action", { confirm_token: p.structuredContent!.confirm_token });
      expect(c.isError).toBeFalsy();
      expect(c.structuredContent).toMatchObject({ status: "awaiting_approval", action_id: id, approvers: expect.stringContaining("console admin"), expires_at: expect.any(String) });
    }
    expect(writesTo(task.id)).toHaveLength(0);
    expect((await up.api("GET", `/tasks/${task.id}`)).status).toBe(200);
    expect((await call(agent, "get_action", { action_id: id })).structuredContent).toMatchObject({ status: "awaiting_approval" });

    const inbox = await consoleApi(g.base, alice, "GET", "/approvals");
    expect(inbox.status).toBe(200);
    expect(inbox.body.approvals[0]).toMatchObject({ actionId: id, tool: "delete_task", method: "DELETE", requestedBy: "agent", status: "awaiting_approval" });
    const detail = await consoleApi(g.base, alice, "GET", `/approvals/${id}`);
    expect(detail.body.approval.preview.current).toMatchObject({ id: task.id });
    expect(detail.body.approval.fresh).toMatchObject({ changed: false, current: { id: task.id } });

    const approved = await consoleApi(g.base, alice, "POST", `/approvals/${id}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ verdict: "approved", outcome: "executed" });
    expect(writesTo(task.id)).toHaveLength(1);
    expect(writesTo(task.id)[0]!.headers["idempotency-key"]).toBe(id);
    expect(writesTo(task.id)[0]!.headers["if-match"]).toBeTruthy();
    expect((await up.api("GET", `/tasks/${task.id}`)).status).toBe(404);

    // Replay: a second approval (or a rejection) is refused and runs nothing.
    const again = await consoleApi(g.base, bob, "POST", `/approvals/${id}/approve`, {});
    expect(again).toMatchObject({ status: 409, body: { error: { code: "already_decided", message: expect.stringContaining("approved by alice") } } });
    expect((await consoleApi(g.base, bob, "POST", `/approvals/${id}/reject`, { reason: "late" })).status).toBe(409);
    expect(writesTo(task.id)).toHaveLength(1);

    const got = await call(agent, "get_action", { action_id: id });
    expect(got.structuredContent).toMatchObject({ status: "executed", decision: { verdict: "approved", by: "alice", outcome: "executed" } });
    const c = await call(agent, "confirm_action", { confirm_token: p.structuredContent!.confirm_token });
    expect(c.structuredContent).toMatchObject({ status: "already_executed" });
    await until(() => logs.some((l) => l.action_id === id), 10_000, "the decision notice");
    expect(logs.find((l) => l.action_id === id)).toMatchObject({ event: "action_decided", status: "executed", decision: { by: "alice" } });

    await agent.listTools(); // the client then checks get_activity's answer against its outputSchema
    const activity = await call(agent, "get_activity", { limit: 10 });
    const events = activity.structuredContent!.events as { type: string; tool: string; summary: string; outcome: string; action_id?: string }[];
    expect(events.find((e) => e.type === "decided" && e.action_id === id)).toMatchObject({ outcome: "executed", summary: expect.stringContaining("alice approved") });
    // One execution; the agent's confirms were recorded as awaiting approval, get_action as a read.
    expect(events.filter((e) => e.type === "confirmed" && e.outcome === "executed" && e.action_id === id)).toHaveLength(1);
    expect(events.find((e) => e.tool === "confirm_action" && e.outcome === "awaiting_approval" && e.action_id === id)?.summary).toMatch(/^Awaiting approval: delete task/);
    expect(events.filter((e) => e.tool === "get_action").every((e) => e.type === "tool_call" && e.outcome === "ok")).toBe(true);
  });

  it("a rejection carries its reason to the agent and sends nothing", async () => {
    const task = await someTask(1);
    const p = await call(agent, "delete_task", { task_id: task.id });
    const id = p.structuredContent!.action_id as string;
    const noReason = await consoleApi(g.base, alice, "POST", `/approvals/${id}/reject`, {});
    expect(noReason).toMatchObject({ status: 400, body: { error: { code: "invalid_arguments", message: expect.stringContaining("reason") } } });
    const blank = await consoleApi(g.base, alice, "POST", `/approvals/${id}/reject`, { reason: "   " });
    expect(blank.status).toBe(400);
    const r = await consoleApi(g.base, alice, "POST", `/approvals/${id}/reject`, { reason: "Keep this task: it is in the Q3 plan" });
    expect(r).toMatchObject({ status: 200, body: { verdict: "rejected" } });
    expect(writesTo(task.id)).toHaveLength(0);
    const got = await call(agent, "get_action", { action_id: id });
    expect(got.structuredContent).toMatchObject({ status: "rejected", decision: { verdict: "rejected", by: "alice", reason: "Keep this task: it is in the Q3 plan" } });
    expect(got.content[0]!.text).toContain("rejected by alice: Keep this task");
    const c = await call(agent, "confirm_action", { confirm_token: p.structuredContent!.confirm_token });
    expect(c.structuredContent).toMatchObject({ status: "rejected" });
    expect((await consoleApi(g.base, bob, "POST", `/approvals/${id}/approve`, {})).status).toBe(409);
    expect(writesTo(task.id)).toHaveLength(0);
    const events = (await call(agent, "get_activity", { limit: 10 })).structuredContent!.events as { type: string; summary: string; outcome: string; action_id?: string }[];
    expect(events.find((e) => e.type === "decided" && e.action_id === id)).toMatchObject({ outcome: "rejected", summary: expect.stringContaining("Keep this task") });
  });

  it("approval both: the agent confirms first (then it enters the inbox); a resource changed since the preview is refused as conflict", async () => {
    const task = await someTask(2);
    const p = await call(agent, "update_task", { task_id: task.id, body: { title: "Renamed with a second signature" } });
    expect(p.structuredContent).toMatchObject({ status: "pending_confirmation", approval: "both" });
    const id = p.structuredContent!.action_id as string;
    expect((await consoleApi(g.base, alice, "GET", "/approvals")).body.approvals.map((a: any) => a.actionId)).not.toContain(id);
    expect((await consoleApi(g.base, alice, "POST", `/approvals/${id}/approve`, {})).body.error.message).toContain("has not confirmed");
    const c = await call(agent, "confirm_action", { confirm_token: p.structuredContent!.confirm_token });
    expect(c.structuredContent).toMatchObject({ status: "awaiting_approval" });
    expect((await consoleApi(g.base, alice, "GET", "/approvals")).body.approvals.map((a: any) => a.actionId)).toContain(id);

    const latest = await up.api<Task>("GET", `/tasks/${task.id}`);
    expect((await up.api("PATCH", `/tasks/${task.id}`, { title: "Someone else's edit" }, { "if-match": latest.etag! })).status).toBe(200);
    const detail = await consoleApi(g.base, alice, "GET", `/approvals/${id}`);
    expect(detail.body.approval.fresh).toMatchObject({ changed: true, current: { title: "Someone else's edit" } });

    const before = up.writes.length;
    const approved = await consoleApi(g.base, alice, "POST", `/approvals/${id}/approve`, {});
    expect(approved.body).toMatchObject({ verdict: "approved", outcome: "conflict", error: { code: "conflict" } });
    expect(up.writes.length - before).toBe(1); // sent with If-Match, refused by the upstream
    expect((await up.api<Task>("GET", `/tasks/${task.id}`)).body.title).toBe("Someone else's edit");
    expect((await call(agent, "get_action", { action_id: id })).structuredContent).toMatchObject({ status: "failed", decision: { outcome: "conflict" } });
  });
});

describe("a token marked as always needing a person", () => {
  it("its plain create waits for a person too; the flag is refused when not a boolean", async () => {
    expect((await consoleApi(g.base, alice, "POST", "/tokens", { name: "x", needsPerson: "yes" })).body.error).toMatchObject({ code: "invalid_arguments", message: "needsPerson must be true or false" });
    const created = await consoleApi(g.base, bob, "POST", "/tokens", { name: "careful agent", needsPerson: true });
    expect(created.body.token).toMatchObject({ needsPerson: true });
    const careful = await g.agent(created.body.secret);
    const t = await someTask(5);
    const p = await call(careful, "create_task", { project_id: t.project_id, title: "Asked by a careful agent" });
    expect(p.structuredContent).toMatchObject({ status: "pending_confirmation", approval: "person" });
    expect((await call(careful, "confirm_action", { confirm_token: p.structuredContent!.confirm_token })).structuredContent).toMatchObject({ status: "awaiting_approval" });
    const plain = await call(agent, "create_task", { project_id: t.project_id, title: "Asked by the plain agent" });
    expect(plain.structuredContent!.approval).toBeUndefined();
    const before = up.writes.length;
    expect((await consoleApi(g.base, alice, "POST", `/approvals/${p.structuredContent!.action_id}/approve`, {})).body).toMatchObject({ outcome: "executed" });
    expect(up.writes.length - before).toBe(1);
  });
});

describe("who may decide", () => {
  it("an agent token, no credential and an unknown admin credential are refused by the console API", async () => {
    expect((await consoleApi(g.base, secrets.agent!, "GET", "/approvals")).body.error.code).toBe("agent_token");
    expect((await consoleApi(g.base, "csa_nothing", "GET", "/approvals")).status).toBe(401);
    const res = await fetch(`${g.base}/console/api/approvals`);
    expect(res.status).toBe(401);
    // A member (a person who may only allow OAuth clients) is not an approver.
    const member = (await g.admins.create("mia", { modules: ["tasks"], readOnly: false, maxExpiryDays: 7 })).credential;
    expect((await consoleApi(g.base, member, "GET", "/approvals")).status).toBe(403);
    expect((await consoleApi(g.base, member, "POST", "/approvals/act_x/approve", {})).status).toBe(403);
  });

  it("another token's action is unknown to the agent; bad ids are refused", async () => {
    const task = await someTask(3);
    const p = await call(agent, "delete_task", { task_id: task.id });
    const id = p.structuredContent!.action_id as string;
    expect((await call(other, "get_action", { action_id: id })).structuredContent).toMatchObject({ status: "unknown" });
    expect((await call(other, "get_action", { action_id: "not-an-id" })).isError).toBe(true);
    expect((await consoleApi(g.base, alice, "GET", "/approvals/act_doesnotexist")).status).toBe(404);
    expect((await consoleApi(g.base, alice, "GET", "/approvals/..%2Fetc")).status).toBe(400);
    expect((await consoleApi(g.base, alice, "POST", `/approvals/${id}/reject`, { reason: "cleanup" })).status).toBe(200);
  });

  it("an approval and a rejection racing on the embedded store: one wins, the other is told what happened, at most the winner's write is sent", async () => {
    for (let round = 0; round < 4; round++) {
      const t = await someTask(6 + round);
      const p = await call(agent, "delete_task", { task_id: t.id });
      const id = p.structuredContent!.action_id as string;
      const [yes, no] = await Promise.all([consoleApi(g.base, alice, "POST", `/approvals/${id}/approve`, {}), consoleApi(g.base, bob, "POST", `/approvals/${id}/reject`, { reason: "race" })]);
      expect([yes.status, no.status].sort()).toEqual([200, 409]);
      const approved = yes.status === 200;
      expect(writesTo(t.id)).toHaveLength(approved ? 1 : 0);
      expect((approved ? no : yes).body.error.message).toMatch(approved ? /approved by alice and executed/ : /rejected by bob/);
      expect((await call(agent, "get_action", { action_id: id })).structuredContent!.status).toBe(approved ? "executed" : "rejected");
    }
  });

  it("four eyes: the admin who created the requesting token can't approve; another admin can", async () => {
    const created = await consoleApi(g.base, alice, "POST", "/tokens", { name: "alice's agent" });
    expect(created.status).toBe(201);
    const mine = await g.agent(created.body.secret);
    const task = await someTask(4);
    const p = await call(mine, "delete_task", { task_id: task.id });
    const id = p.structuredContent!.action_id as string;
    const refused = await consoleApi(g.base, alice, "POST", `/approvals/${id}/approve`, {});
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "separate_approver" } } });
    expect(writesTo(task.id)).toHaveLength(0);
    const ok = await consoleApi(g.base, bob, "POST", `/approvals/${id}/approve`, {});
    expect(ok.body).toMatchObject({ verdict: "approved", outcome: "executed" });
    expect(writesTo(task.id)).toHaveLength(1);
  });
});
