/**
 * Code mode against tool-per-call: 13 multi-step tasks on the sample upstream (the bundled
 * workspace API, seeded deterministically), each done by a scripted agent (no model) three ways:
 *
 *   all      tools/list shows every tool; one tools/call per API call, confirm_action per write
 *   dynamic  tools/list shows the discovery tools; search_tools + describe_tool the first time a
 *            tool is needed, then call_tool per API call, confirm_action per write
 *   code     tools/list shows the code-mode tools; get_api_types for the modules, one run_code,
 *            one confirm_action for the change set
 *
 * Each task is written once, as a script against `api.<module>.<tool>`: code mode sends it to
 * run_code; the other modes run it here, turning each `api` call into round trips. Per task and
 * mode: the tokens an agent reads (tool list, results) and writes (requests), with js-tiktoken
 * (o200k_base); round trips; wall time. Each mode starts from a fresh upstream with the same seed,
 * and after all tasks the upstreams' stores are compared (ids, timestamps and versions set aside).
 *
 * Also the sandbox's own costs: a run's start (context, globals, type stripping) and the overhead
 * of one API call inside the sandbox (a host function that answers at once).
 *
 *   make build && node bench/code-mode.js
 *
 * Writes bench/results/code-mode.json.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createHash } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { getEncoding } from "js-tiktoken";

const ROOT = new URL("..", import.meta.url).pathname;
const dist = (p) => join(ROOT, "dist", p);
const { startUpstream } = await import(dist("examples/upstream/server.js"));
const { createGateway } = await import(dist("src/app.js"));
const { resolveConfig } = await import(dist("src/config.js"));
const { createMemoryTokenStore } = await import(dist("src/stores/tokens.js"));
const { hashToken, mintToken } = await import(dist("src/tokens/format.js"));
const { startHttpServer } = await import(dist("src/transports/http/index.js"));
const { createSandboxPool } = await import(dist("src/code/sandbox.js"));

const enc = getEncoding("o200k_base");
const tokens = (s) => enc.encode(s).length;
const UPSTREAM_TOKEN = "bench-upstream-secret";

/** The tasks: a name, what a person asks, and the script. */
const TASKS = [
  {
    name: "overdue-to-review",
    ask: "Move every overdue task of the first project to in_review and assign them to the first user",
    code: `const project = (await api.projects.list_projects({ sort: "name", limit: 1 })).data[0];
const user = (await api.users.list_users({ limit: 1 })).data[0];
const tasks = (await api.tasks.list_tasks({ project_id: project.id, overdue: true, limit: 50 })).data;
for (const t of tasks) {
  await api.tasks.move_task({ task_id: t.id, body: { status: "in_review" } });
  await api.tasks.assign_task({ task_id: t.id, assignee_ids: [user.id] });
}
return tasks.length;`,
  },
  {
    name: "launch-project",
    ask: "Create a Launch project with a milestone and three tasks in it",
    code: `const project = await api.projects.create_project({ name: "Launch", key: "LNCH" });
const milestone = await api.milestones.create_milestone({ project_id: project.id, title: "Public launch" });
for (const title of ["Write the announcement", "Prepare the demo", "Brief support"]) {
  await api.tasks.create_task({ project_id: project.id, title, milestone_id: milestone.id });
}
return "ok";`,
  },
  {
    name: "label-urgent-todo",
    ask: "Create a needs-triage label and put it on every urgent task still in todo",
    code: `const label = await api.labels.create_label({ name: "needs-triage", color: "#ff0000" });
const tasks = (await api.tasks.list_tasks({ priority: "urgent", status: ["todo"], limit: 50 })).data;
for (const t of tasks) await api.labels.add_task_label({ task_id: t.id, label_id: label.id });
return tasks.length;`,
  },
  {
    name: "nudge-in-review",
    ask: "Comment on every task in review asking for a status update",
    code: `const tasks = (await api.tasks.list_tasks({ status: ["in_review"], limit: 50 })).data;
for (const t of tasks) await api.comments.add_task_comment({ task_id: t.id, body: "Could you give a status update on this review?" });
return tasks.length;`,
  },
  {
    name: "share-open-tasks",
    ask: "Share the first project's backlog and todo tasks among the first three users, round robin",
    code: `const project = (await api.projects.list_projects({ sort: "name", limit: 1 })).data[0];
const members = (await api.users.list_users({ limit: 3 })).data.map((user) => ({ user }));
const tasks = (await api.tasks.list_tasks({ project_id: project.id, status: ["todo", "backlog"], sort: "position", limit: 50 })).data;
let i = 0;
for (const t of tasks) await api.tasks.assign_task({ task_id: t.id, assignee_ids: [members[i++ % members.length].user.id], replace: true });
return tasks.length;`,
  },
  {
    name: "project-stats-report",
    ask: "Which projects have the most overdue tasks?",
    code: `const projects = (await api.projects.list_projects({ sort: "name", limit: 20 })).data;
const rows = [];
for (const p of projects) {
  const s = await api.projects.get_project_stats({ project_id: p.id });
  rows.push({ name: p.name, overdue: s.overdue_tasks, open: s.open_tasks });
}
return rows.sort((a, b) => b.overdue - a.overdue).slice(0, 5);`,
  },
  {
    name: "workload-report",
    ask: "How many tasks is each person working on right now?",
    code: `const users = (await api.users.list_users({ limit: 20 })).data;
const out = {};
for (const u of users) out[u.name] = (await api.tasks.list_tasks({ assignee_id: u.id, status: ["in_progress"], limit: 100 })).data.length;
return out;`,
  },
  {
    name: "close-past-milestones",
    ask: "Close the open milestones whose due date has passed",
    code: `const today = new Date().toISOString().slice(0, 10);
const milestones = (await api.milestones.list_milestones({ state: "open", limit: 100 })).data.filter((m) => m.due_date && m.due_date < today);
for (const m of milestones) await api.milestones.close_milestone({ milestone_id: m.id });
return milestones.length;`,
  },
  {
    name: "plan-sprint",
    ask: "Put the backlog and todo tasks of the first planned sprint's project into that sprint",
    code: `const sprint = (await api.sprints.list_sprints({ state: "planned", limit: 10 })).data[0] ?? null;
const tasks = sprint ? (await api.tasks.list_tasks({ project_id: sprint.project_id, status: ["backlog", "todo"], limit: 50 })).data : [];
if (sprint && tasks.length) await api.sprints.add_tasks_to_sprint({ sprint_id: sprint.id, task_ids: tasks.map((t) => t.id) });
return tasks.length;`,
  },
  {
    name: "team-onboarding",
    ask: "Create a Platform team led by the first user, with the next three users as members",
    code: `const users = (await api.users.list_users({ limit: 4 })).data;
const team = await api.teams.create_team({ name: "Platform", lead_id: users[0].id });
for (const u of users.slice(1)) await api.teams.add_team_member({ team_id: team.id, user_id: u.id });
return users.length;`,
  },
  {
    name: "checklists",
    ask: "Add a 'write tests' and a 'update docs' subtask to the three most recently created todo tasks of the first project",
    code: `const project = (await api.projects.list_projects({ sort: "name", limit: 1 })).data[0];
const tasks = (await api.tasks.list_tasks({ project_id: project.id, status: ["todo"], sort: "-created_at", limit: 3 })).data;
for (const t of tasks) {
  await api.subtasks.create_subtask({ task_id: t.id, title: "Write tests" });
  await api.subtasks.create_subtask({ task_id: t.id, title: "Update docs" });
}
return tasks.length;`,
  },
  {
    name: "complete-low-reviews",
    ask: "Complete every low-priority task in review across all projects",
    code: `const tasks = (await api.tasks.list_tasks({ priority: "low", status: ["in_review"], limit: 100 })).data;
for (const t of tasks) await api.tasks.complete_task({ task_id: t.id, comment: "Closed in the review sweep" });
return tasks.length;`,
  },
  {
    name: "archive-completed-projects",
    ask: "Archive every completed project",
    code: `const projects = (await api.projects.list_projects({ status: "completed", limit: 50 })).data;
for (const p of projects) await api.projects.archive_project({ project_id: p.id });
return projects.length;`,
  },
];

