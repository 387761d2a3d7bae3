import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { callEveryOperation } from "./call-every-op.js";

const SPEC = "test/fixtures/upstream/mini.yaml";
const TOKEN = "test-token-123";

describe("sample upstream engine on a small spec", () => {
  let dir: string;
  let up: RunningUpstream;
  const call = (method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${up.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  const json = async (res: Response) => (await res.json()) as Record<string, any>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "upstream-mini-"));
    up = await startUpstream({ spec: SPEC, port: 0, dataDir: dir, token: TOKEN });
  });
  afterAll(async () => {
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses calls without the configured bearer token, but serves public operations", async () => {
    const none = await fetch(`${up.baseUrl}/projects`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const wrong = await fetch(`${up.baseUrl}/projects`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${up.baseUrl}/health`)).status).toBe(200);
  });

  it("serves seeded data with cursor pagination", async () => {
    const first = await json(await call("GET", "/projects?limit=2"));
    expect(first.data).toHaveLength(2);
    expect(first.has_more).toBe(true);
    const second = await json(await call("GET", `/projects?limit=2&cursor=${first.next_cursor}`));
    expect(second.data.length).toBeGreaterThan(0);
    expect(second.data[0].id).not.toBe(first.data[0].id);
  });

  it("answers 400 with problem+json listing every problem", async () => {
    const project = (await json(await call("GET", "/projects?limit=1"))).data[0];
    const res = await call("POST", `/projects/${project.id}/tasks?`, { body: { description: 5 } });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    const problem = await json(res);
    const pointers = problem.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toContain("/body");
    expect(pointers).toContain("/body/description");
    const bad = await json(await call("GET", "/projects?limit=500&status=gone"));
    expect(bad.status).toBe(400);
    expect(bad.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(["/query/limit", "/query/status"]);
  });

  it("creates nested records, lists them under the parent, and filters by query fields", async () => {
    const project = (await json(await call("POST", "/projects", { body: { name: "Filter test" } })));
    const a = await call("POST", `/projects/${project.id}/tasks`, { body: { title: "A", status: "done" } });
    expect(a.status).toBe(201);
    await call("POST", `/projects/${project.id}/tasks`, { body: { title: "B", status: "todo" } });
    const all = await json(await call("GET", `/projects/${project.id}/tasks`));
    expect(all.data.map((t: { title: string }) => t.title).sort()).toEqual(["A", "B"]);
    const done = await json(await call("GET", `/projects/${project.id}/tasks?status=done`));
    expect(done.data.map((t: { title: string }) => t.title)).toEqual(["A"]);
    expect((await call("GET", `/projects/not-there/tasks`)).status).toBe(404);
  });

  it("guards versioned updates with ETag / If-Match and bumps the version", async () => {
    const project = (await json(await call("GET", "/projects?limit=1"))).data[0];
    const task = await json(await call("POST", `/projects/${project.id}/tasks`, { body: { title: "Versioned" } }));
    const got = await call("GET", `/tasks/${task.id}`);
    expect(got.headers.get("etag")).toBe(`"${task.version}"`);
    const stale = await call("PATCH", `/tasks/${task.id}`, { body: { title: "x" }, headers: { "if-match": `"${task.version + 5}"` } });
    expect(stale.status).toBe(412);
    const ok = await call("PATCH", `/tasks/${task.id}`, { body: { title: "Renamed" }, headers: { "if-match": `"${task.version}"` } });
    expect(ok.status).toBe(200);
    const updated = await json(ok);
    expect(updated.title).toBe("Renamed");
    expect(updated.version).toBe(task.version + 1);
    expect(ok.headers.get("etag")).toBe(`"${task.version + 1}"`);
  });

  it("replays a write with the same Idempotency-Key instead of applying it twice", async () => {
    const project = (await json(await call("GET", "/projects?limit=1"))).data[0];
    const before = (await json(await call("GET", `/projects/${project.id}/tasks?limit=100`))).data.length;
    const headers = { "idempotency-key": "key-abc-123456" };
    const first = await call("POST", `/projects/${project.id}/tasks`, { body: { title: "Once" }, headers });
    const again = await call("POST", `/projects/${project.id}/tasks`, { body: { title: "Once" }, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await json(again)).id).toBe((await json(first)).id);
    const after = (await json(await call("GET", `/projects/${project.id}/tasks?limit=100`))).data.length;
    expect(after).toBe(before + 1);
    const conflict = await call("POST", `/projects/${project.id}/tasks`, { body: { title: "Different" }, headers });
    expect(conflict.status).toBe(422);
  });

  it("moves, archives and bulk-updates tasks, and the stats endpoint counts them", async () => {
    const [p1, p2] = (await json(await call("GET", "/projects?limit=2"))).data;
    const task = await json(await call("POST", `/projects/${p1.id}/tasks`, { body: { title: "Mover" } }));
    const moved = await json(await call("POST", `/tasks/${task.id}/move`, { body: { project_id: p2.id } }));
    expect(moved.project_id).toBe(p2.id);
    const inP2 = await json(await call("GET", `/projects/${p2.id}/tasks?limit=100`));
    expect(inP2.data.some((t: { id: string }) => t.id === task.id)).toBe(true);
    const archived = await json(await call("POST", `/tasks/${task.id}/archive`));
    expect(archived.status).toBe("archived");

    const list = (await json(await call("GET", `/projects/${p1.id}/tasks?limit=100`))).data;
    const ids = list.slice(0, 2).map((t: { id: string }) => t.id);
    const bulk = await json(await call("POST", "/tasks/bulk-update", { body: { ids, changes: { priority: "urgent" } } }));
    expect(bulk.updated).toBe(2);
    for (const id of ids) expect((await json(await call("GET", `/tasks/${id}`))).priority).toBe("urgent");

    const tasks = (await json(await call("GET", `/projects/${p1.id}/tasks?limit=100`))).data as { status: string }[];
    const stats = await json(await call("GET", `/projects/${p1.id}/stats`));
    expect(stats.total).toBe(tasks.length);
    expect(stats.done).toBe(tasks.filter((t) => t.status === "done").length);
    const byStatus: Record<string, number> = {};
    for (const t of tasks) byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
    expect(stats.by_status).toEqual(byStatus);
  });

  it("accepts a multipart upload and serves the bytes back", async () => {
    const project = (await json(await call("GET", "/projects?limit=1"))).data[0];
    const task = await json(await call("POST", `/projects/${project.id}/tasks`, { body: { title: "With file" } }));
    const form = new FormData();
    form.set("file", new Blob([Buffer.from("hello attachment")], { type: "text/plain" }), "notes.txt");
    form.set("description", "meeting notes");
    const res = await fetch(`${up.baseUrl}/tasks/${task.id}/attachments`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: form });
    expect(res.status).toBe(201);
    const att = await json(res);
    expect(att).toMatchObject({ filename: "notes.txt", size: 16, content_type: "text/plain", description: "meeting notes", task_id: task.id });
    const dl = await call("GET", `/attachments/${att.id}/content`);
    expect(dl.headers.get("content-type")).toBe("text/plain");
    expect(await dl.text()).toBe("hello attachment");
  });

  it("streams the chat answer as server-sent events", async () => {
    const res = await call("POST", "/chat/messages", { body: { message: "how are we doing?" } });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const events = text.trim().split("\n\n");
    expect(events.length).toBeGreaterThan(2);
    expect(events[events.length - 1]).toMatch(/event: done/);
    const deltas = events.filter((e) => e.includes("event: delta")).map((e) => JSON.parse(e.split("data: ")[1]).text).join("");
    expect(deltas).toContain("how are we doing?");
  });

  it("answers every operation of the spec with a response that matches its schema", async () => {
    const outcomes = await callEveryOperation(up, TOKEN);
    const failures = outcomes.filter((o) => o.problems.length > 0);
    expect(failures).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(15);
  });

  it("keeps its data across a restart and does not seed twice", async () => {
    const project = (await json(await call("GET", "/projects?limit=1"))).data[0];
    const task = await json(await call("POST", `/projects/${project.id}/tasks`, { body: { title: "Survives restarts" } }));
    const countBefore = (await json(await call("GET", "/users?limit=100"))).data.length;
    await up.close();
    up = await startUpstream({ spec: SPEC, port: 0, dataDir: dir, token: TOKEN });
    const again = await json(await call("GET", `/tasks/${task.id}`));
    expect(again.title).toBe("Survives restarts");
    expect((await json(await call("GET", "/users?limit=100"))).data.length).toBe(countBefore);
  });

  it("seeds the same demo data for the same seed", async () => {
    const other = mkdtempSync(join(tmpdir(), "upstream-mini-"));
    const a = await startUpstream({ spec: SPEC, port: 0, dataDir: other, token: TOKEN, seed: 9 });
    const other2 = mkdtempSync(join(tmpdir(), "upstream-mini-"));
    const b = await startUpstream({ spec: SPEC, port: 0, dataDir: other2, token: TOKEN, seed: 9 });
    try {
      const ids = (u: RunningUpstream) => u.engine.store.all("Project").map((p) => [p.id, p.name]);
      expect(ids(a)).toEqual(ids(b));
      expect(ids(a)).toHaveLength(4);
    } finally {
      await a.close();
      await b.close();
      rmSync(other, { recursive: true, force: true });
      rmSync(other2, { recursive: true, force: true });
    }
  });
});
