import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { readZip } from "../../examples/upstream/zip.js";

const TOKEN = "behaviour-token";
type Json = Record<string, any>;

describe("workspace upstream: operations do what their descriptions say", () => {
  let dir: string;
  let up: RunningUpstream;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${up.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text && /json/.test(res.headers.get("content-type") ?? "") ? JSON.parse(text) : text) as Json };
  };
  const me = async () => (await call("GET", "/users/me")).body;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "upstream-wsb-"));
    up = await startUpstream({ spec: "openapi/workspace.yaml", port: 0, dataDir: dir, token: TOKEN, durable: false });
  });
  afterAll(async () => {
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("seeds a realistic workspace: tasks in every status with keys, last week's time entries", async () => {
    const tasks = (await call("GET", "/tasks?limit=100")).body.data as Json[];
    expect(new Set(tasks.map((t) => t.status))).toEqual(new Set(["backlog", "todo", "in_progress", "in_review", "done", "cancelled"]));
    for (const t of tasks) expect(t.key).toMatch(/^[A-Z]+-\d+$/);
    const entries = (await call("GET", "/time-entries?limit=100")).body;
    expect(entries.data.length).toBeGreaterThan(0);
    const now = new Date();
    const monday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - ((now.getUTCDay() + 6) % 7) - 7));
    const sunday = new Date(monday.getTime() + 6 * 86400000);
    for (const e of entries.data) expect(e.date >= monday.toISOString().slice(0, 10) && e.date <= sunday.toISOString().slice(0, 10)).toBe(true);
    expect(entries.body?.total_minutes ?? entries.total_minutes).toBe(entries.data.reduce((a: number, e: Json) => a + e.minutes, 0));
  });

  it("creates a task with a project key, moves it, assigns it, completes and reopens it, and keeps the history", async () => {
    const project = (await call("GET", "/projects?limit=1")).body.data[0];
    const created = await call("POST", "/tasks", { project_id: project.id, title: "Write the launch FAQ" });
    expect(created.status).toBe(201);
    const task = created.body;
    expect(task.key).toMatch(new RegExp(`^${project.key}-\\d+$`));
    expect(task.version).toBe(1);

    const stale = await call("POST", `/tasks/${task.id}/move`, { status: "in_progress" }, { "if-match": '"9"' });
    expect(stale.status).toBe(412);
    const moved = await call("POST", `/tasks/${task.id}/move`, { status: "in_review" }, { "if-match": '"1"' });
    expect(moved.body.status).toBe("in_review");
    expect(moved.headers.get("etag")).toBe('"2"');

    const users = (await call("GET", "/users?limit=3")).body.data as Json[];
    await call("POST", `/tasks/${task.id}/assign`, { assignee_ids: [users[1].id] });
    const assigned = await call("POST", `/tasks/${task.id}/assign`, { assignee_ids: [users[2].id] });
    expect(assigned.body.assignee_ids).toEqual([users[1].id, users[2].id]);
    const replaced = await call("POST", `/tasks/${task.id}/assign`, { assignee_ids: [users[0].id], replace: true });
    expect(replaced.body.assignee_ids).toEqual([users[0].id]);

    const done = await call("POST", `/tasks/${task.id}/complete`, { comment: "Shipped." });
    expect(done.body.status).toBe("done");
    expect(done.body.completed_at).toBeTruthy();
    expect(done.body.comment_count).toBe(1);
    expect((await call("POST", `/tasks/${task.id}/complete`, {})).status).toBe(409);
    const reopened = await call("POST", `/tasks/${task.id}/reopen`, {});
    expect(reopened.body.status).toBe("todo");
    expect(reopened.body.completed_at).toBeNull();

    const history = (await call("GET", `/tasks/${task.id}/history?limit=100`)).body.data as Json[];
    const statusChanges = history.filter((c) => c.field === "status").map((c) => [c.from, c.to]);
    expect(statusChanges).toEqual([["todo", "in_review"], ["in_review", "done"], ["done", "todo"]]);
  });

  it("counts a project's tasks in its stats and lists only my open tasks", async () => {
    const project = (await call("GET", "/projects?limit=1")).body.data[0];
    const tasks = ((await call("GET", `/tasks?project_id=${project.id}&limit=100`)).body.data as Json[]);
    const stats = (await call("GET", `/projects/${project.id}/stats`)).body;
    expect(stats.total_tasks).toBe(tasks.filter((t) => t.status !== "cancelled").length);
    expect(stats.completed_tasks).toBe(tasks.filter((t) => t.status === "done").length);
    expect(stats.open_tasks).toBe(tasks.filter((t) => !["done", "cancelled"].includes(t.status)).length);
    expect(Object.values(stats.by_status as Record<string, number>).reduce((a, n) => a + n, 0)).toBe(tasks.length);

    const user = await me();
    const mine = (await call("GET", "/users/me/tasks?limit=100")).body.data as Json[];
    expect(mine.length).toBeGreaterThan(0);
    for (const t of mine) {
      expect(t.assignee_ids).toContain(user.id);
      expect(["done", "cancelled"]).not.toContain(t.status);
    }
  });

  it("applies bulk updates item by item and records the bulk job", async () => {
    const tasks = (await call("GET", "/tasks?limit=3")).body.data as Json[];
    const ids = [tasks[0].id, tasks[1].id, "00000000-0000-4000-8000-000000000000"];
    const result = (await call("POST", "/bulk/tasks/update", { task_ids: ids, changes: { priority: "urgent" } })).body;
    expect(result).toMatchObject({ status: "partially_failed", succeeded: 2, failed: 1 });
    expect(result.results.map((r: Json) => r.ok)).toEqual([true, true, false]);
    for (const id of ids.slice(0, 2)) expect((await call("GET", `/tasks/${id}`)).body.priority).toBe("urgent");
    const job = (await call("GET", `/bulk/jobs/${result.job_id}`)).body;
    expect(job).toMatchObject({ id: result.job_id, operation: "tasks.update", total: 3, succeeded: 2, failed: 1 });
  });

  it("searches across tasks and wiki pages", async () => {
    const task = (await call("GET", "/tasks?limit=1")).body.data[0];
    const hits = (await call("POST", "/search", { query: task.title })).body;
    expect(hits.data[0]).toMatchObject({ type: "task", id: task.id });
    expect(hits.total).toBeGreaterThanOrEqual(1);
    const none = (await call("POST", "/search", { query: "zzz-no-such-thing" })).body;
    expect(none.data).toEqual([]);
  });

  it("runs a timer into a time entry, refuses issuing more stock than is on hand, and restores a wiki revision", async () => {
    const task = (await call("GET", "/tasks?limit=1")).body.data[0];
    expect((await call("POST", "/timers", { task_id: task.id, note: "pairing" })).status).toBe(201);
    expect((await call("GET", "/timers/current")).body.running).toBe(true);
    const entry = (await call("POST", "/timers/current/stop")).body;
    expect(entry).toMatchObject({ task_id: task.id, project_id: task.project_id, note: "pairing" });
    expect((await call("GET", "/timers/current")).body.running).toBe(false);
    expect((await call("POST", "/timers/current/stop")).status).toBe(409);

    const item = (await call("GET", "/stock/items?limit=1")).body.data[0];
    const warehouse = (await call("GET", "/stock/warehouses?limit=1")).body.data[0];
    await call("POST", "/stock/movements", { item_id: item.id, type: "receipt", quantity: 10, to_warehouse_id: warehouse.id });
    const levels = (await call("GET", `/stock/items/${item.id}/levels`)).body.levels as Json[];
    const onHand = levels.find((l) => l.warehouse_id === warehouse.id)!.on_hand;
    const refused = await call("POST", "/stock/movements", { item_id: item.id, type: "issue", quantity: onHand + 1, from_warehouse_id: warehouse.id });
    expect(refused.status).toBe(409);
    await call("POST", "/stock/movements", { item_id: item.id, type: "issue", quantity: 4, from_warehouse_id: warehouse.id });
    expect((await call("GET", `/stock/items/${item.id}/levels`)).body.levels.find((l: Json) => l.warehouse_id === warehouse.id).on_hand).toBe(onHand - 4);

    const space = (await call("GET", "/wiki/spaces?limit=1")).body.data[0];
    const page = (await call("POST", `/wiki/spaces/${space.id}/pages`, { title: "Runbook", body: "v1 text" })).body;
    await call("PATCH", `/wiki/pages/${page.id}`, { body: "v2 text" }, { "if-match": `"${page.version}"` });
    const revisions = (await call("GET", `/wiki/pages/${page.id}/revisions?limit=10`)).body.data as Json[];
    const first = revisions.find((r) => r.body === "v1 text")!;
    const restored = await call("POST", `/wiki/pages/${page.id}/revisions/${first.id}/restore`);
    expect(restored.body.body).toBe("v1 text");
    expect(restored.body.version).toBe(page.version + 2);
  });

  it("exports the workspace as a real ZIP that imports back", async () => {
    const res = await fetch(`${up.baseUrl}/exports/workspace`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.headers.get("content-type")).toBe("application/zip");
    const zip = Buffer.from(await res.arrayBuffer());
    const entries = readZip(zip)!;
    expect(entries.map((e) => e.name)).toContain("Task.json");
    const tasks = JSON.parse(entries.find((e) => e.name === "Task.json")!.data.toString()) as Json[];
    expect(tasks.length).toBe(up.engine.store.all("Task").length);
    // Delete one task, then import with on_conflict=skip: only the missing one comes back.
    await call("DELETE", `/tasks/${tasks[0].id}`);
    const job = await fetch(`${up.baseUrl}/imports/workspace?on_conflict=skip`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/zip" }, body: new Uint8Array(zip) });
    expect(job.status).toBe(202);
    expect(await job.json()).toMatchObject({ status: "completed", created_items: expect.any(Number) });
    expect((await call("GET", `/tasks/${tasks[0].id}`)).status).toBe(200);
  });

  it("streams the agent's answer as the documented SSE events", async () => {
    const res = await fetch(`${up.baseUrl}/chat/agent/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ message: "what is overdue?" }),
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = (await res.text()).trim().split("\n\n").map((block) => ({ event: /event: (.*)/.exec(block)![1], data: JSON.parse(/data: (.*)/.exec(block)![1]) }));
    expect(events[0].event).toBe("tool.call");
    expect(events.filter((e) => e.event === "message.delta").map((e) => e.data.text).join("")).toMatch(/overdue/);
    expect(events[events.length - 1]).toMatchObject({ event: "message.completed", data: { conversation_id: expect.any(String), message_id: expect.any(String) } });
  });
});

describe("workspace upstream: audit trail and search in nested fields", () => {
  let dir: string;
  let up: RunningUpstream;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${up.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return (await res.json()) as Json;
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "upstream-wsa-"));
    up = await startUpstream({ spec: "openapi/workspace.yaml", port: 0, dataDir: dir, token: TOKEN, durable: false });
  });
  afterAll(async () => {
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records each write in the audit log, newest first", async () => {
    const project = (await call("GET", "/projects?limit=1")).data[0];
    const label = await call("POST", "/labels", { name: "audited" });
    await call("POST", `/projects/${project.id}/archive`);
    const events = (await call("GET", "/audit/events?per_page=5")).data as Json[];
    expect(events[0]).toMatchObject({ action: "archive_project", resource_type: "project", resource_id: project.id });
    expect(events[1]).toMatchObject({ action: "create_label", resource_id: label.id, changes: { name: "audited" } });
  });

  it("archives a project out of the default list and restores it with its status intact; suspends and reactivates a member", async () => {
    const projects = (await call("GET", "/projects?limit=100")).data as Json[];
    const target = projects.find((p) => p.status === "on_hold") ?? projects[projects.length - 1];
    const archived = await call("POST", `/projects/${target.id}/archive`);
    expect(archived).toMatchObject({ archived: true, status: target.status });
    expect(archived.archived_at).toBeTruthy();
    expect(((await call("GET", "/projects?limit=100")).data as Json[]).some((p) => p.id === target.id)).toBe(false);
    expect(((await call("GET", "/projects?status=archived")).data as Json[]).map((p) => p.id)).toContain(target.id);
    const restored = await call("POST", `/projects/${target.id}/restore`);
    expect(restored).toMatchObject({ archived: false, archived_at: null, status: target.status });

    const org = (await call("GET", "/organizations?limit=1")).data[0];
    const member = ((await call("GET", `/organizations/${org.id}/members?status=active`)).data as Json[])[0];
    expect((await call("POST", `/organizations/${org.id}/members/${member.id}/suspend`)).status).toBe("suspended");
    expect(((await call("GET", `/organizations/${org.id}/members?status=suspended&limit=100`)).data as Json[]).map((m) => m.id)).toContain(member.id);
    expect((await call("POST", `/organizations/${org.id}/members/${member.id}/reactivate`)).status).toBe("active");
  });

  it("finds organization members by their user's name", async () => {
    const org = (await call("GET", "/organizations?limit=1")).data[0];
    const members = (await call("GET", `/organizations/${org.id}/members?limit=100`)).data as Json[];
    const name = members[0].user.name as string;
    const found = (await call("GET", `/organizations/${org.id}/members?q=${encodeURIComponent(name.split(" ")[1])}`)).data as Json[];
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((m) => JSON.stringify(m).includes(name.split(" ")[1]))).toBe(true);
    expect(found.length).toBeLessThan(members.length + 1);
  });
});

describe("workspace upstream: deletes keep references consistent", () => {
  let dir: string;
  let up: RunningUpstream;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${up.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Json };
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "upstream-wsd-"));
    up = await startUpstream({ spec: "openapi/workspace.yaml", port: 0, dataDir: dir, token: TOKEN, durable: false });
  });
  afterAll(async () => {
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("deleting a label takes it off every task; deleting a project deletes its tasks", async () => {
    const tasks = (await call("GET", "/tasks?limit=100")).body.data as Json[];
    const labelled = tasks.find((t) => t.label_ids.length > 0)!;
    const label = labelled.label_ids[0];
    expect((await call("DELETE", `/labels/${label}`)).status).toBe(204);
    const after = (await call("GET", "/tasks?limit=100")).body.data as Json[];
    expect(after.some((t) => t.label_ids.includes(label))).toBe(false);

    const project = (await call("GET", "/projects?limit=1")).body.data[0];
    const own = after.filter((t) => t.project_id === project.id);
    expect(own.length).toBeGreaterThan(0);
    expect((await call("DELETE", `/projects/${project.id}`)).status).toBe(204);
    for (const t of own) expect((await call("GET", `/tasks/${t.id}`)).status).toBe(404);
    expect((await call("GET", `/projects/${project.id}`)).status).toBe(404);
  });
});
