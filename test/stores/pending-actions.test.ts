import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPendingActions, type NewPendingAction } from "../../src/stores/pending-actions/index.js";
import { mintConfirmation } from "../../src/confirm/tokens.js";

function action(overrides: Partial<NewPendingAction> = {}, now = Date.now()): { action: NewPendingAction; token: string } {
  const m = mintConfirmation();
  return {
    token: m.confirmToken,
    action: {
      id: m.actionId,
      tokenId: "tok_a",
      tool: "update_task",
      args: { project_id: 42, task_id: 17, title: "New" },
      tokenHash: m.tokenHash,
      createdAt: now,
      expiresAt: now + 600_000,
      preview: { summary: "Update a task.", tool: "update_task", method: "PATCH", url: "http://x/v1/projects/42/tasks/17", warnings: [] },
      ...overrides,
    },
  };
}

const dir = () => mkdtempSync(join(tmpdir(), "cs-pending-"));

describe("pending-actions store", () => {
  it("moves an action pending → executing → done and keeps the outcome", async () => {
    const store = createPendingActions();
    const { action: a } = action();
    await store.create(a);
    expect((await store.list("tok_a")).map((x) => x.id)).toEqual([a.id]);
    const claim = await store.claim(a.id, "tok_a");
    expect(claim.kind).toBe("claimed");
    expect(await store.list("tok_a")).toEqual([]);
    await store.complete(a.id, { status: "executed", result: { content: [{ type: "text", text: "ok" }] } });
    const again = await store.claim(a.id, "tok_a");
    expect(again.kind).toBe("done");
    expect(again.kind === "done" && again.action.outcome?.status).toBe("executed");
  });

  it("lets exactly one of 50 concurrent claims win", async () => {
    const store = createPendingActions({ dataDir: dir() });
    const { action: a } = action();
    await store.create(a);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.claim(a.id, "tok_a")));
    expect(results.filter((r) => r.kind === "claimed")).toHaveLength(1);
    expect(results.filter((r) => r.kind === "executing")).toHaveLength(49);
  });

  it("hides another token's action and refuses to claim or cancel it", async () => {
    const store = createPendingActions();
    const { action: a } = action();
    await store.create(a);
    expect(await store.list("tok_b")).toEqual([]);
    expect((await store.claim(a.id, "tok_b")).kind).toBe("not_found");
    expect((await store.cancel(a.id, "tok_b")).kind).toBe("not_found");
    expect((await store.get(a.id))?.state).toBe("pending");
  });

  it("expires on the clock and cannot be claimed afterwards", async () => {
    let t = 1_000_000;
    const store = createPendingActions({ now: () => t });
    const { action: a } = action({}, t);
    await store.create(a);
    t += 600_000;
    expect((await store.claim(a.id, "tok_a")).kind).toBe("expired");
    expect(await store.list("tok_a")).toEqual([]);
    expect(await store.countPending()).toBe(0);
  });

  it("cancels once; a cancelled action cannot be claimed", async () => {
    const store = createPendingActions();
    const { action: a } = action();
    await store.create(a);
    expect((await store.cancel(a.id, "tok_a")).kind).toBe("cancelled");
    expect((await store.claim(a.id, "tok_a")).kind).toBe("cancelled");
    expect((await store.cancel(a.id, "tok_a")).kind).toBe("cancelled");
  });

  it("release puts a claimed action back to pending and wakes waiters", async () => {
    const store = createPendingActions();
    const { action: a } = action();
    await store.create(a);
    await store.claim(a.id, "tok_a");
    const waiting = store.waitForSettled(a.id, 5_000);
    await store.release(a.id);
    expect((await waiting)?.state).toBe("pending");
    expect((await store.claim(a.id, "tok_a")).kind).toBe("claimed");
  });

  it("waitForSettled resolves when the executing action completes", async () => {
    const store = createPendingActions();
    const { action: a } = action();
    await store.create(a);
    await store.claim(a.id, "tok_a");
    const waiting = store.waitForSettled(a.id, 5_000);
    await store.complete(a.id, { status: "executed", result: { content: [] } });
    expect((await waiting)?.state).toBe("done");
  });

  it("survives a restart: a pending action from before is claimable after it", async () => {
    const d = dir();
    const first = createPendingActions({ dataDir: d });
    const { action: a } = action();
    await first.create(a);
    await first.close();
    const second = createPendingActions({ dataDir: d });
    expect((await second.get(a.id))?.args).toEqual(a.args);
    expect((await second.claim(a.id, "tok_a")).kind).toBe("claimed");
  });

  it("reports an action cut off mid-execution as unknown after a restart, never pending", async () => {
    const d = dir();
    const first = createPendingActions({ dataDir: d });
    const { action: a } = action();
    await first.create(a);
    expect((await first.claim(a.id, "tok_a")).kind).toBe("claimed");
    // No complete(): the process "dies" here (closing it is as far as a test can go).
    await first.close();
    const second = createPendingActions({ dataDir: d });
    expect((await second.claim(a.id, "tok_a")).kind).toBe("unknown");
  });

  it("keeps its files at mode 0600, written atomically, holding only the token hash", async () => {
    const d = dir();
    const store = createPendingActions({ dataDir: d });
    const { action: a, token } = action();
    await store.create(a);
    await store.close();
    const journal = join(d, "pending-actions.journal");
    expect(statSync(journal).mode & 0o777).toBe(0o600);
    const text = readFileSync(journal, "utf8");
    expect(text).toContain(a.tokenHash);
    expect(text).not.toContain(token);
    // Start-up folds the journal into the snapshot.
    createPendingActions({ dataDir: d });
    const snapshot = join(d, "pending-actions.json");
    expect(statSync(snapshot).mode & 0o777).toBe(0o600);
    expect(readFileSync(snapshot, "utf8")).toContain(a.tokenHash);
    expect(existsSync(journal)).toBe(false);
    expect(readdirSync(d).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("ignores a journal line torn by a crash, keeping everything before it", async () => {
    const d = dir();
    const store = createPendingActions({ dataDir: d });
    const { action: a } = action();
    await store.create(a);
    await store.close();
    const { appendFileSync } = await import("node:fs");
    appendFileSync(join(d, "pending-actions.journal"), '{"id":"act_torn","sta');
    const again = createPendingActions({ dataDir: d });
    expect((await again.get(a.id))?.state).toBe("pending");
    expect(await again.get("act_torn")).toBeUndefined();
  });

  it("drops arguments and shortens big outcomes once an action is settled", async () => {
    const d = dir();
    const store = createPendingActions({ dataDir: d });
    const { action: a } = action({ args: { project_id: 42, secret_note: "do not keep" } });
    await store.create(a);
    await store.claim(a.id, "tok_a");
    await store.complete(a.id, { status: "executed", result: { content: [{ type: "text", text: "x".repeat(100_000) }], structuredContent: { big: "y".repeat(100_000) } } });
    await store.close();
    const settled = (await store.get(a.id))!;
    expect(settled.args).toEqual({});
    expect(settled.preview.summary).toBe("Update a task.");
    expect(JSON.stringify(settled.outcome).length).toBeLessThan(20_000);
    expect(settled.outcome!.result.content[0]).toMatchObject({ type: "text", text: expect.stringContaining("(stored outcome shortened)") });
    const reloaded = createPendingActions({ dataDir: d });
    expect((await reloaded.get(a.id))?.state).toBe("done");
    // Once the journal is folded, the settled action's arguments are nowhere on disk.
    expect(readFileSync(join(d, "pending-actions.json"), "utf8")).not.toContain("do not keep");
    expect(existsSync(join(d, "pending-actions.journal"))).toBe(false);
  });

  it("compacts a long journal into the snapshot", async () => {
    const d = dir();
    // One token holds them all: its open-action quota raised past the default 100.
    const store = createPendingActions({ dataDir: d, sweepIntervalMs: 0, quotas: { maxOpenPerToken: 5000 } });
    const ids: string[] = [];
    for (let i = 0; i < 2100; i++) {
      const { action: a } = action();
      ids.push(a.id);
      await store.create(a);
    }
    await store.close();
    const journalLines = readFileSync(join(d, "pending-actions.journal"), "utf8").split("\n").filter(Boolean).length;
    expect(journalLines).toBeLessThan(2000);
    const reloaded = createPendingActions({ dataDir: d });
    expect((await reloaded.list("tok_a")).length).toBe(2100);
  });

  it("refuses to start on a corrupt snapshot, naming the file", () => {
    const d = dir();
    writeFileSync(join(d, "pending-actions.json"), "{not json");
    expect(() => createPendingActions({ dataDir: d })).toThrow(/pending-actions\.json is not valid JSON/);
  });

  it("writes the snapshot as JSON Lines: a version line, then one action a line", async () => {
    const d = dir();
    const store = createPendingActions({ dataDir: d });
    const made = [action().action, action().action, action().action];
    for (const a of made) await store.create(a);
    await store.cancel(made[1].id, "tok_a");
    await store.close();
    createPendingActions({ dataDir: d }); // start-up folds the journal
    const lines = readFileSync(join(d, "pending-actions.json"), "utf8").trimEnd().split("\n");
    expect(JSON.parse(lines[0])).toEqual({ version: 2 });
    const stored = lines.slice(1).map((l) => JSON.parse(l) as { id: string; state: string });
    expect(stored.map((a) => a.id).sort()).toEqual(made.map((a) => a.id).sort());
    expect(stored.find((a) => a.id === made[1].id)?.state).toBe("cancelled");
  });

  it("reads a snapshot written by an earlier release (one JSON document) and rewrites it as JSON Lines at start-up", async () => {
    const d = dir();
    const { action: a } = action();
    const { action: b } = action();
    writeFileSync(join(d, "pending-actions.json"), JSON.stringify({ version: 1, actions: [{ ...a, state: "pending" }, { ...b, state: "cancelled", settledAt: Date.now() }] }));
    const store = createPendingActions({ dataDir: d });
    // Rewritten at start-up, so no later re-read parses the old document whole.
    expect(readFileSync(join(d, "pending-actions.json"), "utf8").split("\n").map((l) => l && JSON.parse(l).version)).toEqual([2, undefined, undefined, ""]);
    expect((await store.get(a.id))?.state).toBe("pending");
    expect((await store.claim(b.id, "tok_a")).kind).toBe("cancelled");
    expect((await store.claim(a.id, "tok_a")).kind).toBe("claimed");
    await store.close();
    const next = createPendingActions({ dataDir: d });
    expect((await next.get(a.id))?.state).toBe("unknown");
    expect((await next.get(b.id))?.state).toBe("cancelled");
  });

  it("reads lines longer than its read chunk intact (a settled action with a 4 KB outcome, 100 KB of arguments pending)", async () => {
    const d = dir();
    const store = createPendingActions({ dataDir: d });
    const { action: big } = action({ args: { note: "é".repeat(50_000) } });
    await store.create(big);
    const { action: done } = action();
    await store.create(done);
    await store.claim(done.id, "tok_a");
    await store.complete(done.id, { status: "executed", result: { content: [{ type: "text", text: "ü".repeat(3000) }] } });
    await store.close();
    createPendingActions({ dataDir: d }); // folds the journal into the snapshot
    const again = createPendingActions({ dataDir: d });
    expect((await again.get(big.id))?.args).toEqual({ note: "é".repeat(50_000) });
    const c = await again.claim(done.id, "tok_a");
    expect(c.kind === "done" && c.action.outcome?.result.content[0]).toEqual({ type: "text", text: "ü".repeat(3000) });
  });

  it("refuses to start on a damaged snapshot line, naming the file and the line", async () => {
    const d = dir();
    const store = createPendingActions({ dataDir: d });
    await store.create(action().action);
    await store.create(action().action);
    await store.close();
    createPendingActions({ dataDir: d });
    const file = join(d, "pending-actions.json");
    const lines = readFileSync(file, "utf8").split("\n");
    lines[2] = lines[2].slice(0, 30);
    writeFileSync(file, lines.join("\n"));
    expect(() => createPendingActions({ dataDir: d })).toThrow(/pending-actions\.json line 3 is not valid JSON/);
  });

  it("keeps every action and its latest state across many folds of a long journal", async () => {
    const d = dir();
    const store = createPendingActions({ dataDir: d, sweepIntervalMs: 0, quotas: { maxOpenPerToken: 5000 } });
    const ids: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const { action: a } = action();
      ids.push(a.id);
      await store.create(a);
      // Every third one is confirmed, every fifth cancelled: each change is one more journal line.
      if (i % 3 === 0) {
        await store.claim(a.id, "tok_a");
        await store.complete(a.id, { status: "executed", result: { content: [{ type: "text", text: `done ${i}` }] } });
      } else if (i % 5 === 0) await store.cancel(a.id, "tok_a");
    }
    await store.close();
    const reloaded = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    const states = await Promise.all(ids.map(async (id) => (await reloaded.get(id))?.state));
    expect(states.filter((s) => s === "done")).toHaveLength(1000);
    expect(states.filter((s) => s === "cancelled")).toHaveLength(ids.filter((_, i) => i % 3 !== 0 && i % 5 === 0).length);
    expect(states.filter((s) => s === "pending")).toHaveLength(ids.filter((_, i) => i % 3 !== 0 && i % 5 !== 0).length);
    const again = await reloaded.claim(ids[2999 - (2999 % 3)], "tok_a");
    expect(again.kind === "done" && again.action.outcome?.result.content[0]).toEqual({ type: "text", text: `done ${2999 - (2999 % 3)}` });
    // Each id once in the snapshot.
    const lines = readFileSync(join(d, "pending-actions.json"), "utf8").trimEnd().split("\n").slice(1);
    expect(new Set(lines.map((l) => (JSON.parse(l) as { id: string }).id)).size).toBe(lines.length);
  });

  it("purges settled actions after the retention period", async () => {
    let t = 1_000_000;
    const store = createPendingActions({ now: () => t, retainSeconds: 60 });
    const { action: a } = action({}, t);
    await store.create(a);
    await store.cancel(a.id, "tok_a");
    t += 10 * 60_000;
    const { action: b } = action({}, t);
    await store.create(b); // creation triggers the purge
    expect(await store.get(a.id)).toBeUndefined();
    expect(await store.get(b.id)).toBeDefined();
  });
});

