/**
 * Per-operation behaviour for the bundled workspace spec, keyed by operationId, where the
 * operation's description asks for more than the generic conventions give: task moves and
 * assignment, counts and analytics, search, timers, stock levels, revisions, bulk jobs, tokens,
 * exports and imports, and the streaming agent.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { HttpProblem, type Engine, type Handler, type OpRequest, type Reply } from "./engine.js";
import type { StoredRecord } from "./store.js";
import { readZip, writeZip } from "./zip.js";

type Rec = StoredRecord;

const OPEN = (s: unknown) => !["done", "cancelled"].includes(String(s));
const PRIORITY_RANK = ["none", "low", "medium", "high", "urgent"];
const DAY = 86400000;

function body(req: OpRequest): Record<string, unknown> {
  return req.body && typeof req.body === "object" && !Buffer.isBuffer(req.body) ? (req.body as Record<string, unknown>) : {};
}

/** The caller: the first user (the seeded organization owner). */
function me(engine: Engine): Rec {
  const users = engine.store.all("User");
  if (users.length === 0) throw new HttpProblem(500, "No users", "the store has no users");
  return users[0];
}

function summary(_engine: Engine, user: Rec | undefined): Rec | null {
  if (!user) return null;
  return { id: user.id, name: user.name, email: user.email, avatar_url: user.avatar_url ?? null };
}

function get(engine: Engine, resource: string, id: unknown, what = resource): Rec {
  const rec = typeof id === "string" ? engine.findById(resource, id) : undefined;
  if (!rec) throw new HttpProblem(404, "Not Found", `${what} '${String(id)}' does not exist`);
  return rec;
}

function today(engine: Engine): string {
  return engine.stamp().slice(0, 10);
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)];
}

function json(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return { status, body: value, headers };
}

/** Records one TaskChange row per field that differs between two versions of a task. */
function recordTaskChanges(engine: Engine, before: Rec, after: Rec): void {
  const skip = new Set(["updated_at", "version", "position", "subtask_count", "comment_count"]);
  const actor = summary(engine, me(engine));
  for (const key of Object.keys({ ...before, ...after })) {
    if (skip.has(key) || key.startsWith("__")) continue;
    if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    const id = randomUUID();
    engine.store.put("TaskChange", id, {
      id,
      __task_id: after.id,
      actor,
      field: key,
      from: before[key] ?? null,
      to: after[key] ?? null,
      version: after.version,
      changed_at: engine.stamp(),
    });
  }
}

/** Sets a task's status, keeping completed_at and the board column consistent. */
function setTaskStatus(engine: Engine, task: Rec, status: string): void {
  task.status = status;
  task.completed_at = status === "done" ? (task.completed_at ?? engine.stamp()) : null;
}

function taskKey(engine: Engine, projectId: unknown): string {
  const project = typeof projectId === "string" ? engine.findById("Project", projectId) : undefined;
  const prefix = String(project?.key ?? "TASK");
  const used = engine.store
    .all("Task")
    .map((t) => String(t.key ?? ""))
    .filter((k) => k.startsWith(`${prefix}-`))
    .map((k) => Number(k.slice(prefix.length + 1)))
    .filter(Number.isFinite);
  return `${prefix}-${(used.length ? Math.max(...used) : 0) + 1}`;
}

function taskReply(engine: Engine, req: OpRequest, task: Rec, status?: number): Reply {
  return engine.itemReply(req.plan, task, status);
}

/** Loads the task a request names, enforcing If-Match, and saves it after `change` with history. */
function changeTask(engine: Engine, req: OpRequest, change: (task: Rec) => void): Reply {
  const task = engine.findItem(req, "Task", "task_id");
  engine.checkIfMatch(req, task);
  const before = structuredClone(task);
  change(task);
  engine.touch(engine.resource("Task"), task);
  recordTaskChanges(engine, before, task);
  return taskReply(engine, req, task);
}

function words(s: unknown): string {
  return typeof s === "string" ? s : "";
}

// ---------------------------------------------------------------- zip export / import

function exportArchive(engine: Engine, filter?: (resource: string, rec: Rec) => boolean): Buffer {
  const files: { name: string; data: Buffer }[] = [];
  for (const name of engine.model.resources.keys()) {
    const rows = engine.store.all(name).filter((r) => !filter || filter(name, r));
    if (rows.length > 0) files.push({ name: `${name}.json`, data: Buffer.from(JSON.stringify(rows, null, 2)) });
  }
  files.push({ name: "manifest.json", data: Buffer.from(JSON.stringify({ format: "workspace-export", version: 1, exported_at: engine.stamp(), spec: engine.spec.sha256 }, null, 2)) });
  return writeZip(files);
}

function zipHeaders(name: string): Record<string, string> {
  return { "Content-Disposition": `attachment; filename="${name}-${new Date().toISOString().slice(0, 10)}.zip"` };
}

// ---------------------------------------------------------------- search

const SEARCHABLE: { type: string; resource: string; title: string[]; text: string[] }[] = [
  { type: "task", resource: "Task", title: ["key", "title"], text: ["description"] },
  { type: "project", resource: "Project", title: ["name"], text: ["description", "key"] },
  { type: "wiki_page", resource: "WikiPage", title: ["title"], text: ["body"] },
  { type: "document", resource: "Document", title: ["title", "name"], text: ["body", "content"] },
  { type: "comment", resource: "Comment", title: ["body"], text: [] },
  { type: "chat_message", resource: "ChatMessage", title: ["body", "text", "content"], text: [] },
  { type: "user", resource: "User", title: ["name"], text: ["email"] },
];

function searchAll(engine: Engine, query: string, types?: string[], projectId?: string, updatedAfter?: string): Rec[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  const hits: Rec[] = [];
  for (const s of SEARCHABLE) {
    if (types && types.length > 0 && !types.includes(s.type)) continue;
    if (!engine.model.resources.has(s.resource)) continue;
    for (const rec of engine.store.all(s.resource)) {
      if (projectId && rec.project_id !== undefined && rec.project_id !== projectId) continue;
      if (updatedAfter && typeof rec.updated_at === "string" && rec.updated_at < updatedAfter) continue;
      const title = s.title.map((f) => words(rec[f])).filter(Boolean).join(" ");
      const text = s.text.map((f) => words(rec[f])).join(" ");
      const hay = `${title} ${text}`.toLowerCase();
      if (!terms.every((t) => hay.includes(t))) continue;
      const score = terms.reduce((acc, t) => acc + (title.toLowerCase().includes(t) ? 2 : 0) + (text.toLowerCase().includes(t) ? 1 : 0), 0);
      const snippetSource = text || title;
      const at = snippetSource.toLowerCase().indexOf(terms[0] ?? "");
      hits.push({
        type: s.type,
        id: rec.id,
        title: (title || s.type).slice(0, 200),
        snippet: snippetSource ? snippetSource.slice(Math.max(0, at - 40), Math.max(0, at - 40) + 160) : null,
        project_id: typeof rec.project_id === "string" ? rec.project_id : null,
        score: round(score / Math.max(1, terms.length), 3),
        updated_at: rec.updated_at ?? rec.created_at ?? engine.stamp(),
      });
    }
  }
  return hits.sort((a, b) => Number(b.score) - Number(a.score));
}

// ---------------------------------------------------------------- seed fix-ups