const modulesOf = (code) => [...new Set([...code.matchAll(/api\.(\w+)\.(\w+)/g)].map((m) => m[1]))];
const toolsOf = (code) => [...new Set([...code.matchAll(/api\.(\w+)\.(\w+)/g)].map((m) => m[2]))];
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;

function textOf(result) {
  return result.content.map((c) => (c.type === "text" ? c.text : JSON.stringify(c))).join("\n");
}

/** An agent session: counts what it reads and writes and its round trips. */
function meter(client) {
  const m = { read: 0, written: 0, roundTrips: 0 };
  return {
    m,
    async list() {
      m.roundTrips++;
      const { tools } = await client.listTools();
      m.read += tokens(JSON.stringify(tools));
      return tools;
    },
    async call(name, args) {
      m.roundTrips++;
      m.written += tokens(JSON.stringify({ name, arguments: args }));
      const r = await client.callTool({ name, arguments: args });
      m.read += tokens(textOf(r));
      if (r.isError) throw new Error(`${name} failed: ${textOf(r).slice(0, 300)}`);
      return r;
    },
  };
}

function valueOf(result) {
  if (result.structuredContent) return result.structuredContent;
  return JSON.parse(textOf(result));
}

/** Runs a task's script here, one round trip per API call (all, dynamic). */
async function perCall(task, session, dynamic) {
  const known = new Set();
  const callApi = async (tool, args) => {
    if (dynamic && !known.has(tool)) {
      known.add(tool);
      await session.call("search_tools", { query: tool.replace(/_/g, " "), limit: 5 });
      await session.call("describe_tool", { name: tool });
    }
    const r = dynamic ? await session.call("call_tool", { name: tool, arguments: args }) : await session.call(tool, args);
    if (r.structuredContent?.status === "pending_confirmation") {
      const done = await session.call("confirm_action", { confirm_token: r.structuredContent.confirm_token });
      return done.structuredContent?.result ?? JSON.parse(done.content.at(-1).text);
    }
    return valueOf(r);
  };
  const api = new Proxy({}, { get: (_t, m) => new Proxy({}, { get: (_u, tool) => (args = {}) => callApi(tool, args) }) });
  return new AsyncFunction("api", task.code)(api);
}

