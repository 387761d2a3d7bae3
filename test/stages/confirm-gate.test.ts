import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPendingActions, type PendingActionStore } from "../../src/stores/pending-actions/index.js";
import type { Preview } from "../../src/confirm/preview.js";
import { createConfirmGateStage } from "../../src/stages/confirm-gate.js";
import { compose } from "../../src/pipeline.js";
import type { CallContext } from "../../src/context.js";
import { startTasksUpstream, TASK_TOOLS, type TasksUpstream } from "../fixtures/confirm/tasks-api.js";
import { createMiniChain, PRINCIPALS, type MiniChain } from "../fixtures/confirm/mini-chain.js";
import type { ToolDescriptor } from "../../codegen/descriptor.js";

let upstream: TasksUpstream;
let store: PendingActionStore;
let chain: MiniChain;

beforeAll(async () => {
  upstream = await startTasksUpstream();
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.writes.length = 0;
  store = createPendingActions();
  chain = createMiniChain({ store, upstreamUrl: upstream.url });
});

type Pending = { status: string; action_id: string; confirm_token: string; expires_at: string; preview: Preview };
const pending = (r: { structuredContent?: Record<string, unknown> }) => r.structuredContent as unknown as Pending;

describe("confirm gate", () => {
  it("lets reads through to the upstream", async () => {
    const r = await chain.tool("get_task", { project_id: 42, task_id: 18 });
    expect(r.isError).toBeFalsy();
    expect(r.content[0]).toMatchObject({ type: "text", text: expect.stringContaining('"Book venue"') });
    expect(await store.countPending()).toBe(0);
  });

  it("turns a create into a pending action and sends nothing", async () => {
    const r = await chain.tool("create_task", { project_id: 42, title: "Ship Q2 launch", labels: ["launch"] });
    const p = pending(r);
    expect(p.status).toBe("pending_confirmation");
    expect(p.action_id).toMatch(/^act_/);
    expect(p.confirm_token).toMatch(/^cfm_/);
    expect(Date.parse(p.expires_at) - Date.now()).toBeGreaterThan(590_000);
    expect(p.preview).toMatchObject({
      method: "POST",
      url: `${upstream.url}/v1/projects/42/tasks`,
      body: { title: "Ship Q2 launch", labels: ["launch"] },
      warnings: [],
    });
    expect(p.preview.summary).toBe('Create a task (project_id=42) with title="Ship Q2 launch", labels=[1 item].');
    expect(p.preview.current).toBeUndefined();
    expect(upstream.writes).toHaveLength(0);
    const stored = await store.get(p.action_id);
    expect(stored).toMatchObject({ tokenId: "tok_a", tool: "create_task", state: "pending", args: { project_id: 42, title: "Ship Q2 launch", labels: ["launch"] } });
    const text = r.content[0]!.type === "text" ? r.content[0]!.text : "";
    expect(text).toContain("PENDING CONFIRMATION");
    expect(text).toContain(`POST ${upstream.url}/v1/projects/42/tasks`);
    expect(text).toContain(p.confirm_token);
  });

  it("previews an update with the current state, a field diff and the ETag to guard it", async () => {
    const r = await chain.tool("update_task", { project_id: 42, task_id: 17, title: "Final launch plan", status: "done", labels: ["q2"] });
    const p = pending(r);
    expect(p.preview.current).toMatchObject({ id: 17, title: "Draft launch plan", status: "open" });
    expect(p.preview.current_source).toBe("get_task");
    expect(p.preview.diff).toEqual([
      { path: "status", change: "changed", before: "open", after: "done" },
      { path: "title", change: "changed", before: "Draft launch plan", after: "Final launch plan" },
    ]);
    expect(p.preview.if_match).toBe('"v1"');
    expect((await store.get(p.action_id))?.ifMatch).toBe('"v1"');
    const text = r.content[0]!.type === "text" ? r.content[0]!.text : "";
    expect(text).toContain('~ title: "Draft launch plan" → "Final launch plan"');
    expect(upstream.writes).toHaveLength(0);
  });

  it("shows the resource an action on a sub-path acts on, and guards it when the operation takes If-Match", async () => {
    const move = pending(await chain.tool("move_task", { project_id: 42, task_id: 19, body: { status: "done" } }));
    expect(move.preview.current).toMatchObject({ id: 19, status: "open" });
    expect(move.preview.current_source).toBe("get_task");
    expect(move.preview.diff).toBeUndefined();
    expect(move.preview.if_match).toMatch(/^"v\d+"$/);
    const complete = pending(await chain.tool("complete_task", { project_id: 42, task_id: 19 }));
    expect(complete.preview.current).toMatchObject({ id: 19 });
    expect(complete.preview.if_match).toBeUndefined();
    expect((await store.get(complete.action_id))?.ifMatch).toBeUndefined();
    const text = (await chain.tool("complete_task", { project_id: 42, task_id: 19 })).content[0];
    expect(text).toMatchObject({ type: "text", text: expect.stringContaining("Current state (get_task):") });
    expect(upstream.writes).toHaveLength(0);
  });

  it("warns that a PUT drops fields the body leaves out", async () => {
    const r = await chain.tool("replace_task", { project_id: 42, task_id: 17, body: { title: "Draft launch plan", status: "open" } });
    const p = pending(r);
    expect(p.preview.diff).toEqual([
      { path: "description", change: "removed", before: "first cut" },
      { path: "labels", change: "removed", before: ["q2"] },
    ]);
    expect(p.preview.warnings).toContain("Replaces the whole resource: 2 fields not in the body will be removed.");
  });

  it("previews a delete as destructive, with what will be deleted", async () => {
    const p = pending(await chain.tool("delete_task", { project_id: 42, task_id: 18 }));
    expect(p.preview.method).toBe("DELETE");
    expect(p.preview.current).toMatchObject({ id: 18, title: "Book venue" });
    expect(p.preview.warnings[0]).toBe("Destructive: deletes /projects/{project_id}/tasks/{task_id} (project_id=42, task_id=18); this cannot be undone.");
    expect(upstream.tasks.has(18)).toBe(true);
  });

  it("counts items of a bulk operation and flags it sensitive", async () => {
    const p = pending(await chain.tool("bulk_delete_tasks", { ids: [17, 18, 19] }));
    expect(p.preview.warnings).toEqual([
      "Destructive: Delete many tasks may overwrite or remove data.",
      "Bulk operation: affects 3 items.",
      "Sensitive operation: it counts against the stricter rate limit when it runs.",
    ]);
    expect(upstream.tasks.size).toBeGreaterThanOrEqual(3);
  });

  it("carries the current version field into the stored arguments when there is no ETag", async () => {
    const p = pending(await chain.tool("update_note", { note_id: 5, text: "bye" }));
    expect(p.preview.version).toEqual({ field: "version", value: 3 });
    expect(p.preview.body).toEqual({ text: "bye", version: 3 });
    expect((await store.get(p.action_id))?.args).toEqual({ note_id: 5, text: "bye", version: 3 });
  });

  it("notes a missing resource instead of failing the preview", async () => {
    const p = pending(await chain.tool("update_task", { project_id: 42, task_id: 999, title: "x" }));
    expect(p.preview.current).toBeUndefined();
    expect(p.preview.current_note).toContain("404");
    expect(p.preview.warnings).toContain("The resource was not found when previewing; the write will probably fail.");
  });

  it("refuses invalid arguments before any pending action is made", async () => {
    const r = await chain.tool("create_task", { project_id: 42 });
    expect(r.isError).toBe(true);
    expect(await store.countPending()).toBe(0);
  });

  it("does not honour `confirmed` for an action that was never claimed", async () => {
    const p = pending(await chain.tool("create_task", { project_id: 42, title: "x" }));
    const r = (await chain.call({ name: "create_task", args: { project_id: 42, title: "x" }, principal: PRINCIPALS["cred-a"]!, transport: "stdio", signal: new AbortController().signal, confirmed: { actionId: p.action_id } })).result;
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toMatchObject({ error: { code: "confirmation_invalid" } });
    expect(upstream.writes).toHaveLength(0);
  });

  it("does not honour `confirmed` with different arguments or another token", async () => {
    const p = pending(await chain.tool("create_task", { project_id: 42, title: "x" }));
    expect((await store.claim(p.action_id, "tok_a")).kind).toBe("claimed");
    const base = { name: "create_task", transport: "stdio" as const, signal: new AbortController().signal, confirmed: { actionId: p.action_id } };
    const changed = (await chain.call({ ...base, args: { project_id: 42, title: "y" }, principal: PRINCIPALS["cred-a"]! })).result;
    expect(changed.structuredContent).toMatchObject({ error: { code: "confirmation_invalid" } });
    const other = (await chain.call({ ...base, args: { project_id: 42, title: "x" }, principal: PRINCIPALS["cred-b"]! })).result;
    expect(other.structuredContent).toMatchObject({ error: { code: "confirmation_invalid" } });
    expect(upstream.writes).toHaveLength(0);
  });

  it("sends If-Match and the Idempotency-Key for a claimed action, and maps 412 to a conflict", async () => {
    const p = pending(await chain.tool("update_task", { project_id: 42, task_id: 19, title: "Order more swag" }));
    upstream.touch(19, { status: "done" });
    await store.claim(p.action_id, "tok_a");
    const stored = (await store.get(p.action_id))!;
    const r = (await chain.call({ name: "update_task", args: stored.args, principal: PRINCIPALS["cred-a"]!, transport: "stdio", signal: new AbortController().signal, confirmed: { actionId: p.action_id, ifMatch: stored.ifMatch } })).result;
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toMatchObject({ error: { code: "conflict", message: expect.stringContaining("changed since the preview") } });
    expect(upstream.writes).toHaveLength(1);
    expect(upstream.writes[0]!.headers["if-match"]).toBe('"v1"');
    expect(upstream.writes[0]!.headers["idempotency-key"]).toBe(p.action_id);
    expect(upstream.writes[0]!.status).toBe(412);
    expect(upstream.tasks.get(19)!.title).toBe("Order swag");
  });

  it("fills the audit record of a pending call", async () => {
    const tool = TASK_TOOLS.find((t) => t.name === "create_task")!;
    const gate = createConfirmGateStage({ store, tools: () => TASK_TOOLS, upstream: chain.upstreamClient, ttlSeconds: 60, now: () => Date.parse("2026-03-01T00:00:00Z") });
    const ctx = { requestId: "r", transport: "stdio", name: tool.name, tool, args: { project_id: 1, title: "t" }, principal: PRINCIPALS["cred-a"], signal: new AbortController().signal, audit: { ts: "", requestId: "r", transport: "stdio", tool: tool.name } } as CallContext;
    await compose([gate])(ctx);
    expect(ctx.audit).toMatchObject({ outcome: "pending", type: "pending", summary: 'Create a task (project_id=1) with title="t".' });
    expect(ctx.result?.structuredContent?.expires_at).toBe("2026-03-01T00:01:00.000Z");
  });

  it("counts the items a DELETE with a list argument removes", async () => {
    const bulkDelete: ToolDescriptor = {
      ...TASK_TOOLS.find((t) => t.name === "list_tasks")!,
      name: "delete_tasks",
      title: "Delete tasks",
      inputSchema: { type: "object", properties: { project_id: { type: "integer" }, ids: { type: "array", items: { type: "integer" } } }, required: ["project_id", "ids"] },
      binding: {
        ...TASK_TOOLS.find((t) => t.name === "list_tasks")!.binding,
        method: "DELETE",
        arguments: [...TASK_TOOLS.find((t) => t.name === "list_tasks")!.binding.arguments, { name: "ids", in: "query", wireName: "ids", style: "form", explode: false, allowReserved: false, required: true }],
      },
      policy: { write: true, sensitive: false, excluded: false },
    };
    const fake = {
      buildRequest: () => ({ method: "DELETE", url: "http://up/v1/projects/42/tasks?ids=1,2,3,4" }),
      executeUpstream: async () => ({ status: 200, headers: {}, body: [] }),
    };
    const gate = createConfirmGateStage({ store, tools: () => [bulkDelete], upstream: fake, ttlSeconds: 60 });
    const ctx = { requestId: "r", transport: "stdio", name: bulkDelete.name, tool: bulkDelete, args: { project_id: 42, ids: [1, 2, 3, 4] }, principal: PRINCIPALS["cred-a"], signal: new AbortController().signal, audit: { ts: "", requestId: "r", transport: "stdio", tool: bulkDelete.name } } as CallContext;
    await compose([gate])(ctx);
    expect((ctx.result?.structuredContent?.preview as Preview).warnings).toContain("Bulk operation: affects 4 items.");
  });

  it("never shows an API key sent in the query in the preview URL", async () => {
    const keyed: ToolDescriptor = {
      ...TASK_TOOLS.find((t) => t.name === "create_task")!,
      binding: { ...TASK_TOOLS.find((t) => t.name === "create_task")!.binding, security: [[{ name: "key", type: "apiKey", in: "query", paramName: "api_key", scopes: [] }]] },
    };
    const fake = {
      buildRequest: () => ({ method: "POST", url: "http://up/v1/projects/1/tasks?api_key=s3cret&x=1" }),
      executeUpstream: async () => ({ status: 200, headers: {}, body: {} }),
    };
    const gate = createConfirmGateStage({ store, tools: () => [keyed], upstream: fake, ttlSeconds: 60 });
    const ctx = { requestId: "r", transport: "stdio", name: keyed.name, tool: keyed, args: { project_id: 1, title: "t" }, principal: PRINCIPALS["cred-a"], signal: new AbortController().signal, audit: { ts: "", requestId: "r", transport: "stdio", tool: keyed.name } } as CallContext;
    await compose([gate])(ctx);
    const url = (ctx.result?.structuredContent?.preview as Preview).url;
    expect(url).not.toContain("s3cret");
    expect(url).toContain("api_key=REDACTED");
  });

  describe("a preview made while the upstream is down", () => {
    const update = () => TASK_TOOLS.find((t) => t.name === "update_task")!;
    const down = {
      buildRequest: () => ({ method: "PATCH", url: "http://up/v1/projects/42/tasks/17" }),
      executeUpstream: async (): Promise<never> => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:9");
      },
    };
    const ctxFor = (tool: ToolDescriptor): CallContext => ({ requestId: "r", transport: "stdio", name: tool.name, tool, args: { project_id: 42, task_id: 17, title: "x" }, principal: PRINCIPALS["cred-a"]!, signal: new AbortController().signal, audit: { ts: "", requestId: "r", transport: "stdio", tool: tool.name } });

    it("is stored with guard 'none' and says so in a warning", async () => {
      const gate = createConfirmGateStage({ store, tools: () => TASK_TOOLS, upstream: down, ttlSeconds: 60 });
      const ctx = ctxFor(update());
      await compose([gate])(ctx);
      const preview = ctx.result?.structuredContent?.preview as Preview;
      expect(preview.guard).toBe("none");
      expect(preview.warnings.join(" ")).toMatch(/Unguarded: the current state could not be read/);
      expect((await store.get(ctx.pending!.actionId))?.preview.guard).toBe("none");
    });

    it("is refused with upstream_unavailable when the operator requires a guard, and nothing is stored", async () => {
      const gate = createConfirmGateStage({ store, tools: () => TASK_TOOLS, upstream: down, ttlSeconds: 60, requireGuard: true });
      await expect(compose([gate])(ctxFor(update()))).rejects.toMatchObject({ code: "upstream_unavailable", details: { guard: "none" } });
      expect(await store.list("tok_a")).toEqual([]);
    });

    it("a preview that read the state carries the ETag guard", async () => {
      const p = pending(await chain.tool("update_task", { project_id: 42, task_id: 17, title: "Guarded" }));
      expect((p.preview as Preview).guard).toBe("etag");
    });
  });
});