/** Makes the generic seed read like a real workspace: task keys, sensible estimates, process runs that follow their process. */
export function fixupWorkspaceSeed(engine: Engine): void {
  const { store } = engine;
  const keys = ["WEB", "APP", "ONB", "DWH", "CUS", "BRD"];
  store.all("Project").forEach((p, i) => {
    p.key = keys[i % keys.length] + (i >= keys.length ? String(i) : "");
    p.archived = false;
    p.archived_at = null;
    store.put("Project", String(p.id), p);
  });
  const counters = new Map<string, number>();
  for (const t of store.all("Task")) {
    const project = engine.findById("Project", String(t.project_id));
    const n = (counters.get(String(t.project_id)) ?? 0) + 1;
    counters.set(String(t.project_id), n);
    t.key = `${String(project?.key ?? "TASK")}-${n}`;
    t.estimate_hours = [1, 2, 3, 5, 8][n % 5];
    t.position = n;
    t.subtask_count = store.all("Subtask").filter((s) => s.task_id === t.id).length;
    t.comment_count = store.all("Comment").filter((c) => c.task_id === t.id).length;
    setTaskStatus(engine, t, String(t.status));
    if (t.status === "done") {
      // Cycle times of a few days, never in the future.
      const done = Math.min(engine.now().getTime() - 3600000, Date.parse(String(t.created_at)) + (2 + (n % 7)) * DAY);
      t.completed_at = new Date(done).toISOString().replace(/\.\d{3}Z$/, "Z");
      t.updated_at = t.completed_at;
    }
    store.put("Task", String(t.id), t);
  }
  for (const run of store.all("ProcessInstance")) {
    const process = engine.findById("Process", String(run.process_id));
    const steps = ((process?.steps as Rec[] | undefined) ?? []).map((s, i) => ({ step_id: s.id, state: i === 0 ? "done" : i === 1 ? "in_progress" : "pending", completed_by: i === 0 ? me(engine).id : null, completed_at: i === 0 ? run.created_at : null, note: null }));
    if (steps.length === 1) steps[0].state = "in_progress";
    run.steps = steps;
    run.state = "running";
    run.current_step_id = steps.find((s) => s.state === "in_progress")?.step_id ?? null;
    store.put("ProcessInstance", String(run.id), run);
  }
  for (const c of store.all("Comment")) {
    c.reactions = {};
    c.edited = false;
    store.put("Comment", String(c.id), c);
  }
  store.all("Notification").forEach((n, i) => {
    const tasks = store.all("Task");
    const task = tasks[i % tasks.length];
    n.resource_type = "task";
    n.resource_id = task.id;
    n.title = `${String(task.key)}: ${String(task.title)}`;
    n.read = i % 3 === 0;
    n.read_at = n.read ? n.created_at : null;
    store.put("Notification", String(n.id), n);
  });
  for (const item of store.all("StockItem")) {
    item.low_stock = typeof item.reorder_point === "number" ? Number(item.on_hand) <= item.reorder_point : false;
    store.put("StockItem", String(item.id), item);
  }
  // Settings documents start from plausible values rather than random ones.
  const settings: Record<string, Rec> = {
    "/billing/subscription": { plan: "business", status: "active", seats: 25, billing_interval: "year", cancel_at_period_end: false, current_period_end: new Date(engine.now().getTime() + 20 * DAY).toISOString().replace(/\.\d{3}Z$/, "Z") },
    "/audit/settings": { retention_days: 365, stream_to_url: null, alert_email: "security@acme.example" },
  };
  for (const [path, values] of Object.entries(settings)) {
    const plan = [...engine.model.plans.values()].find((p) => p.op.path === path && p.op.method === "GET");
    if (!plan?.responseMedia) continue;
    const value = engine.synth(plan.responseMedia.schema, { full: true }) as Rec;
    for (const [k, v] of Object.entries(values)) if (k in value || v !== null) value[k] = v;
    store.put("_singletons", path, { value });
  }
  store.commit();
}

// ---------------------------------------------------------------- audit trail

let auditSeq = 0;

/** Appends an audit event for a successful write, so the audit log shows what callers really did. */
export function recordAuditEvent(engine: Engine, req: OpRequest, reply: Reply): void {
  if (req.op.method === "GET" || reply.status >= 300 || !engine.model.resources.has("AuditEvent")) return;
  const out = reply.body && typeof reply.body === "object" ? (reply.body as Rec) : {};
  const resourceType = req.plan.resource ? req.plan.resource.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase() : (req.plan.words[0] ?? "workspace");
  const resourceId = String(out.id ?? out.job_id ?? Object.values(req.pathParams).pop() ?? "");
  const user = me(engine);
  const id = randomUUID();
  auditSeq += 1;
  engine.store.put("AuditEvent", id, {
    __seq: auditSeq,
    id,
    occurred_at: engine.stamp(),
    actor: { type: "api_token", id: String(user.id), name: user.name ?? null },
    action: req.op.operationId.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(),
    resource_type: resourceType,
    resource_id: resourceId || id,
    changes: req.body && typeof req.body === "object" && !Buffer.isBuffer(req.body) ? (req.body as Rec) : null,
    ip_address: "127.0.0.1",
    user_agent: null,
  });
  // Keep the log bounded: the collection is rewritten on every change.
  const events = engine.store.all("AuditEvent");
  if (events.length > MAX_AUDIT_EVENTS) {
    events.sort((a, b) => String(a.occurred_at).localeCompare(String(b.occurred_at)));
    for (const old of events.slice(0, events.length - MAX_AUDIT_EVENTS)) engine.store.delete("AuditEvent", String(old.id));
  }
}

const MAX_AUDIT_EVENTS = 5000;

// ---------------------------------------------------------------- the handlers

