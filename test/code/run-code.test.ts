/**
 * run_code end to end: a real gateway and the sample upstream, the SDK client in code mode. Reads
 * run for real; writes come back as one change set; confirming runs them in order, once.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startWorkspace, type Workspace } from "./workspace-harness.js";

type Task = { id: string; project_id: string; title: string; status: string; assignee_ids?: string[] };
type Project = { id: string; name: string; key?: string };

let ws: Workspace;
let client: Client;

beforeAll(async () => {
  ws = await startWorkspace();
  client = await ws.connect(ws.secret, "mode=code");
});
afterAll(async () => ws?.close());

describe("code mode", () => {
  it("lists only search_tools, describe_tool, get_api_types, run_code and the confirm/activity tools (get_action among them)", async () => {
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["cancel_action", "confirm_action", "describe_tool", "get_action", "get_activity", "get_api_types", "list_pending_actions", "run_code", "search_tools"]);
  });

  it("run_code is listed in the other modes too", async () => {
    const all = await ws.connect(ws.secret, "mode=all");
    const names = (await all.listTools()).tools.map((t) => t.name);
    expect(names).toContain("run_code");
    expect(names).toContain("list_tasks");
    expect(names).not.toContain("get_api_types");
  });

  it("describe_tool gives the TypeScript signature; get_api_types the module's declarations", async () => {
    const d = await call(client, "describe_tool", { name: "create_task" });
    expect(d.structuredContent?.signature).toMatch(/^api\.tasks\.create_task\(args: \{ project_id: string; title: string;.*\}\): Promise<Pending>;$/);
    const types = await call(client, "get_api_types", { modules: ["tasks"] });
    const text = types.content[0]!.text!;
    expect(text).toContain("declare namespace api.tasks {");
    expect(text).toMatch(/function list_tasks\(args\?: \{ project_id\?: string;/);
    expect(text).toContain("type Task = {");
    expect(text).not.toContain("namespace api.projects");
    const bad = await call(client, "get_api_types", { modules: ["nope"] });
    expect(bad.isError).toBe(true);
    expect(bad.content[0]!.text).toContain("Unknown module(s): nope");
  });

  it("reads run for real and the script's logs and value come back", async () => {
    const r = await call(client, "run_code", {
      intent: "count open tasks per project",
      code: `
        const projects: { data: { id: string; name: string }[] } = await api.projects.list_projects({ limit: 5 });
        const out: Record<string, number> = {};
        for (const p of projects.data) {
          const tasks = await api.tasks.list_tasks({ project_id: p.id, limit: 100 });
          out[p.name] = tasks.data.length;
          console.log(p.name, tasks.data.length);
        }
        return out;`,
    });
    expect(r.isError, JSON.stringify(r)).toBeFalsy();
    const s = r.structuredContent!;
    expect(s.run_id).toMatch(/^run_/);
    expect(Object.keys(s.value).length).toBeGreaterThan(0);
    expect(s.logs.length).toBe(Object.keys(s.value).length);
    expect(s.api_calls).toBe(1 + Object.keys(s.value).length);
    expect(s.status).toBeUndefined();
    // Every call the script made left its own audit record with the run's id, and so did the run.
    await expect.poll(async () => (await ws.gateway.deps.audit.recent("tok_code1", 50)).filter((r) => r.runId === s.run_id).length, { timeout: 5000 }).toBe(s.api_calls + 1);
    const records = (await ws.gateway.deps.audit.recent("tok_code1", 50)).filter((r) => r.runId === s.run_id);
    expect(records.map((r) => r.tool).sort()).toEqual(["list_projects", "run_code", ...Array(s.api_calls - 1).fill("list_tasks")].sort());
  });

  it("writes become one change set: nothing sent, one token; confirming runs them in order with references filled", async () => {
    const users = (await ws.api<{ data: { id: string }[] }>("GET", "/users?limit=5")).body.data;
    const tag = `Launch ${Date.now()}`;
    const r = await call(client, "run_code", {
      intent: "set up the launch project",
      code: `
        const project = await api.projects.create_project({ name: ${JSON.stringify(tag)}, key: "L${String(Date.now()).slice(-4)}" });
        const t1 = await api.tasks.create_task({ project_id: project.id, title: "Write the announcement" });
        await api.tasks.create_task({ project_id: project.id, title: "Check the announcement", assignee_ids: [${JSON.stringify(users[0]!.id)}] });
        return { ref: project.ref, pending: t1.pending };`,
    });
    expect(r.isError, JSON.stringify(r)).toBeFalsy();
    const s = r.structuredContent!;
    expect(s.value).toEqual({ ref: "w1", pending: true });
    expect(s.status).toBe("pending_confirmation");
    expect(s.confirm_token).toMatch(/^cfm_/);
    expect(s.preview.totals).toEqual({ create: 3, update: 0, delete: 0 });
    expect(s.preview.steps.map((x: { ref: string }) => x.ref)).toEqual(["w1", "w2", "w3"]);
    expect(s.preview.steps[1].body.project_id).toBe("${w1.id}");
    expect(s.preview.steps[1].uses).toEqual(["w1"]);
    expect(s.preview.approval).toBe("standard");
    // Nothing was sent.
    const before = await ws.api<{ data: Project[] }>("GET", `/projects?q=${encodeURIComponent(tag)}`);
    expect(before.body.data).toHaveLength(0);

    const done = await call(client, "confirm_action", { confirm_token: s.confirm_token });
    expect(done.isError, JSON.stringify(done)).toBeFalsy();
    expect(done.structuredContent!.status).toBe("executed");
    const steps = done.structuredContent!.steps as { ref: string; status: string; result: { id: string; project_id?: string } }[];
    expect(steps.map((x) => x.status)).toEqual(["executed", "executed", "executed"]);
    const projectId = steps[0]!.result.id;
    expect(steps[1]!.result.project_id).toBe(projectId);
    const tasks = await ws.api<{ data: Task[] }>("GET", `/tasks?project_id=${projectId}&limit=10`);
    expect(tasks.body.data.map((t) => t.title).sort()).toEqual(["Check the announcement", "Write the announcement"]);

    // A repeated confirm runs nothing again.
    const again = await call(client, "confirm_action", { confirm_token: s.confirm_token });
    expect(again.structuredContent!.status).toBe("already_executed");
    const after = await ws.api<{ data: Task[] }>("GET", `/tasks?project_id=${projectId}&limit=10`);
    expect(after.body.data).toHaveLength(2);
  });

  it("stops at the first failure and reports ran / failed / not run", async () => {
    const tasks = (await ws.api<{ data: Task[] }>("GET", "/tasks?limit=3")).body.data;
    const [a, b] = tasks;
    const r = await call(client, "run_code", {
      intent: "rename two tasks",
      code: `
        await api.tasks.update_task({ task_id: ${JSON.stringify(a!.id)}, body: { title: "First renamed by a change set" } });
        await api.tasks.update_task({ task_id: ${JSON.stringify(b!.id)}, body: { title: "Second renamed by a change set" } });
        await api.tasks.update_task({ task_id: ${JSON.stringify(a!.id)}, body: { title: "Third" } });`,
    });
    const s = r.structuredContent!;
    expect(s.preview.totals).toEqual({ create: 0, update: 3, delete: 0 });
    expect(s.preview.steps[0].diff.map((d: { path: string }) => d.path)).toContain("title");
    // Someone else changes task b after the preview: its guarded write must fail, and the set stop there.
    const changed = await ws.api("PATCH", `/tasks/${b!.id}`, { title: "Changed meanwhile" });
    expect(changed.status).toBe(200);
    const done = await call(client, "confirm_action", { confirm_token: s.confirm_token });
    expect(done.isError).toBe(true);
    const steps = done.structuredContent!.steps as { status: string }[];
    expect(steps.map((x) => x.status)).toEqual(["executed", "failed", "not_run"]);
    expect((await ws.api<Task>("GET", `/tasks/${a!.id}`)).body.title).toBe("First renamed by a change set");
    expect((await ws.api<Task>("GET", `/tasks/${b!.id}`)).body.title).toBe("Changed meanwhile");
    const again = await call(client, "confirm_action", { confirm_token: s.confirm_token });
    expect(again.structuredContent!.status).toBe("already_executed");
    expect((await ws.api<Task>("GET", `/tasks/${a!.id}`)).body.title).toBe("First renamed by a change set");
  });

  it("another token cannot confirm a change set; its owner can cancel it whole, and nothing is sent", async () => {
    const tag = `Never made ${Date.now()}`;
    const r = await call(client, "run_code", {
      intent: "two labels",
      code: `await api.labels.create_label({ name: ${JSON.stringify(`${tag} a`)} }); await api.labels.create_label({ name: ${JSON.stringify(`${tag} b`)} });`,
    });
    const token = r.structuredContent!.confirm_token as string;
    const intruder = await ws.connect(await ws.mint(), "mode=code");
    const stolen = await call(intruder, "confirm_action", { confirm_token: token });
    expect(stolen.isError).toBe(true);
    expect(stolen.structuredContent!.error.code).toBe("confirmation_invalid");
    const cancelled = await call(client, "cancel_action", { confirm_token: token });
    expect(cancelled.structuredContent!.status).toBe("cancelled");
    const late = await call(client, "confirm_action", { confirm_token: token });
    expect(late.isError).toBe(true);
    const labels = await ws.api<{ data: { name: string }[] }>("GET", `/labels?q=${encodeURIComponent(tag)}`);
    expect(labels.body.data).toHaveLength(0);
  });

  it("a failed script stores nothing and answers script_error with its logs", async () => {
    const r = await call(client, "run_code", {
      intent: "broken",
      code: `console.log("before"); await api.tasks.create_task({ project_id: "00000000-0000-4000-8000-000000000001", title: "x" }); throw new Error("nope");`,
    });
    expect(r.isError).toBe(true);
    const err = r.structuredContent!.error;
    expect(err.code).toBe("script_error");
    expect(err.kind).toBe("exception");
    expect(err.logs).toEqual(["before"]);
    expect(err.message).toContain("Error: nope");
    expect(err.message).toContain("dropped");
    const pending = await call(client, "list_pending_actions", {});
    expect(pending.structuredContent!.actions).toHaveLength(0);
  });

  it("each call inside a script takes a point of the normal bucket", async () => {
    const limited = await startWorkspace({ COUNTERSIGN_RATE_NORMAL: "4", COUNTERSIGN_RATE_LIMITS_SHARED: "false" }, { upstream: ws.upstream });
    try {
      const c = await limited.connect(limited.secret, "mode=code");
      // run_code's own request takes a point; the script's calls take the rest, then are refused.
      const r = await call(c, "run_code", {
        intent: "too many reads",
        code: `const seen = []; for (let i = 0; i < 6; i++) { try { await api.tasks.list_tasks({ limit: 1 }); seen.push("ok"); } catch (e) { seen.push(e.code); } } return seen;`,
      });
      const seen = r.structuredContent!.value as string[];
      const oks = seen.filter((x) => x === "ok").length;
      expect(oks).toBeGreaterThan(0);
      expect(oks).toBeLessThanOrEqual(3);
      expect(seen).toEqual([...Array(oks).fill("ok"), ...Array(6 - oks).fill("rate_limited")]);
    } finally {
      await limited.close();
    }
  });

  it("a step refused before it is sent (rate limited) stops the set: reported not run, and not left pending", async () => {
    const limited = await startWorkspace({ COUNTERSIGN_RATE_SENSITIVE: "1", COUNTERSIGN_RATE_LIMITS_SHARED: "false" }, { upstream: ws.upstream });
    try {
      const c = await limited.connect(limited.secret, "mode=code");
      const tag = `rl-${Date.now()}`;
      const r = await call(c, "run_code", {
        intent: "hooks",
        code: `await api.labels.create_label({ name: "${tag}-label" });
          await api.webhooks.create_webhook({ url: "https://example.com/${tag}/1", events: ["task.created"] });
          await api.webhooks.create_webhook({ url: "https://example.com/${tag}/2", events: ["task.created"] });
          await api.labels.create_label({ name: "${tag}-label-2" });`,
      });
      expect(r.structuredContent!.preview.approval).toBe("sensitive");
      const done = await call(c, "confirm_action", { confirm_token: r.structuredContent!.confirm_token });
      expect(done.isError).toBe(true);
      const steps = done.structuredContent!.steps as { status: string; error?: { code: string } }[];
      expect(steps.map((s) => s.status)).toEqual(["executed", "executed", "not_run", "not_run"]);
      expect(steps[2]!.error?.code).toBe("rate_limited");
      expect((await call(c, "list_pending_actions", {})).structuredContent!.actions).toHaveLength(0);
      const hooks = (await ws.api<{ data: { url: string }[] }>("GET", "/webhooks?limit=100")).body.data.filter((h) => h.url.includes(tag));
      expect(hooks).toHaveLength(1);
      expect((await ws.api<{ data: unknown[] }>("GET", `/labels?q=${tag}`)).body.data).toHaveLength(1);
    } finally {
      await limited.close();
    }
  });

  it("a token revoked while its script runs: the next call is refused", async () => {
    const secret = await ws.mint();
    const c = await ws.connect(secret, "mode=code");
    const tokenId = (await ws.gateway.deps.tokens.list()).at(-1)!.id;
    const running = call(c, "run_code", {
      intent: "read until refused",
      code: `for (let i = 0; i < 90; i++) { try { await api.tasks.list_tasks({ limit: 1 }); } catch (e) { return [i, e.code, e.message]; } await sleep(50); } return "never refused";`,
    });
    await expect.poll(async () => (await ws.gateway.deps.audit.recent(tokenId, 5)).some((r) => r.tool === "list_tasks"), { timeout: 10_000 }).toBe(true);
    await ws.gateway.deps.tokens.revoke(tokenId, new Date());
    const [n, code, message] = (await running).structuredContent!.value as [number, string, string];
    expect(n).toBeGreaterThan(0);
    expect(code).toBe("unauthorized");
    expect(message).toContain("Token revoked");
  });

  it("rejects bad input by name", async () => {
    for (const [args, words] of [
      [{ intent: "x" }, "'code' must be a non-empty string"],
      [{ code: "return 1" }, "'intent' must be a non-empty string"],
      [{ code: "return (;", intent: "x" }, "does not parse"],
    ] as const) {
      const r = await call(client, "run_code", args);
      expect(r.isError).toBe(true);
      expect(r.content.map((c) => c.text).join(" ")).toContain(words);
    }
  });
});