describe("pending-actions bound on settled actions", () => {
  async function settleMany(store: ReturnType<typeof createPendingActions>, n: number, t?: { v: number }): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { action: a } = action({}, t?.v);
      await store.create(a);
      await store.claim(a.id, "tok_a");
      await store.complete(a.id, { status: "executed", result: { content: [{ type: "text", text: `done ${i}` }] } });
      ids.push(a.id);
      if (t) t.v += 1000;
    }
    return ids;
  }

  it("keeps at most maxSettled settled actions in memory, dropping the oldest first", async () => {
    const t = { v: 1_000_000 };
    const store = createPendingActions({ now: () => t.v, maxSettled: 50, sweepIntervalMs: 0 });
    const ids = await settleMany(store, 500, t);
    const kept = [];
    for (const id of ids) if (await store.get(id)) kept.push(id);
    expect(kept.length).toBeGreaterThanOrEqual(45);
    expect(kept.length).toBeLessThanOrEqual(56);
    // The newest are the ones kept, and a repeated confirm of one still gets its outcome.
    expect(kept).toEqual(ids.slice(ids.length - kept.length));
    const again = await store.claim(ids.at(-1)!, "tok_a");
    expect(again.kind).toBe("done");
    expect(again.kind === "done" && again.action.outcome?.result.content[0]).toEqual({ type: "text", text: "done 499" });
    // A dropped one is unknown to a memory-only store: it can never be claimed again.
    expect((await store.claim(ids[0]!, "tok_a")).kind).toBe("not_found");
  });

  it("never drops pending actions to make room", async () => {
    const store = createPendingActions({ maxSettled: 10, sweepIntervalMs: 0 });
    await settleMany(store, 30);
    const pending = [];
    for (let i = 0; i < 40; i++) {
      const { action: a } = action();
      await store.create(a);
      pending.push(a.id);
    }
    expect((await store.list("tok_a")).map((a) => a.id)).toEqual(pending);
  });

  it("keeps settled actions small: no arguments, no session, no full preview", async () => {
    const store = createPendingActions({ sweepIntervalMs: 0 });
    const { action: a } = action({ sessionId: "sess-1", ifMatch: '"v1"', preview: { summary: "Update a task.", tool: "update_task", method: "PATCH", url: "http://x/v1/projects/42/tasks/17", warnings: ["careful"], body: { title: "New" }, current: { title: "Old" } } });
    await store.create(a);
    await store.claim(a.id, "tok_a");
    await store.complete(a.id, { status: "executed", result: { content: [{ type: "text", text: "ok" }] } });
    const kept = (await store.get(a.id))!;
    expect(Object.keys(kept).sort()).toEqual(["args", "createdAt", "expiresAt", "id", "outcome", "preview", "settledAt", "state", "tokenHash", "tokenId", "tool"]);
    expect(kept.preview).toEqual({ summary: "Update a task.", tool: "update_task", method: "PATCH", url: "http://x/v1/projects/42/tasks/17", warnings: [] });
    expect(kept.args).toEqual({});
  });

  it("with a data dir, a dropped action is still answered from the files and never claimed again", async () => {
    const d = dir();
    const t = { v: 1_000_000 };
    const store = createPendingActions({ dataDir: d, now: () => t.v, maxSettled: 20, sweepIntervalMs: 0 });
    const ids = await settleMany(store, 200, t);
    const again = await store.claim(ids[0]!, "tok_a");
    expect(again.kind).toBe("done");
    expect(again.kind === "done" && again.action.outcome?.result.content[0]).toEqual({ type: "text", text: "done 0" });
    await store.close();
    // A restart reads every kept action back, then holds only the bound's worth in memory.
    const reopened = createPendingActions({ dataDir: d, now: () => t.v, maxSettled: 20, sweepIntervalMs: 0 });
    const first = await reopened.claim(ids[0]!, "tok_a");
    expect(first.kind).toBe("done");
    expect((await reopened.claim(ids.at(-1)!, "tok_a")).kind).toBe("done");
    await reopened.close();
  });

  it("refuses a maxSettled that is not a positive integer", () => {
    expect(() => createPendingActions({ maxSettled: 0 })).toThrow(/maxSettled must be a positive integer/);
  });
});