/** The handlers, keyed by operationId; operations without one use the generic engine. */
export function createHandlers(): Record<string, Handler> {
  const h: Record<string, Handler> = {};

  // ------------------------------------------------------------ projects
  h.listProjects = async (req, engine) => {
    const archived = req.query.status === "archived";
    const q = { ...req.query };
    if (archived) delete q.status;
    let items = engine.filterItems({ ...req, query: { ...q, include_archived: true } }, "Project");
    items = items.filter((p) => (archived ? p.archived === true : p.archived !== true));
    return engine.listReply(req, items);
  };
  h.getProjectStats = async (req, engine) => {
    const project = get(engine, "Project", req.pathParams.project_id, "project");
    const tasks = engine.store.all("Task").filter((t) => t.project_id === project.id);
    const counted = tasks.filter((t) => t.status !== "cancelled");
    const open = tasks.filter((t) => OPEN(t.status));
    const done = tasks.filter((t) => t.status === "done");
    const byStatus: Record<string, number> = {};
    for (const t of tasks) byStatus[String(t.status)] = (byStatus[String(t.status)] ?? 0) + 1;
    const byPriority: Record<string, number> = {};
    for (const t of open) byPriority[String(t.priority)] = (byPriority[String(t.priority)] ?? 0) + 1;
    const taskIds = new Set(tasks.map((t) => t.id));
    const minutes = engine.store.all("TimeEntry").filter((e) => e.project_id === project.id || taskIds.has(e.task_id)).reduce((a, e) => a + Number(e.minutes ?? 0), 0);
    return json(200, {
      project_id: project.id,
      total_tasks: counted.length,
      open_tasks: open.length,
      completed_tasks: done.length,
      overdue_tasks: open.filter((t) => typeof t.due_date === "string" && t.due_date < today(engine)).length,
      unassigned_tasks: open.filter((t) => !Array.isArray(t.assignee_ids) || t.assignee_ids.length === 0).length,
      by_status: byStatus,
      by_priority: byPriority,
      percent_complete: counted.length === 0 ? 0 : round((100 * done.length) / counted.length, 1),
      logged_hours: round(minutes / 60),
    });
  };
  const addMember = (resource: string, parentParam: string): Handler => async (req, engine, generic) => {
    const userId = body(req).user_id;
    get(engine, "User", userId, "user");
    const exists = engine.store.all(resource).some((m) => m[`__${parentParam}`] === req.pathParams[parentParam] && (m.user as Rec | undefined)?.id === userId);
    if (exists) throw new HttpProblem(409, "Conflict", `user '${String(userId)}' is already a member`);
    const reply = await generic();
    if (resource === "TeamMember") {
      const team = engine.findById("Team", req.pathParams.team_id);
      if (team) {
        team.member_count = engine.store.all("TeamMember").filter((m) => m.__team_id === team.id).length;
        engine.touch(engine.resource("Team"), team);
      }
    }
    return reply;
  };
  h.addProjectMember = addMember("ProjectMember", "project_id");
  h.addTeamMember = addMember("TeamMember", "team_id");

  // ------------------------------------------------------------ tasks
  h.createTask = async (req, engine, generic) => {
    get(engine, "Project", body(req).project_id, "project");
    const reply = await generic();
    const task = engine.findById("Task", String((reply.body as Rec).id))!;
    task.key = taskKey(engine, task.project_id);
    task.reporter_id = me(engine).id;
    task.position = engine.store.all("Task").filter((t) => t.project_id === task.project_id && t.status === task.status).length;
    setTaskStatus(engine, task, String(task.status ?? "todo"));
    for (const f of ["subtask_count", "comment_count"]) task[f] = 0;
    engine.store.put("Task", String(task.id), task);
    return taskReply(engine, req, task, reply.status);
  };
  const taskList = async (req: OpRequest, engine: Engine, mine: boolean) => {
    const query = { ...req.query };
    const who = mine ? String(me(engine).id) : query.assignee_id === "me" ? String(me(engine).id) : (query.assignee_id as string | undefined);
    delete query.assignee_id;
    let items = engine.filterItems({ ...req, query }, "Task");
    if (who === "none") items = items.filter((t) => !Array.isArray(t.assignee_ids) || t.assignee_ids.length === 0);
    else if (who) items = items.filter((t) => Array.isArray(t.assignee_ids) && t.assignee_ids.includes(who));
    if (mine) {
      if (query.status === undefined) items = items.filter((t) => OPEN(t.status));
      items.sort((a, b) => PRIORITY_RANK.indexOf(String(b.priority)) - PRIORITY_RANK.indexOf(String(a.priority)) || String(a.due_date ?? "9999").localeCompare(String(b.due_date ?? "9999")));
    }
    return engine.listReply(req, items);
  };
  h.listTasks = async (req, engine) => taskList(req, engine, false);
  h.listMyTasks = async (req, engine) => taskList(req, engine, true);
  h.updateTask = async (req, engine) =>
    changeTask(engine, req, (task) => {
      const b = body(req);
      engine.applyFields(engine.resource("Task"), task, b);
      if (typeof b.status === "string") setTaskStatus(engine, task, b.status);
    });
  h.moveTask = async (req, engine) =>
    changeTask(engine, req, (task) => {
      const b = body(req);
      if (typeof b.board_column_id === "string") {
        const column = get(engine, "BoardColumn", b.board_column_id, "board column");
        task.board_column_id = column.id;
        if (typeof column.status === "string") setTaskStatus(engine, task, column.status);
      }
      if (typeof b.status === "string") setTaskStatus(engine, task, b.status);
      if (typeof b.project_id === "string" && b.project_id !== task.project_id) {
        get(engine, "Project", b.project_id, "project");
        task.project_id = b.project_id;
        task.key = taskKey(engine, b.project_id);
      }
      const peers = engine.store.all("Task").filter((t) => t.id !== task.id && t.project_id === task.project_id && t.status === task.status);
      task.position = typeof b.position === "number" ? b.position : peers.reduce((m, t) => Math.max(m, Number(t.position ?? 0)), 0) + 1;
    });
  h.assignTask = async (req, engine) =>
    changeTask(engine, req, (task) => {
      const ids = (body(req).assignee_ids as string[]) ?? [];
      for (const id of ids) get(engine, "User", id, "user");
      const current = Array.isArray(task.assignee_ids) ? (task.assignee_ids as string[]) : [];
      task.assignee_ids = body(req).replace === true ? [...new Set(ids)] : [...new Set([...current, ...ids])];
    });
  h.unassignTask = async (req, engine) =>
    changeTask(engine, req, (task) => {
      const ids = body(req).assignee_ids as string[] | undefined;
      const current = Array.isArray(task.assignee_ids) ? (task.assignee_ids as string[]) : [];
      task.assignee_ids = ids ? current.filter((id) => !ids.includes(id)) : [];
    });
  h.completeTask = async (req, engine) => {
    const reply = changeTask(engine, req, (task) => {
      if (task.status === "done") throw new HttpProblem(409, "Conflict", "the task is already done");
      setTaskStatus(engine, task, "done");
    });
    const comment = body(req).comment;
    if (typeof comment === "string" && comment) {
      const task = engine.findById("Task", req.pathParams.task_id)!;
      engine.createRecord("Comment", { body: comment }, { task_id: String(task.id) }).author = summary(engine, me(engine));
      task.comment_count = engine.store.all("Comment").filter((c) => c.task_id === task.id).length;
      engine.store.put("Task", String(task.id), task);
      return taskReply(engine, req, task);
    }
    return reply;
  };
  h.reopenTask = async (req, engine) =>
    changeTask(engine, req, (task) => {
      if (OPEN(task.status)) throw new HttpProblem(409, "Conflict", `the task is not done or cancelled (status ${String(task.status)})`);
      setTaskStatus(engine, task, typeof body(req).status === "string" ? String(body(req).status) : "todo");
    });
  h.addTaskLabel = async (req, engine) =>
    changeTask(engine, req, (task) => {
      const label = get(engine, "Label", body(req).label_id, "label");
      task.label_ids = [...new Set([...((task.label_ids as string[]) ?? []), String(label.id)])];
    });
  h.removeTaskLabel = async (req, engine) => {
    changeTask(engine, req, (task) => {
      const ids = (task.label_ids as string[]) ?? [];
      if (!ids.includes(req.pathParams.label_id)) throw new HttpProblem(404, "Not Found", `label '${req.pathParams.label_id}' is not on the task`);
      task.label_ids = ids.filter((id) => id !== req.pathParams.label_id);
    });
    return { status: 204 };
  };
  h.listTaskCustomFieldValues = async (req, engine) => {
    const task = get(engine, "Task", req.pathParams.task_id, "task");
    const values = (task.custom_fields ?? {}) as Rec;
    const fields = engine.store.all("CustomField").filter((f) => !Array.isArray(f.project_ids) || f.project_ids.length === 0 || f.project_ids.includes(task.project_id) || String(f.id) in values);
    return json(200, { data: fields.map((f) => ({ field_id: f.id, name: f.name, type: f.type, value: values[String(f.id)] ?? null })) });
  };
  h.setTaskCustomFieldValue = async (req, engine) => {
    const field = get(engine, "CustomField", req.pathParams.field_id, "custom field");
    const reply = changeTask(engine, { ...req, headers: { ...req.headers } }, (task) => {
      const values = { ...((task.custom_fields ?? {}) as Rec) };
      const value = body(req).value;
      if (value === null) delete values[String(field.id)];
      else values[String(field.id)] = value;
      task.custom_fields = values;
    });
    if (reply.status >= 400) return reply;
    return json(200, { field_id: field.id, name: field.name, type: field.type, value: body(req).value ?? null });
  };
  h.convertSubtaskToTask = async (req, engine) => {
    const sub = engine.findItem(req, "Subtask", "subtask_id");
    const parent = get(engine, "Task", sub.task_id, "parent task");
    const task = engine.createRecord("Task", { title: sub.title, project_id: parent.project_id, due_date: sub.due_date ?? null, assignee_ids: sub.assignee_id ? [sub.assignee_id] : [] });
    task.project_id = parent.project_id;
    task.key = taskKey(engine, parent.project_id);
    setTaskStatus(engine, task, sub.done === true ? "done" : "todo");
    task.description = `Converted from a subtask of ${String(parent.key)}.`;
    engine.store.put("Task", String(task.id), task);
    engine.removeRecord("Subtask", sub);
    parent.subtask_count = engine.store.all("Subtask").filter((s) => s.task_id === parent.id).length;
    engine.touch(engine.resource("Task"), parent);
    return taskReply(engine, req, task, 200);
  };
  h.createSubtask = async (req, engine, generic) => {
    const reply = await generic();
    const parent = engine.findById("Task", req.pathParams.task_id);
    if (parent) {
      parent.subtask_count = engine.store.all("Subtask").filter((s) => s.task_id === parent.id).length;
      engine.store.put("Task", String(parent.id), parent);
    }
    return reply;
  };
  h.addTaskDependency = async (req, engine, generic) => {
    const other = get(engine, "Task", body(req).depends_on_task_id, "task");
    if (other.id === req.pathParams.task_id) throw new HttpProblem(409, "Conflict", "a task cannot depend on itself");
    return generic();
  };

  // ------------------------------------------------------------ sprints and boards
  h.addTasksToSprint = async (req, engine) => {
    const sprint = engine.findItem(req, "Sprint", "sprint_id");
    const ids = (body(req).task_ids as string[]) ?? [];
    const tasks = ids.map((id) => get(engine, "Task", id, "task"));
    for (const t of tasks) {
      const before = structuredClone(t);
      t.sprint_id = sprint.id;
      engine.touch(engine.resource("Task"), t);
      recordTaskChanges(engine, before, t);
    }
    const inSprint = engine.store.all("Task").filter((t) => t.sprint_id === sprint.id);
    sprint.committed_points = round(inSprint.reduce((a, t) => a + Number(t.estimate_hours ?? 0), 0));
    engine.touch(engine.resource("Sprint"), sprint);
    return engine.itemReply(req.plan, sprint);
  };
  h.completeSprint = async (req, engine, generic) => {
    const reply = await generic();
    const sprint = engine.findById("Sprint", req.pathParams.sprint_id)!;
    const inSprint = engine.store.all("Task").filter((t) => t.sprint_id === sprint.id);
    sprint.completed_points = round(inSprint.filter((t) => t.status === "done").reduce((a, t) => a + Number(t.estimate_hours ?? 0), 0));
    engine.store.put("Sprint", String(sprint.id), sprint);
    return engine.itemReply(req.plan, sprint, reply.status);
  };
  h.getSprintBurndown = async (req, engine) => {
    const sprint = get(engine, "Sprint", req.pathParams.sprint_id, "sprint");
    const tasks = engine.store.all("Task").filter((t) => t.sprint_id === sprint.id);
    const total = tasks.reduce((a, t) => a + Number(t.estimate_hours ?? 1), 0);
    const start = Date.parse(String(sprint.start_date));
    const end = Math.max(start, Date.parse(String(sprint.end_date)));
    const days = Math.min(60, Math.round((end - start) / DAY));
    const points = [];
    for (let d = 0; d <= days; d++) {
      const date = new Date(start + d * DAY).toISOString().slice(0, 10);
      const doneBy = tasks.filter((t) => typeof t.completed_at === "string" && t.completed_at.slice(0, 10) <= date).reduce((a, t) => a + Number(t.estimate_hours ?? 1), 0);
      points.push({ date, remaining: round(total - doneBy), ideal: round(days === 0 ? 0 : total * (1 - d / days)) });
    }
    return json(200, { sprint_id: sprint.id, points });
  };

  // ------------------------------------------------------------ comments, notifications, chat
  h.listNotifications = async (req, engine) => {
    const query = { ...req.query };
    const unreadOnly = query.unread === true || query.unread_only === true;
    delete query.unread;
    delete query.unread_only;
    const all = engine.store.all("Notification");
    let items = engine.filterItems({ ...req, query }, "Notification");
    if (unreadOnly) items = items.filter((n) => n.read !== true);
    items.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    const reply = engine.listReply(req, items);
    const out = reply.body as Rec;
    if ("unread_count" in out) out.unread_count = all.filter((n) => n.read !== true).length;
    return reply;
  };
  h.addTaskComment = async (req, engine, generic) => {
    const reply = await generic();
    const comment = engine.findById("Comment", String((reply.body as Rec).id))!;
    comment.author = summary(engine, me(engine));
    const text = String(comment.body ?? "");
    comment.mentioned_user_ids = engine.store
      .all("User")
      .filter((u) => text.includes(`@${String(u.name).split(" ")[0]}`))
      .map((u) => u.id);
    comment.reactions = {};
    comment.edited = false;
    engine.store.put("Comment", String(comment.id), comment);
    const task = engine.findById("Task", req.pathParams.task_id);
    if (task) {
      task.comment_count = engine.store.all("Comment").filter((c) => c.task_id === task.id).length;
      engine.store.put("Task", String(task.id), task);
    }
    return engine.itemReply(req.plan, comment, reply.status);
  };
  h.updateComment = async (req, engine, generic) => {
    const reply = await generic();
    const comment = engine.findById("Comment", req.pathParams.comment_id);
    if (comment) {
      comment.edited = true;
      engine.store.put("Comment", String(comment.id), comment);
      return engine.itemReply(req.plan, comment, reply.status);
    }
    return reply;
  };
  h.addCommentReaction = async (req, engine) => {
    const comment = engine.findItem(req, "Comment", "comment_id");
    const emoji = String(body(req).emoji);
    const reactions = { ...((comment.reactions ?? {}) as Record<string, number>) };
    const mine = new Set((comment.__my_reactions as string[] | undefined) ?? []);
    if (!mine.has(emoji)) {
      reactions[emoji] = (reactions[emoji] ?? 0) + 1;
      mine.add(emoji);
    }
    comment.reactions = reactions;
    comment.__my_reactions = [...mine];
    engine.touch(engine.resource("Comment"), comment);
    return engine.itemReply(req.plan, comment);
  };
  h.removeCommentReaction = async (req, engine) => {
    const comment = get(engine, "Comment", req.pathParams.comment_id, "comment");
    const emoji = req.pathParams.emoji;
    const mine = (comment.__my_reactions as string[] | undefined) ?? [];
    if (!mine.includes(emoji)) throw new HttpProblem(404, "Not Found", `you have not reacted with ${emoji}`);
    const reactions = { ...((comment.reactions ?? {}) as Record<string, number>) };
    reactions[emoji] = (reactions[emoji] ?? 1) - 1;
    if (reactions[emoji] <= 0) delete reactions[emoji];
    comment.reactions = reactions;
    comment.__my_reactions = mine.filter((e) => e !== emoji);
    engine.touch(engine.resource("Comment"), comment);
    return { status: 204 };
  };
  h.openNotification = async (req, engine) => {
    const n = get(engine, "Notification", req.pathParams.notification_id, "notification");
    n.read = true;
    n.read_at = n.read_at ?? engine.stamp();
    engine.touch(engine.resource("Notification"), n);
    const kinds: Record<string, string> = { task: "Task", comment: "Comment", project: "Project", wiki_page: "WikiPage", chat_message: "ChatMessage", invitation: "Invitation" };
    const targetRes = kinds[String(n.resource_type)];
    const target = targetRes && typeof n.resource_id === "string" ? engine.findById(targetRes, n.resource_id) : undefined;
    return json(200, { notification: engine.publicView(n), target: target ? engine.publicView(target) : { type: n.resource_type ?? null, id: n.resource_id ?? null, deleted: true } });
  };
  h.markAllNotificationsRead = async (req, engine) => {
    const b = body(req);
    let marked = 0;
    for (const n of engine.store.all("Notification")) {
      if (n.read === true) continue;
      if (typeof b.before === "string" && String(n.created_at) >= b.before) continue;
      if (typeof b.type === "string" && n.type !== b.type) continue;
      n.read = true;
      n.read_at = engine.stamp();
      engine.touch(engine.resource("Notification"), n);
      marked++;
    }
    return json(200, { marked });
  };
  h.sendAgentMessage = async (req, engine) => {
    const user = me(engine);
    const mine = engine.store.all("Task").filter((t) => Array.isArray(t.assignee_ids) && t.assignee_ids.includes(user.id) && OPEN(t.status));
    const overdue = mine.filter((t) => typeof t.due_date === "string" && t.due_date < today(engine));
    const question = String(body(req).message ?? "");
    const hits = searchAll(engine, question.split(/\s+/).filter((w) => w.length > 3)[0] ?? "", ["task", "project", "wiki_page"]).slice(0, 2);
    const answer =
      `You asked: "${question}". You have ${mine.length} open tasks, ${overdue.length} of them overdue` +
      (overdue[0] ? ` (the oldest is ${String(overdue[0].key)} "${String(overdue[0].title)}")` : "") +
      "." +
      (hits.length ? ` Related: ${hits.map((h) => `${String(h.type)} "${String(h.title)}"`).join(", ")}.` : "");
    const conversation = typeof body(req).conversation_id === "string" ? String(body(req).conversation_id) : randomUUID();
    const messageId = randomUUID();
    const chunks = answer.match(/.{1,24}(\s|$)/g) ?? [answer];
    async function* events() {
      const pause = () => new Promise((r) => setTimeout(r, 30));
      yield { event: "tool.call", data: JSON.stringify({ tool: "listMyTasks", arguments: { status: ["todo", "in_progress", "in_review"] } }) };
      for (const text of chunks) {
        await pause();
        yield { event: "message.delta", data: JSON.stringify({ text }) };
      }
      await pause();
      yield { event: "message.completed", data: JSON.stringify({ conversation_id: conversation, message_id: messageId }) };
    }
    return { status: 200, events: events() };
  };

  // ------------------------------------------------------------ search
  h.search = async (req, engine) => {
    const b = body(req);
    const hits = searchAll(engine, String(b.query ?? ""), b.types as string[] | undefined, b.project_id as string | undefined, b.updated_after as string | undefined);
    const limit = Number(b.limit ?? 20);
    const offset = typeof b.cursor === "string" && b.cursor ? Number(Buffer.from(b.cursor, "base64url").toString().replace(/^o:/, "")) || 0 : 0;
    const page = hits.slice(offset, offset + limit);
    const more = offset + limit < hits.length;
    return json(200, { data: page, total: hits.length, next_cursor: more ? Buffer.from(`o:${offset + limit}`).toString("base64url") : null, has_more: more });
  };

  // ------------------------------------------------------------ knowledge
  const saveRevision = (engine: Engine, page: Rec, summaryText: string | null) => {
    const id = randomUUID();
    engine.store.put("WikiRevision", id, {
      id,
      page_id: page.id,
      version: page.version,
      title: page.title,
      body: page.body,
      summary: summaryText,
      author: summary(engine, me(engine)),
      created_at: engine.stamp(),
    });
  };
  h.createWikiPage = async (req, engine, generic) => {
    const reply = await generic();
    const page = engine.findById("WikiPage", String((reply.body as Rec).id))!;
    page.last_edited_by = summary(engine, me(engine));
    engine.store.put("WikiPage", String(page.id), page);
    saveRevision(engine, page, "Created");
    return engine.itemReply(req.plan, page, reply.status);
  };
  h.updateWikiPage = async (req, engine, generic) => {
    const reply = await generic();
    if (reply.status >= 400) return reply;
    const page = engine.findById("WikiPage", req.pathParams.page_id)!;
    page.last_edited_by = summary(engine, me(engine));
    engine.store.put("WikiPage", String(page.id), page);
    saveRevision(engine, page, typeof body(req).change_summary === "string" ? String(body(req).change_summary) : null);
    return engine.itemReply(req.plan, page, reply.status);
  };
  h.restoreWikiPageRevision = async (req, engine) => {
    const page = get(engine, "WikiPage", req.pathParams.page_id, "wiki page");
    engine.checkIfMatch(req, page);
    const rev = get(engine, "WikiRevision", req.pathParams.revision_id, "revision");
    if (rev.page_id !== page.id) throw new HttpProblem(404, "Not Found", "that revision belongs to another page");
    page.title = rev.title;
    page.body = rev.body ?? page.body;
    page.last_edited_by = summary(engine, me(engine));
    engine.touch(engine.resource("WikiPage"), page);
    saveRevision(engine, page, `Restored version ${String(rev.version)}`);
    return engine.itemReply(req.plan, page, 200);
  };
  h.updateDocument = async (req, engine, generic) => {
    const reply = await generic();
    if (reply.status >= 400) return reply;
    const doc = engine.findById("Document", req.pathParams.document_id)!;
    const versions = engine.store.all("DocumentVersion").filter((v) => v.__document_id === doc.id);
    const id = randomUUID();
    const text = Object.values(doc).filter((v) => typeof v === "string").join(" ");
    engine.store.put("DocumentVersion", id, { __id: id, __document_id: doc.id, number: versions.length + 1, author: summary(engine, me(engine)), created_at: engine.stamp(), word_count: text.split(/\s+/).length });
    return reply;
  };
  h.listDocumentVersions = async (_req, _engine, generic) => {
    const reply = await generic();
    const data = (reply.body as Rec).data as Rec[];
    data.sort((a, b) => Number(b.number) - Number(a.number));
    return reply;
  };
  h.shareDocument = async (req, engine) => {
    const doc = engine.findItem(req, "Document", "document_id");
    const b = body(req);
    const share = (doc.__share as Rec | undefined) ?? { grants: [], link_sharing: "off" };
    const grants = new Map(((share.grants as Rec[]) ?? []).map((g) => [String(g.user_id), g]));
    for (const id of (b.user_ids as string[] | undefined) ?? []) {
      get(engine, "User", id, "user");
      grants.set(id, { user_id: id, permission: b.permission ?? "view" });
    }
    if (typeof b.link_sharing === "string") share.link_sharing = b.link_sharing;
    share.grants = [...grants.values()];
    doc.__share = share;
    engine.touch(engine.resource("Document"), doc);
    return json(200, {
      document_id: doc.id,
      grants: share.grants,
      link_sharing: share.link_sharing,
      link_url: share.link_sharing === "off" ? null : `https://workspace.example.com/d/${String(doc.id)}`,
    });
  };
  h.applyTemplate = async (req, engine) => {
    const template = engine.findItem(req, "Template", "template_id");
    const b = body(req);
    const kind = String(template.kind ?? "project");
    let id: unknown;
    let created = 1;
    if (kind === "project") {
      const key = String(b.name).replace(/[^A-Za-z]/g, "").toUpperCase().slice(0, 4) || "TPL";
      const project = engine.createRecord("Project", { name: b.name, key: `${key}${engine.store.all("Project").length}`.slice(0, 10), start_date: b.start_date ?? null });
      id = project.id;
      const tasks = Array.isArray((template.content as Rec | undefined)?.tasks) ? ((template.content as Rec).tasks as Rec[]) : [{ title: "Kick-off" }, { title: "Plan" }, { title: "Deliver" }];
      for (const t of tasks) {
        const task = engine.createRecord("Task", { title: String(t.title ?? "Task"), project_id: project.id });
        task.project_id = project.id;
        task.key = taskKey(engine, project.id);
        setTaskStatus(engine, task, "todo");
        engine.store.put("Task", String(task.id), task);
        created++;
      }
    } else if (kind === "task") {
      const projectId = b.project_id ?? engine.store.all("Project")[0]?.id;
      get(engine, "Project", projectId, "project");
      const task = engine.createRecord("Task", { title: b.name, project_id: projectId });
      task.project_id = projectId;
      task.key = taskKey(engine, projectId);
      setTaskStatus(engine, task, "todo");
      engine.store.put("Task", String(task.id), task);
      id = task.id;
    } else {
      id = engine.createRecord("Document", { title: b.name, name: b.name, project_id: b.project_id ?? null }).id;
    }
    template.use_count = Number(template.use_count ?? 0) + 1;
    engine.touch(engine.resource("Template"), template);
    return json(201, { kind, id, created_items: created });
  };

  // ------------------------------------------------------------ processes
  h.startProcess = async (req, engine, generic) => {
    const process = get(engine, "Process", req.pathParams.process_id, "process");
    const reply = await generic();
    const run = engine.findById("ProcessInstance", String((reply.body as Rec).id))!;
    const steps = ((process.steps as Rec[]) ?? []).map((s, i) => ({ step_id: s.id, state: i === 0 ? "in_progress" : "pending", completed_by: null, completed_at: null, note: null }));
    run.process_id = process.id;
    run.steps = steps;
    run.state = steps.length ? "running" : "completed";
    run.current_step_id = steps[0]?.step_id ?? null;
    engine.store.put("ProcessInstance", String(run.id), run);
    process.running_instances = engine.store.all("ProcessInstance").filter((r) => r.process_id === process.id && r.state === "running").length;
    engine.store.put("Process", String(process.id), process);
    return engine.itemReply(req.plan, run, reply.status);
  };
  h.completeProcessStep = async (req, engine) => {
    const run = get(engine, "ProcessInstance", req.pathParams.instance_id, "process run");
    if (run.state !== "running") throw new HttpProblem(409, "Conflict", `the run is ${String(run.state)}`);
    const steps = (run.steps as Rec[]) ?? [];
    const step = steps.find((s) => s.step_id === req.pathParams.step_id);
    if (!step) throw new HttpProblem(404, "Not Found", `step '${req.pathParams.step_id}' is not part of this run`);
    if (run.current_step_id !== step.step_id) throw new HttpProblem(409, "Conflict", "only the current step can be completed");
    const outcome = String(body(req).outcome ?? "done");
    step.state = outcome === "rejected" ? "rejected" : "done";
    step.completed_by = me(engine).id;
    step.completed_at = engine.stamp();
    if (typeof body(req).note === "string") step.note = body(req).note;
    if (body(req).data && typeof body(req).data === "object") run.data = { ...((run.data as Rec) ?? {}), ...(body(req).data as Rec) };
    const next = steps.find((s) => s.state === "pending");
    if (outcome === "rejected") {
      run.state = "rejected";
      run.current_step_id = null;
    } else if (next) {
      next.state = "in_progress";
      run.current_step_id = next.step_id;
    } else {
      run.state = "completed";
      run.current_step_id = null;
    }
    engine.touch(engine.resource("ProcessInstance"), run);
    return engine.itemReply(req.plan, run);
  };

  // ------------------------------------------------------------ stock
  const levelsOf = (engine: Engine, item: Rec): Record<string, number> => {
    if (item.__levels) return item.__levels as Record<string, number>;
    const warehouses = engine.store.all("Warehouse");
    const levels: Record<string, number> = {};
    if (warehouses[0]) levels[String(warehouses[0].id)] = Number(item.on_hand ?? 0);
    return levels;
  };
  h.recordStockMovement = async (req, engine, generic) => {
    const b = body(req);
    const item = get(engine, "StockItem", b.item_id, "stock item");
    const levels = { ...levelsOf(engine, item) };
    const qty = Number(b.quantity);
    const type = String(b.type);
    if (type !== "adjustment" && !(qty > 0)) throw new HttpProblem(400, "Request validation failed", "quantity must be positive", [{ pointer: "/body/quantity", message: "must be > 0 except for adjustments" }]);
    const need = (key: string) => {
      const wid = b[key];
      if (typeof wid !== "string") throw new HttpProblem(400, "Request validation failed", `${key} is required for a ${type}`, [{ pointer: `/body/${key}`, message: `required for ${type}` }]);
      get(engine, "Warehouse", wid, "warehouse");
      return wid;
    };
    if (type === "receipt") {
      const to = need("to_warehouse_id");
      levels[to] = (levels[to] ?? 0) + qty;
    } else if (type === "issue" || type === "transfer") {
      const from = need("from_warehouse_id");
      if ((levels[from] ?? 0) < qty) throw new HttpProblem(409, "Conflict", `only ${levels[from] ?? 0} available in that warehouse`);
      const to = type === "transfer" ? need("to_warehouse_id") : undefined;
      levels[from] = (levels[from] ?? 0) - qty;
      if (to) levels[to] = (levels[to] ?? 0) + qty;
    } else {
      const wh = need("warehouse_id");
      levels[wh] = Math.max(0, (levels[wh] ?? 0) + qty);
    }
    const reply = await generic();
    const movement = engine.findById("StockMovement", String((reply.body as Rec).id))!;
    movement.recorded_by = me(engine).id;
    engine.store.put("StockMovement", String(movement.id), movement);
    item.__levels = levels;
    item.on_hand = round(Object.values(levels).reduce((a, n) => a + n, 0), 3);
    item.low_stock = typeof item.reorder_point === "number" ? Number(item.on_hand) <= item.reorder_point : false;
    engine.touch(engine.resource("StockItem"), item);
    return engine.itemReply(req.plan, movement, reply.status);
  };
  h.getStockLevels = async (req, engine) => {
    const item = get(engine, "StockItem", req.pathParams.item_id, "stock item");
    const reserved = (item.__reserved ?? {}) as Record<string, number>;
    const levels = Object.entries(levelsOf(engine, item)).map(([warehouse_id, on_hand]) => ({ warehouse_id, on_hand, reserved: reserved[warehouse_id] ?? 0, available: on_hand - (reserved[warehouse_id] ?? 0) }));
    return json(200, { item_id: item.id, levels });
  };

  // ------------------------------------------------------------ time tracking
  const timerKey = (engine: Engine) => `timer:${String(me(engine).id)}`;
  const stopRunning = (engine: Engine): Rec | undefined => {
    const timer = engine.store.get("_timers", timerKey(engine));
    if (!timer || timer.running !== true) return undefined;
    const started = Date.parse(String(timer.started_at));
    const minutes = Math.max(1, Math.round((engine.now().getTime() - started) / 60000));
    const task = typeof timer.task_id === "string" ? engine.findById("Task", timer.task_id) : undefined;
    const entry = engine.createRecord("TimeEntry", { user_id: me(engine).id, task_id: timer.task_id ?? null, project_id: task?.project_id ?? null, date: today(engine), minutes, note: timer.note ?? null, billable: true });
    entry.user_id = me(engine).id;
    entry.locked = false;
    entry.timesheet_id = null;
    engine.store.put("TimeEntry", String(entry.id), entry);
    engine.store.put("_timers", timerKey(engine), { running: false, task_id: null, note: null, started_at: null, elapsed_seconds: 0 });
    return entry;
  };
  const timerView = (engine: Engine): Rec => {
    const t = engine.store.get("_timers", timerKey(engine)) ?? { running: false, task_id: null, note: null, started_at: null };
    const elapsed = t.running === true ? Math.max(0, Math.round((engine.now().getTime() - Date.parse(String(t.started_at))) / 1000)) : 0;
    return { running: t.running === true, task_id: t.task_id ?? null, note: t.note ?? null, started_at: t.started_at ?? null, elapsed_seconds: elapsed };
  };
  h.startTimer = async (req, engine) => {
    const b = body(req);
    if (typeof b.task_id === "string") get(engine, "Task", b.task_id, "task");
    stopRunning(engine);
    engine.store.put("_timers", timerKey(engine), { running: true, task_id: b.task_id ?? null, note: b.note ?? null, started_at: engine.stamp() });
    return json(201, timerView(engine));
  };
  h.getCurrentTimer = async (_req, engine) => json(200, timerView(engine));
  h.stopTimer = async (req, engine) => {
    const entry = stopRunning(engine);
    if (!entry) throw new HttpProblem(409, "Conflict", "no timer is running; start one with startTimer");
    return engine.itemReply(req.plan, entry, 200);
  };
  h.listAuditEvents = async (req, engine) => {
    const query = { ...req.query };
    const actor = query.actor_id;
    delete query.actor_id;
    let items = engine.filterItems({ ...req, query }, "AuditEvent");
    if (typeof actor === "string") items = items.filter((e) => (e.actor as Rec | undefined)?.id === actor);
    items.sort((a, b) => String(b.occurred_at).localeCompare(String(a.occurred_at)) || Number(b.__seq ?? 0) - Number(a.__seq ?? 0));
    return engine.listReply(req, items);
  };
  h.listTimeEntries = async (req, engine) => {
    const query = { ...req.query };
    // `user_id=me` is the caller.
    if (query.user_id === "me") query.user_id = me(engine).id;
    const items = engine.filterItems({ ...req, query }, "TimeEntry").sort((a, b) => String(b.date).localeCompare(String(a.date)));
    const reply = engine.listReply(req, items);
    const out = reply.body as Rec;
    out.total_minutes = items.reduce((a, e) => a + Number(e.minutes ?? 0), 0);
    out.total_billable_minutes = items.filter((e) => e.billable === true).reduce((a, e) => a + Number(e.minutes ?? 0), 0);
    return reply;
  };
  h.createTimeEntry = async (req, engine, generic) => {
    const reply = await generic();
    const entry = engine.findById("TimeEntry", String((reply.body as Rec).id))!;
    if (typeof entry.task_id === "string" && !body(req).project_id) entry.project_id = engine.findById("Task", entry.task_id)?.project_id ?? null;
    entry.locked = false;
    entry.timesheet_id = null;
    engine.store.put("TimeEntry", String(entry.id), entry);
    return engine.itemReply(req.plan, entry, reply.status);
  };
  h.submitTimesheet = async (req, engine, generic) => {
    const sheet = engine.findItem(req, "Timesheet", "timesheet_id");
    if (sheet.state !== "open" && sheet.state !== "rejected") throw new HttpProblem(409, "Conflict", `the timesheet is already ${String(sheet.state)}`);
    const start = String(sheet.week_start);
    const end = new Date(Date.parse(start) + 6 * DAY).toISOString().slice(0, 10);
    const entries = engine.store.all("TimeEntry").filter((e) => e.user_id === sheet.user_id && String(e.date) >= start && String(e.date) <= end);
    for (const e of entries) {
      e.locked = true;
      e.timesheet_id = sheet.id;
      engine.store.put("TimeEntry", String(e.id), e);
    }
    sheet.total_minutes = entries.reduce((a, e) => a + Number(e.minutes ?? 0), 0);
    sheet.billable_minutes = entries.filter((e) => e.billable === true).reduce((a, e) => a + Number(e.minutes ?? 0), 0);
    return generic();
  };
  h.reviewTimesheet = async (req, engine) => {
    const sheet = engine.findItem(req, "Timesheet", "timesheet_id");
    const b = body(req);
    if (b.decision === "reject" && !b.comment) throw new HttpProblem(400, "Request validation failed", "a comment is required when rejecting", [{ pointer: "/body/comment", message: "required when decision is reject" }]);
    sheet.state = b.decision === "approve" ? "approved" : "rejected";
    sheet.approver_id = me(engine).id;
    sheet.comment = b.comment ?? null;
    if (sheet.state === "rejected") {
      for (const e of engine.store.all("TimeEntry").filter((x) => x.timesheet_id === sheet.id)) {
        e.locked = false;
        engine.store.put("TimeEntry", String(e.id), e);
      }
    }
    engine.touch(engine.resource("Timesheet"), sheet);
    return engine.itemReply(req.plan, sheet);
  };

  // ------------------------------------------------------------ goals
  const krProgress = (kr: Rec) => {
    const span = Number(kr.target_value) - Number(kr.start_value);
    const p = span === 0 ? 1 : (Number(kr.current_value) - Number(kr.start_value)) / span;
    return round(Math.max(0, Math.min(1, p)) * 100, 1);
  };
  const refreshGoal = (engine: Engine, goal: Rec) => {
    const krs = engine.store.all("KeyResult").filter((k) => k.goal_id === goal.id);
    goal.progress = krs.length === 0 ? Number(goal.progress ?? 0) : round(krs.reduce((a, k) => a + krProgress(k), 0) / krs.length, 1);
  };
  h.createKeyResult = async (req, engine, generic) => {
    const reply = await generic();
    const kr = engine.findById("KeyResult", String((reply.body as Rec).id))!;
    kr.progress = krProgress(kr);
    engine.store.put("KeyResult", String(kr.id), kr);
    const goal = engine.findById("Goal", req.pathParams.goal_id);
    if (goal) {
      refreshGoal(engine, goal);
      engine.store.put("Goal", String(goal.id), goal);
    }
    return engine.itemReply(req.plan, kr, reply.status);
  };
  h.checkInGoal = async (req, engine) => {
    const goal = engine.findItem(req, "Goal", "goal_id");
    const b = body(req);
    for (const [id, value] of Object.entries((b.key_result_values ?? {}) as Record<string, number>)) {
      const kr = get(engine, "KeyResult", id, "key result");
      if (kr.goal_id !== goal.id) throw new HttpProblem(404, "Not Found", `key result '${id}' belongs to another goal`);
      kr.current_value = value;
      kr.progress = krProgress(kr);
      engine.touch(engine.resource("KeyResult"), kr);
    }
    goal.status = b.status;
    refreshGoal(engine, goal);
    engine.touch(engine.resource("Goal"), goal);
    return engine.itemReply(req.plan, goal);
  };

  // ------------------------------------------------------------ analytics
  const inWindow = (engine: Engine, req: OpRequest, date: unknown) => {
    if (typeof date !== "string") return false;
    const from = typeof req.query.from === "string" ? req.query.from : new Date(engine.now().getTime() - 30 * DAY).toISOString().slice(0, 10);
    const to = typeof req.query.to === "string" ? req.query.to : new Date(engine.now().getTime() + 30 * DAY).toISOString().slice(0, 10);
    return date.slice(0, 10) >= from && date.slice(0, 10) <= to;
  };
  h.getWorkload = async (req, engine) => {
    let tasks = engine.store.all("Task").filter((t) => OPEN(t.status));
    if (typeof req.query.project_id === "string") tasks = tasks.filter((t) => t.project_id === req.query.project_id);
    let users = engine.store.all("User");
    if (typeof req.query.team_id === "string") {
      const ids = new Set(engine.store.all("TeamMember").filter((m) => m.__team_id === req.query.team_id).map((m) => (m.user as Rec).id));
      users = users.filter((u) => ids.has(u.id));
    }
    const data = users.map((u) => {
      const mine = tasks.filter((t) => Array.isArray(t.assignee_ids) && t.assignee_ids.includes(u.id));
      const logged = engine.store.all("TimeEntry").filter((e) => e.user_id === u.id && inWindow(engine, req, e.date));
      return {
        user: summary(engine, u),
        open_tasks: mine.length,
        overdue_tasks: mine.filter((t) => typeof t.due_date === "string" && t.due_date < today(engine)).length,
        estimated_hours: round(mine.filter((t) => inWindow(engine, req, t.due_date)).reduce((a, t) => a + Number(t.estimate_hours ?? 0), 0)),
        logged_hours: round(logged.reduce((a, e) => a + Number(e.minutes ?? 0), 0) / 60),
      };
    });
    return json(200, { data });
  };
  h.getVelocity = async (req, engine) => {
    let sprints = engine.store.all("Sprint");
    if (typeof req.query.project_id === "string") sprints = sprints.filter((s) => s.project_id === req.query.project_id);
    sprints = sprints.sort((a, b) => String(a.start_date).localeCompare(String(b.start_date))).slice(-Number(req.query.sprints ?? 6));
    const data = sprints.map((s) => {
      const tasks = engine.store.all("Task").filter((t) => t.sprint_id === s.id);
      const est = (list: Rec[]) => round(list.reduce((a, t) => a + Number(t.estimate_hours ?? 0), 0));
      return { sprint_id: s.id, name: s.name, committed: est(tasks), completed: est(tasks.filter((t) => t.status === "done")) };
    });
    const average = data.length ? round(data.reduce((a, d) => a + d.completed, 0) / data.length) : 0;
    return json(200, { data, average_completed: average });
  };
  h.getCycleTime = async (req, engine) => {
    let done = engine.store.all("Task").filter((t) => t.status === "done" && typeof t.completed_at === "string");
    if (typeof req.query.project_id === "string") done = done.filter((t) => t.project_id === req.query.project_id);
    done = done.filter((t) => inWindow(engine, req, t.completed_at));
    const days = (t: Rec) => Math.max(0, (Date.parse(String(t.completed_at)) - Date.parse(String(t.created_at))) / DAY);
    const byPriority: Record<string, number> = {};
    for (const p of new Set(done.map((t) => String(t.priority)))) byPriority[p] = round(percentile(done.filter((t) => String(t.priority) === p).map(days), 50), 1);
    return json(200, { median_days: round(percentile(done.map(days), 50), 1), p85_days: round(percentile(done.map(days), 85), 1), sample_size: done.length, by_priority: byPriority });
  };
  h.runReport = async (req, engine) => {
    const report = engine.findItem(req, "Report", "report_id");
    const since = new Date(engine.now().getTime() - Number(report.range_days ?? 30) * DAY).toISOString();
    const metric = String(report.metric);
    const groupBy = String(report.group_by);
    let rows: Rec[] = metric === "hours_logged" ? engine.store.all("TimeEntry") : engine.store.all("Task");
    if (metric === "tasks_created") rows = rows.filter((t) => String(t.created_at) >= since);
    if (metric === "tasks_completed" || metric === "cycle_time_days") rows = rows.filter((t) => t.status === "done" && String(t.completed_at ?? "") >= since);
    if (metric === "open_tasks") rows = rows.filter((t) => OPEN(t.status));
    if (metric === "overdue_tasks") rows = rows.filter((t) => OPEN(t.status) && typeof t.due_date === "string" && t.due_date < today(engine));
    if (metric === "hours_logged") rows = rows.filter((e) => String(e.date) >= since.slice(0, 10));
    const keyOf = (r: Rec): string[] => {
      const date = String(r.completed_at ?? r.date ?? r.created_at ?? "").slice(0, 10);
      if (groupBy === "day") return [date];
      if (groupBy === "week") {
        const d = new Date(`${date}T00:00:00Z`);
        return [new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY).toISOString().slice(0, 10)];
      }
      if (groupBy === "month") return [date.slice(0, 7)];
      if (groupBy === "assignee") return Array.isArray(r.assignee_ids) ? (r.assignee_ids as string[]) : [String(r.user_id ?? "unassigned")];
      if (groupBy === "label") return Array.isArray(r.label_ids) ? (r.label_ids as string[]) : [];
      return [String(r[groupBy === "project" ? "project_id" : groupBy] ?? "none")];
    };
    const groups = new Map<string, number[]>();
    for (const r of rows) {
      const v = metric === "hours_logged" ? Number(r.minutes ?? 0) / 60 : metric === "cycle_time_days" ? (Date.parse(String(r.completed_at)) - Date.parse(String(r.created_at))) / DAY : 1;
      for (const k of keyOf(r)) groups.set(k, [...(groups.get(k) ?? []), v]);
    }
    const label = (k: string) => {
      const ref = groupBy === "assignee" ? engine.findById("User", k) : groupBy === "project" ? engine.findById("Project", k) : groupBy === "label" ? engine.findById("Label", k) : undefined;
      return String(ref?.name ?? k);
    };
    const out = [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, values]) => ({ key, label: label(key), value: round(metric === "cycle_time_days" ? percentile(values, 50) : values.reduce((a, n) => a + n, 0)) }));
    return json(200, { report_id: report.id, generated_at: engine.stamp(), rows: out });
  };

  // ------------------------------------------------------------ bulk operations
  const bulkReply = (engine: Engine, operation: string, results: { id: string; ok: boolean; error: string | null }[]): Reply => {
    const succeeded = results.filter((r) => r.ok).length;
    const failed = results.length - succeeded;
    const status = failed === 0 ? "completed" : succeeded === 0 ? "failed" : "partially_failed";
    const jobId = randomUUID();
    engine.store.put("BulkJob", jobId, { id: jobId, operation, status, total: results.length, succeeded, failed, requested_by: me(engine).id, created_at: engine.stamp(), __results: results });
    return json(200, { job_id: jobId, status, succeeded, failed, results });
  };
  const eachTask = (req: OpRequest, engine: Engine, operation: string, apply: (task: Rec) => void): Reply => {
    const ids = (body(req).task_ids as string[]) ?? [];
    const results = ids.map((id) => {
      const task = engine.findById("Task", id);
      if (!task) return { id, ok: false, error: "task not found" };
      try {
        const before = structuredClone(task);
        apply(task);
        if (engine.findById("Task", id)) {
          engine.touch(engine.resource("Task"), task);
          recordTaskChanges(engine, before, task);
        }
        return { id, ok: true, error: null };
      } catch (err) {
        return { id, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    });
    return bulkReply(engine, operation, results);
  };
  h.bulkCreateTasks = async (req, engine) => {
    const results = ((body(req).tasks as Rec[]) ?? []).map((fields) => {
      const project = typeof fields.project_id === "string" ? engine.findById("Project", fields.project_id) : undefined;
      if (!project) return { id: randomUUID(), ok: false, error: `project '${String(fields.project_id)}' does not exist` };
      const task = engine.createRecord("Task", fields);
      task.project_id = project.id;
      task.key = taskKey(engine, project.id);
      task.reporter_id = me(engine).id;
      setTaskStatus(engine, task, String(fields.status ?? "todo"));
      engine.store.put("Task", String(task.id), task);
      return { id: String(task.id), ok: true, error: null };
    });
    return bulkReply(engine, "tasks.create", results);
  };
  h.bulkUpdateTasks = async (req, engine) =>
    eachTask(req, engine, "tasks.update", (task) => {
      const changes = (body(req).changes ?? {}) as Rec;
      engine.applyFields(engine.resource("Task"), task, changes);
      if (typeof changes.status === "string") setTaskStatus(engine, task, changes.status);
    });
  h.bulkMoveTasks = async (req, engine) =>
    eachTask(req, engine, "tasks.move", (task) => {
      const b = body(req);
      if (typeof b.status === "string") setTaskStatus(engine, task, b.status);
      if (typeof b.project_id === "string" && b.project_id !== task.project_id) {
        get(engine, "Project", b.project_id, "project");
        task.project_id = b.project_id;
        task.key = taskKey(engine, b.project_id);
      }
    });
  h.bulkAssignTasks = async (req, engine) => {
    const ids = (body(req).assignee_ids as string[]) ?? [];
    for (const id of ids) get(engine, "User", id, "user");
    return eachTask(req, engine, "tasks.assign", (task) => {
      const current = Array.isArray(task.assignee_ids) ? (task.assignee_ids as string[]) : [];
      task.assignee_ids = body(req).replace === true ? [...new Set(ids)] : [...new Set([...current, ...ids])];
    });
  };
  h.bulkDeleteTasks = async (req, engine) => eachTask(req, engine, "tasks.delete", (task) => engine.removeRecord("Task", task));
  h.bulkArchiveProjects = async (req, engine) => {
    const ids = (body(req).project_ids as string[]) ?? [];
    const results = ids.map((id) => {
      const project = engine.findById("Project", id);
      if (!project) return { id, ok: false, error: "project not found" };
      if (project.archived === true) return { id, ok: false, error: "already archived" };
      engine.applyVerb(engine.resource("Project"), project, "archive", {});
      engine.touch(engine.resource("Project"), project);
      return { id, ok: true, error: null };
    });
    return bulkReply(engine, "projects.archive", results);
  };

  // ------------------------------------------------------------ calendars, wiki moves, integrations, webhooks
  h.respondToCalendarEvent = async (req, engine) => {
    const event = engine.findItem(req, "CalendarEvent", "event_id");
    const user = me(engine);
    const attendees = ((event.attendees as Rec[] | undefined) ?? []).filter((a) => a.user_id !== user.id);
    attendees.push({ user_id: user.id, response: body(req).response });
    event.attendees = attendees;
    if (Array.isArray(event.attendee_ids) && !event.attendee_ids.includes(user.id)) event.attendee_ids = [...event.attendee_ids, user.id];
    engine.touch(engine.resource("CalendarEvent"), event);
    return engine.itemReply(req.plan, event);
  };
  h.moveWikiPage = async (req, engine) => {
    const page = engine.findItem(req, "WikiPage", "page_id");
    engine.checkIfMatch(req, page);
    const b = body(req);
    if (typeof b.space_id === "string") page.space_id = get(engine, "WikiSpace", b.space_id, "wiki space").id;
    if (b.parent_id !== undefined) {
      if (b.parent_id === page.id) throw new HttpProblem(409, "Conflict", "a page cannot be its own parent");
      if (b.parent_id !== null) get(engine, "WikiPage", b.parent_id, "parent page");
      page.parent_id = b.parent_id;
    }
    const siblings = engine.store.all("WikiPage").filter((p) => p.id !== page.id && p.space_id === page.space_id && p.parent_id === page.parent_id);
    page.position = typeof b.position === "number" ? b.position : siblings.reduce((m, p) => Math.max(m, Number(p.position ?? 0)), 0) + 1;
    engine.touch(engine.resource("WikiPage"), page);
    return engine.itemReply(req.plan, page);
  };
  h.syncIntegration = async (req, engine) => {
    const integration = engine.findItem(req, "Integration", "integration_id");
    if (integration.status === "pending_connection") throw new HttpProblem(409, "Conflict", "the integration is not connected yet");
    integration.last_synced_at = engine.stamp();
    integration.status = "active";
    integration.error = null;
    engine.touch(engine.resource("Integration"), integration);
    const jobId = randomUUID();
    return json(202, { job_id: jobId, status: "queued", status_url: `https://workspace.example.com/v1/jobs/${jobId}` });
  };
  h.pingWebhook = async (req, engine, generic) => {
    const reply = await generic();
    const delivery = engine.findById("WebhookDelivery", String((reply.body as Rec).id))!;
    Object.assign(delivery, { event: "ping", status: "succeeded", response_status: 200, duration_ms: 42, attempted_at: engine.stamp() });
    engine.store.put("WebhookDelivery", String(delivery.id), delivery);
    return engine.itemReply(req.plan, delivery, 200);
  };

  // ------------------------------------------------------------ platform and excluded modules
  h.createApiToken = async (req, engine) => {
    const b = body(req);
    const id = randomUUID();
    const secret = `wst_${randomBytes(24).toString("base64url")}`;
    const days = typeof b.expires_in_days === "number" ? b.expires_in_days : null;
    const token: Rec = {
      id,
      name: b.name,
      scopes: b.scopes,
      prefix: secret.slice(0, 8),
      expires_at: days ? new Date(engine.now().getTime() + days * DAY).toISOString().replace(/\.\d{3}Z$/, "Z") : null,
      last_used_at: null,
      created_at: engine.stamp(),
    };
    if (engine.model.resources.has("ApiToken")) engine.store.put("ApiToken", id, token);
    return json(201, { ...token, token: secret });
  };
  h.rotateApiToken = async (req, engine) => {
    const token = get(engine, "ApiToken", req.pathParams.token_id, "API token");
    const secret = `wst_${randomBytes(24).toString("base64url")}`;
    token.prefix = secret.slice(0, 8);
    engine.store.put("ApiToken", String(token.id), token);
    return json(200, { ...engine.publicView(token), token: secret });
  };
  h.authorizeCalendarConnection = async (req, engine) => {
    const provider = req.pathParams.provider;
    if (!["google", "outlook"].includes(provider)) throw new HttpProblem(404, "Not Found", `unknown calendar provider '${provider}'`);
    const state = typeof req.query.state === "string" ? req.query.state : randomBytes(16).toString("base64url");
    const expires = new Date(engine.now().getTime() + 10 * 60000).toISOString().replace(/\.\d{3}Z$/, "Z");
    engine.store.put("_oauth_states", state, { provider, redirect_uri: req.query.redirect_uri ?? null, expires_at: expires });
    const base = provider === "google" ? "https://accounts.google.com/o/oauth2/v2/auth" : "https://login.microsoftonline.com/common/oauth2/v2.0/authorize";
    const url = `${base}?client_id=workspace-sample&response_type=code&scope=calendar.readonly&state=${encodeURIComponent(state)}`;
    return json(200, { authorization_url: url, state, expires_at: expires });
  };
  h.completeCalendarConnection = async (req, engine) => {
    const provider = req.pathParams.provider;
    const state = typeof req.query.state === "string" ? engine.store.get("_oauth_states", req.query.state) : undefined;
    const id = randomUUID();
    const connection = { id, provider, account_email: String(me(engine).email ?? "user@example.com"), status: "active", calendar_ids: engine.store.all("Calendar").slice(0, 1).map((c) => c.id), connected_at: engine.stamp() };
    if (engine.model.resources.has("CalendarConnection")) engine.store.put("CalendarConnection", id, connection);
    if (state) engine.store.delete("_oauth_states", String(req.query.state));
    const html = `<!doctype html><title>Calendar connected</title><p>Your ${provider} calendar (${connection.account_email}) is connected. You can close this window.</p>`;
    return { status: 200, raw: { contentType: "text/html; charset=utf-8", bytes: Buffer.from(html) } };
  };
  h.exportWorkspace = async (_req, engine) => ({ status: 200, headers: zipHeaders("workspace"), raw: { contentType: "application/zip", bytes: exportArchive(engine) } });
  h.exportProject = async (req, engine) => {
    const project = get(engine, "Project", req.pathParams.project_id, "project");
    const taskIds = new Set(engine.store.all("Task").filter((t) => t.project_id === project.id).map((t) => t.id));
    const keep = (res: string, r: Rec) => (res === "Project" ? r.id === project.id : r.project_id === project.id || taskIds.has(r.task_id) || (res === "Attachment" && req.query.include_attachments !== false && taskIds.has(r.task_id)));
    return { status: 200, headers: zipHeaders(`project-${String(project.key ?? project.id)}`), raw: { contentType: "application/zip", bytes: exportArchive(engine, keep) } };
  };
  h.exportAttachments = async (req, engine) => {
    const files: { name: string; data: Buffer }[] = [];
    for (const att of engine.store.all("Attachment")) {
      const task = typeof att.task_id === "string" ? engine.findById("Task", att.task_id) : undefined;
      if (typeof req.query.project_id === "string" && task?.project_id !== req.query.project_id) continue;
      const blob = engine.store.get("_blobs", String(att.id));
      const data = blob ? Buffer.from(String(blob.base64), "base64") : Buffer.from(`(${String(att.filename ?? "file")}: sample content)\n`);
      files.push({ name: `${String(task?.key ?? "no-task")}/${String(att.filename ?? att.id)}`, data });
    }
    if (files.length === 0) files.push({ name: "README.txt", data: Buffer.from("No attachments.\n") });
    return { status: 200, headers: zipHeaders("attachments"), raw: { contentType: "application/zip", bytes: writeZip(files) } };
  };
  const importJob = (engine: Engine, format: string, created: number, errors: string[]): Reply => {
    const id = randomUUID();
    const job = { id, status: errors.length && created === 0 ? "failed" : "completed", source_format: format, created_items: created, errors, created_at: engine.stamp() };
    if (engine.model.resources.has("ImportJob")) engine.store.put("ImportJob", id, job);
    return json(202, job);
  };
  h.importWorkspace = async (req, engine) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const entries = readZip(raw);
    if (!entries) return importJob(engine, "workspace_zip", 0, ["the body is not a ZIP archive made by exportWorkspace"]);
    const overwrite = req.query.on_conflict === "overwrite";
    let created = 0;
    const errors: string[] = [];
    for (const entry of entries) {
      const name = entry.name.replace(/\.json$/, "");
      if (!engine.model.resources.has(name)) continue;
      try {
        const res = engine.resource(name);
        for (const rec of JSON.parse(entry.data.toString("utf8")) as Rec[]) {
          const id = engine.idOf(res, rec);
          if (engine.store.get(name, id) && !overwrite) continue;
          engine.store.put(name, id, rec);
          created++;
        }
      } catch (err) {
        errors.push(`${entry.name}: ${(err as Error).message}`);
      }
    }
    return importJob(engine, "workspace_zip", created, errors);
  };
  h.importTasks = async (req, engine) => {
    const project = get(engine, "Project", req.pathParams.project_id, "project");
    const text = Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "";
    const format = req.query.format === "csv" || (req.query.format !== "json" && !/^\s*[[{]/.test(text)) ? "csv" : "json";
    let rows: Rec[] = [];
    const errors: string[] = [];
    try {
      if (format === "json") {
        const parsed = JSON.parse(text) as unknown;
        rows = Array.isArray(parsed) ? (parsed as Rec[]) : Array.isArray((parsed as Rec).tasks) ? ((parsed as Rec).tasks as Rec[]) : [parsed as Rec];
      } else {
        const [header, ...lines] = text.split(/\r?\n/).filter((l) => l.trim());
        const cols = (header ?? "").split(",").map((c) => c.trim());
        rows = lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i], v.trim()])));
      }
    } catch (err) {
      errors.push(`could not parse the ${format} file: ${(err as Error).message}`);
    }
    let created = 0;
    for (const [i, row] of rows.entries()) {
      if (!row || typeof row.title !== "string" || !row.title) {
        errors.push(`row ${i + 1}: title is required`);
        continue;
      }
      const assignee = typeof row.assignee_email === "string" ? engine.store.all("User").find((u) => u.email === row.assignee_email) : undefined;
      const task = engine.createRecord("Task", { title: row.title, description: row.description ?? null, priority: row.priority, due_date: row.due_date || null, assignee_ids: assignee ? [assignee.id] : [] });
      task.project_id = project.id;
      task.key = taskKey(engine, project.id);
      setTaskStatus(engine, task, typeof row.status === "string" && row.status ? row.status : "todo");
      engine.store.put("Task", String(task.id), task);
      created++;
    }
    return importJob(engine, format, created, errors);
  };

  return h;
}