/** Code mode: the types of the modules it needs, one run, one confirm. */
async function asCode(task, session) {
  await session.call("get_api_types", { modules: modulesOf(task.code) });
  const r = await session.call("run_code", { code: task.code, intent: task.ask });
  if (r.structuredContent?.status === "pending_confirmation") {
    const done = await session.call("confirm_action", { confirm_token: r.structuredContent.confirm_token });
    if (done.structuredContent?.status !== "executed") throw new Error(`${task.name}: change set ${done.structuredContent?.status}: ${textOf(done).slice(0, 500)}`);
  }
  return r.structuredContent.value;
}

/** The upstream's collections, with what differs by nature between runs (ids made at run time, times, versions) set aside. */
function fingerprint(dataDir, seedIds) {
  const dir = join(dataDir, "collections");
  const out = {};
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
  const norm = (v) => {
    if (typeof v === "string") {
      if (UUID.test(v)) return seedIds.has(v) ? v : "<new>";
      return TIME.test(v) ? "<time>" : v;
    }
    if (Array.isArray(v)) return v.map((x) => JSON.stringify(norm(x))).sort();
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).filter(([key]) => !["version", "etag", "__seq"].includes(key)).map(([key, x]) => [key, norm(x)]).sort());
    return v;
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json") && !f.startsWith("_"))) {
    const records = JSON.parse(readFileSync(join(dir, file), "utf8")).map(([, r]) => r);
    out[file] = createHash("sha256").update(JSON.stringify(records.map((r) => JSON.stringify(norm(r))).sort())).digest("hex").slice(0, 16);
  }
  return out;
}

function seedIdsOf(dataDir) {
  const ids = new Set();
  const dir = join(dataDir, "collections");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    for (const [id] of JSON.parse(readFileSync(join(dir, file), "utf8"))) if (typeof id === "string") ids.add(id);
  }
  return ids;
}