describe("pending-actions expiry events", () => {
  it("tells onExpired exactly once per action that expires unconfirmed", async () => {
    let t = Date.now();
    const expired: string[] = [];
    const store = createPendingActions({ now: () => t, onExpired: (a) => expired.push(a.id), sweepIntervalMs: 0 });
    const { action: a } = action({}, t);
    const { action: b } = action({}, t);
    await store.create(a);
    await store.create(b);
    await store.claim(b.id, "tok_a");
    await store.complete(b.id, { status: "executed", result: { content: [] } });
    t += 600_000;
    expect(await store.countPending()).toBe(0);
    expect((await store.claim(a.id, "tok_a")).kind).toBe("expired");
    expect((await store.cancel(a.id, "tok_a")).kind).toBe("expired");
    expect(expired).toEqual([a.id]);
    expect((await store.get(a.id))?.state).toBe("expired");
  });

  it("finds expired actions with its periodic sweep", async () => {
    let t = Date.now();
    const expired: string[] = [];
    const store = createPendingActions({ now: () => t, onExpired: (a) => expired.push(a.id), sweepIntervalMs: 20 });
    const { action: a } = action({}, t);
    await store.create(a);
    t += 600_000;
    await new Promise((r) => setTimeout(r, 100));
    expect(expired).toEqual([a.id]);
    await store.close();
  });
});

describe("pending-actions store when the disk fails", () => {
  it("refuses to create or claim when the snapshot cannot be written, leaving nothing half-done", async () => {
    const d = dir();
    const store = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    const { action: a } = action();
    await store.create(a);
    // The data dir replaced by a plain file makes every snapshot write fail (even for root).
    rmSync(d, { recursive: true });
    writeFileSync(d, "");
    const { action: b } = action();
    try {
      await expect(store.create(b)).rejects.toMatchObject({ code: "unavailable" });
      await expect(store.claim(a.id, "tok_a")).rejects.toMatchObject({ code: "unavailable" });
    } finally {
      rmSync(d);
      mkdirSync(d);
    }
    expect(await store.get(b.id)).toBeUndefined();
    expect((await store.get(a.id))?.state).toBe("pending");
    expect((await store.claim(a.id, "tok_a")).kind).toBe("claimed");
  });
});

describe("pending-actions store shared by two gateways on one data dir", () => {
  it("an action made by one can be confirmed through the other, exactly once", async () => {
    const d = dir();
    const a = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    const b = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    const { action: x } = action();
    await a.create(x);
    expect((await b.get(x.id))?.state).toBe("pending");
    const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).claim(x.id, "tok_a")));
    expect(claims.filter((c) => c.kind === "claimed")).toHaveLength(1);
    expect(claims.filter((c) => c.kind === "executing")).toHaveLength(49);
    const winner = claims.findIndex((c) => c.kind === "claimed") % 2 ? a : b;
    const other = winner === a ? b : a;
    const waiting = other.waitForSettled(x.id, 5_000);
    await winner.complete(x.id, { status: "executed", result: { content: [{ type: "text", text: "done once" }] } });
    expect((await waiting)?.state).toBe("done");
    const again = await other.claim(x.id, "tok_a");
    expect(again.kind).toBe("done");
    expect(again.kind === "done" && again.action.outcome?.result.content).toEqual([{ type: "text", text: "done once" }]);
    await a.close();
    await b.close();
  });

  it("reports the other's in-flight execution as executing, and as unknown once it is gone", async () => {
    const d = dir();
    const a = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    const b = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    const { action: x } = action();
    await a.create(x);
    expect((await a.claim(x.id, "tok_a")).kind).toBe("claimed");
    expect((await b.claim(x.id, "tok_a")).kind).toBe("executing");
    await a.close(); // the executing gateway stops
    expect((await b.claim(x.id, "tok_a")).kind).toBe("unknown");
    await b.close();
  });

  it("a cancel in one is seen by the other; an expiry is reported once in all", async () => {
    let t = Date.now();
    const d = dir();
    const expired: string[] = [];
    const a = createPendingActions({ dataDir: d, sweepIntervalMs: 0, now: () => t, onExpired: (x) => expired.push(`a:${x.id}`) });
    const b = createPendingActions({ dataDir: d, sweepIntervalMs: 0, now: () => t, onExpired: (x) => expired.push(`b:${x.id}`) });
    const { action: x } = action({}, t);
    const { action: y } = action({}, t);
    await a.create(x);
    await a.create(y);
    expect((await b.cancel(x.id, "tok_a")).kind).toBe("cancelled");
    expect((await a.claim(x.id, "tok_a")).kind).toBe("cancelled");
    t += 600_000;
    expect((await b.list("tok_a")).map((p) => p.id)).toEqual([]);
    expect((await a.claim(y.id, "tok_a")).kind).toBe("expired");
    expect(await a.countPending()).toBe(0);
    expect(expired).toEqual([`b:${y.id}`]);
    await a.close();
    await b.close();
  });

  it("finds another gateway's actions once they are folded into the snapshot: pending ones by listing, settled ones by id", async () => {
    const d = dir();
    const b = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    const a = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    const { action: x } = action();
    const { action: y } = action();
    await a.create(x);
    await a.create(y);
    await a.cancel(y.id, "tok_a");
    await a.close();
    // A third gateway starting folds the journal: both actions are now only in the snapshot.
    await createPendingActions({ dataDir: d, sweepIntervalMs: 0 }).close();
    expect(existsSync(join(d, "pending-actions.journal"))).toBe(false);
    expect((await b.list("tok_a")).map((p) => p.id)).toEqual([x.id]);
    expect((await b.get(y.id))?.state).toBe("cancelled");
    expect((await b.claim(y.id, "tok_a")).kind).toBe("cancelled");
    expect(await b.get("act_00000000000000000000")).toBeUndefined();
    expect((await b.claim(x.id, "tok_a")).kind).toBe("claimed");
    await b.close();
  });

  it("folding the journal keeps the other gateway's actions", async () => {
    const d = dir();
    const a = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    const b = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    const { action: x } = action();
    const { action: y } = action();
    await a.create(x);
    await b.create(y);
    // A third gateway starting folds the journal into the snapshot.
    const c = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    expect(existsSync(join(d, "pending-actions.journal"))).toBe(false);
    const { action: z } = action();
    await a.create(z);
    await a.close();
    await b.close();
    await c.close();
    const fresh = createPendingActions({ dataDir: d, sweepIntervalMs: 0 });
    expect((await fresh.list("tok_a")).map((p) => p.id).sort()).toEqual([x.id, y.id, z.id].sort());
  });
});

describe("pending-actions retention on disk", () => {
  it("forgets settled actions past retention in the snapshot and their markers too", async () => {
    let t = Date.now();
    const d = dir();
    const first = createPendingActions({ dataDir: d, now: () => t, retainSeconds: 60, sweepIntervalMs: 0 });
    const { action: old } = action({}, t);
    const { action: kept } = action({}, t);
    await first.create(old);
    await first.create(kept);
    await first.cancel(old.id, "tok_a");
    expect(readdirSync(join(d, "pending-actions.d"))).toEqual([old.id]);
    await first.close();
    t += 5 * 60_000; // past the retention of the cancelled one; the other is still pending
    const second = createPendingActions({ dataDir: d, now: () => t, retainSeconds: 60, sweepIntervalMs: 0 });
    expect(await second.get(old.id)).toBeUndefined();
    expect((await second.get(kept.id))?.state).toBe("pending");
    expect(readFileSync(join(d, "pending-actions.json"), "utf8")).not.toContain(old.id);
    expect(readdirSync(join(d, "pending-actions.d"))).toEqual([]);
    await second.close();
  });
});