async function runMode(mode) {
  const upDir = mkdtempSync(join(tmpdir(), `cs-bench-code-up-${mode}-`));
  const upstream = await startUpstream({ spec: join(ROOT, "openapi/workspace.yaml"), port: 0, host: "127.0.0.1", dataDir: upDir, token: UPSTREAM_TOKEN });
  const seedIds = seedIdsOf(upDir);
  const secret = mintToken();
  const tokenStore = createMemoryTokenStore([{ id: "tok_bench", hash: hashToken(secret), name: "bench", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() }]);
  const config = resolveConfig({
    env: {
      COUNTERSIGN_DATA_DIR: mkdtempSync(join(tmpdir(), `cs-bench-code-${mode}-`)),
      COUNTERSIGN_UPSTREAM_URL: upstream.url,
      COUNTERSIGN_UPSTREAM_TOKEN: UPSTREAM_TOKEN,
      COUNTERSIGN_GENERATED_DIR: join(ROOT, "generated/workspace"),
      COUNTERSIGN_RATE_LIMITS_SHARED: "false",
      COUNTERSIGN_RATE_NORMAL: "100000",
      COUNTERSIGN_RATE_SENSITIVE: "100000",
      LOG_LEVEL: "silent",
    },
  });
  const gateway = await createGateway(config, { tokens: tokenStore });
  const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  const rows = [];
  for (const task of TASKS) {
    const client = new Client({ name: `bench-${mode}`, version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${http.url}?mode=${mode}`), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
    const session = meter(client);
    const t0 = performance.now();
    await session.list();
    const value = mode === "code" ? await asCode(task, session) : await perCall(task, session, mode === "dynamic");
    const wallMs = performance.now() - t0;
    await client.close();
    rows.push({ task: task.name, mode, tokensRead: session.m.read, tokensWritten: session.m.written, tokens: session.m.read + session.m.written, roundTrips: session.m.roundTrips, wallMs: Math.round(wallMs), value });
  }
  await http.close();
  await gateway.close();
  await upstream.close();
  return { rows, state: fingerprint(upDir, seedIds) };
}

/** The sandbox alone: start of a run, and the cost of one API call inside it. */
async function sandboxCosts() {
  const pool = createSandboxPool({ size: 1, memoryBytes: 64 * 1024 * 1024 });
  const limits = { cpuTimeMs: 5000, wallTimeMs: 60000, memoryBytes: 64 * 1024 * 1024, maxApiCalls: 100000, maxOutputBytes: 1 << 20 };
  const modules = { tasks: ["list_tasks", "get_task"] };
  const onCall = async () => ({ ok: true });
  const run = (code) => pool.run({ runId: `b${Math.random()}`, code, modules, limits, onCall });
  for (let i = 0; i < 20; i++) await run("return 1;");
  const starts = [];
  const totals = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    const r = await run("const x: number = 1; return x;");
    totals.push(performance.now() - t);
    starts.push(r.startMs);
  }
  const N = 2000;
  const perCallMs = [];
  for (let i = 0; i < 7; i++) {
    // Wall time of the calls minus the same loop without them, per call.
    const t1 = performance.now();
    const withCalls = await run(`for (let i = 0; i < ${N}; i++) await api.tasks.get_task({ task_id: "x" }); return 1;`);
    const a = performance.now() - t1;
    const t2 = performance.now();
    const without = await run(`for (let i = 0; i < ${N}; i++) await Promise.resolve({ ok: true }); return 1;`);
    const b = performance.now() - t2;
    if (withCalls.failure || without.failure) throw new Error(JSON.stringify(withCalls.failure ?? without.failure));
    perCallMs.push((a - b) / N);
  }
  await pool.close();
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return {
    runStartMedianMs: Math.round(median(starts) * 1000) / 1000,
    runStartP95Ms: Math.round([...starts].sort((x, y) => x - y)[Math.floor(starts.length * 0.95)] * 1000) / 1000,
    wholeRunMedianMs: Math.round(median(totals) * 1000) / 1000,
    perCallOverheadMedianMs: Math.round(median(perCallMs) * 10000) / 10000,
    note: "runStart: from the run message to the script's first instruction (fresh QuickJS runtime and context, globals, TypeScript stripped) on a warm worker; wholeRun: a one-line TypeScript script, end to end through the pool; perCall: wall time per API call with a host handler that answers at once, minus the same loop awaiting a resolved promise",
  };
}

/**
 * Other sessions during a hostile run: p50/p99 of a read by another session, alone and while a
 * script spins for its whole CPU limit on a sandbox worker.
 */
async function hostile() {
  const upstream = await startUpstream({ spec: join(ROOT, "openapi/workspace.yaml"), port: 0, host: "127.0.0.1", dataDir: mkdtempSync(join(tmpdir(), "cs-bench-code-host-up-")), token: UPSTREAM_TOKEN });
  const secret = mintToken();
  const tokenStore = createMemoryTokenStore([{ id: "tok_bench", hash: hashToken(secret), name: "bench", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() }]);
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: mkdtempSync(join(tmpdir(), "cs-bench-code-host-")), COUNTERSIGN_UPSTREAM_URL: upstream.url, COUNTERSIGN_UPSTREAM_TOKEN: UPSTREAM_TOKEN, COUNTERSIGN_GENERATED_DIR: join(ROOT, "generated/workspace"), COUNTERSIGN_RATE_LIMITS_SHARED: "false", COUNTERSIGN_RATE_NORMAL: "100000", LOG_LEVEL: "silent" } });
  const gateway = await createGateway(config, { tokens: tokenStore });
  const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  const connect = async (mode) => {
    const c = new Client({ name: "bench-hostile", version: "1" });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${http.url}?mode=${mode}`), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
    return c;
  };
  const reader = await connect("all");
  const attacker = await connect("code");
  await attacker.callTool({ name: "run_code", arguments: { code: "return 1", intent: "warm up" } });
  const sample = async (n) => {
    const xs = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await reader.callTool({ name: "get_project_stats", arguments: { project_id: "00000000-0000-4000-8000-000000000000" } });
      xs.push(performance.now() - t);
    }
    return xs.sort((a, b) => a - b);
  };
  const pct = (xs, p) => Math.round(xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] * 100) / 100;
  await sample(50);
  const alone = await sample(300);
  let spinning = true;
  const run = attacker.callTool({ name: "run_code", arguments: { code: "while (true) {}", intent: "spin" } }).then((r) => ((spinning = false), r));
  const during = [];
  while (spinning) {
    const t = performance.now();
    await reader.callTool({ name: "get_project_stats", arguments: { project_id: "00000000-0000-4000-8000-000000000000" } });
    if (spinning) during.push(performance.now() - t);
  }
  const outcome = await run;
  during.sort((a, b) => a - b);
  await Promise.all([reader.close(), attacker.close()]);
  await http.close();
  await gateway.close();
  await upstream.close();
  return {
    read: "get_project_stats by another session, sequential",
    alone: { calls: alone.length, p50Ms: pct(alone, 50), p99Ms: pct(alone, 99) },
    duringHostileRun: { calls: during.length, p50Ms: pct(during, 50), p99Ms: pct(during, 99) },
    hostileRunError: outcome.structuredContent?.error?.kind,
  };
}

const modes = {};
for (const mode of ["all", "dynamic", "code"]) {
  process.stderr.write(`mode ${mode}…\n`);
  modes[mode] = await runMode(mode);
}
const sandbox = await sandboxCosts();
const otherSessions = await hostile();

const perTask = TASKS.map((t) => {
  const get = (mode) => modes[mode].rows.find((r) => r.task === t.name);
  const [all, dyn, code] = [get("all"), get("dynamic"), get("code")];
  return {
    task: t.name,
    ask: t.ask,
    apiCalls: toolsOf(t.code).length,
    all: { tokens: all.tokens, roundTrips: all.roundTrips, wallMs: all.wallMs },
    dynamic: { tokens: dyn.tokens, roundTrips: dyn.roundTrips, wallMs: dyn.wallMs },
    code: { tokens: code.tokens, roundTrips: code.roundTrips, wallMs: code.wallMs },
    tokensAllOverCode: Math.round((all.tokens / code.tokens) * 10) / 10,
    roundTripsDynamicOverCode: Math.round((dyn.roundTrips / code.roundTrips) * 10) / 10,
    sameValue: JSON.stringify(all.value) === JSON.stringify(code.value) && JSON.stringify(dyn.value) === JSON.stringify(code.value),
  };
});
const sum = (mode, key) => modes[mode].rows.reduce((s, r) => s + r[key], 0);
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const stateAll = JSON.stringify(modes.all.state);
const differs = Object.keys(modes.all.state).filter((k) => modes.all.state[k] !== modes.dynamic.state[k] || modes.all.state[k] !== modes.code.state[k]);
const results = {
  node: process.version,
  loadAverage1m: Math.round(loadavg()[0] * 10) / 10,
  tokenizer: "o200k_base (js-tiktoken)",
  tasks: TASKS.length,
  totals: Object.fromEntries(["all", "dynamic", "code"].map((m) => [m, { tokens: sum(m, "tokens"), roundTrips: sum(m, "roundTrips"), wallMs: sum(m, "wallMs") }])),
  ratios: {
    tokensAllOverCodeTotal: Math.round((sum("all", "tokens") / sum("code", "tokens")) * 10) / 10,
    tokensAllOverCodeMedianPerTask: median(perTask.map((t) => t.tokensAllOverCode)),
    tokensAllOverCodeMinPerTask: Math.min(...perTask.map((t) => t.tokensAllOverCode)),
    roundTripsDynamicOverCodeTotal: Math.round((sum("dynamic", "roundTrips") / sum("code", "roundTrips")) * 10) / 10,
    roundTripsDynamicOverCodeMinPerTask: Math.min(...perTask.map((t) => t.roundTripsDynamicOverCode)),
  },
  endState: { identical: differs.length === 0 && stateAll === JSON.stringify(modes.code.state), collectionsCompared: Object.keys(modes.all.state).length, differing: differs },
  sandbox,
  otherSessions,
  perTask,
};
writeFileSync(join(ROOT, "bench/results/code-mode.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify({ totals: results.totals, ratios: results.ratios, endState: results.endState, sandbox, otherSessions }, null, 2));
