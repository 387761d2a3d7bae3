/**
 * Hostile scripts through run_code on a real gateway (sample upstream, SDK client, code mode):
 * each is contained with a clear error, and the gateway keeps serving other sessions meanwhile.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startWorkspace, type Result, type Workspace } from "./workspace-harness.js";

let ws: Workspace;
let client: Client;

const LIMITS = {
  COUNTERSIGN_CODE_CPU_TIME_MS: "1000",
  COUNTERSIGN_CODE_MEMORY_BYTES: String(16 * 1024 * 1024),
  COUNTERSIGN_CODE_MAX_API_CALLS: "5",
  COUNTERSIGN_CODE_WALL_TIME_MS: "3000",
  COUNTERSIGN_MAX_RESPONSE_BYTES: "65536",
};

beforeAll(async () => {
  ws = await startWorkspace(LIMITS);
  client = await ws.connect(ws.secret, "mode=code");
});
afterAll(async () => ws?.close());

async function run(code: string, on: Client = client): Promise<Result> {
  return call(on, "run_code", { code, intent: "security test" });
}

function failure(r: Result): { code: string; kind: string; message: string } {
  expect(r.isError, JSON.stringify(r)).toBe(true);
  return r.structuredContent!.error;
}

describe("the sandbox holds", () => {
  it("has no host: no process, require, fetch, timers or module loading, even through constructors", async () => {
    const r = await run(`
      const viaCtor = (function () {}).constructor("return typeof process + typeof require + typeof fetch")();
      const viaProto = Object.getPrototypeOf(async function () {}).constructor("return typeof globalThis.process")();
      const names = Object.getOwnPropertyNames(globalThis);
      let imported = "no";
      try { await import("node:fs"); imported = "yes"; } catch (e) { imported = String(e); }
      return { viaCtor, viaProto: await viaProto, timers: typeof setTimeout + typeof setInterval + typeof queueMicrotask,
               wasm: typeof WebAssembly, names, imported };`);
    expect(r.isError, JSON.stringify(r)).toBeFalsy();
    const v = r.structuredContent!.value;
    expect(v.viaCtor).toBe("undefinedundefinedundefined");
    expect(v.viaProto).toBe("undefined");
    expect(v.timers).toBe("undefinedundefinedundefined");
    expect(v.wasm).toBe("undefined");
    expect(v.imported).not.toBe("yes");
    // The host functions the prelude used are gone from the global object.
    for (const hidden of ["host", "call", "log", "done", "fail", "settle", "require", "process"]) expect(v.names).not.toContain(hidden);
    expect(v.names).toEqual(expect.arrayContaining(["api", "console", "sleep"]));
  });

  it("prototype pollution stays inside one run: the next run and the gateway never see it", async () => {
    const first = await run(`Object.prototype.polluted = "yes"; Array.prototype.push = () => 0; JSON.parse = () => ({ hacked: true }); return ({}).polluted;`);
    expect(first.structuredContent!.value).toBe("yes");
    const second = await run(`return [({}).polluted ?? null, [1].push(2)];`);
    expect(second.structuredContent!.value).toEqual([null, 2]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A poisoned JSON.parse inside the VM does not change what API calls return to the script.
    const third = await run(`JSON.parse = () => ({ hacked: true }); const t = await api.tasks.list_tasks({ limit: 1 }); return Array.isArray(t.data);`);
    expect(third.structuredContent!.value).toBe(true);
  });

  it("an infinite loop stops at the CPU limit while the gateway keeps answering others", async () => {
    const other = await ws.connect(await ws.mint(), "mode=all");
    const started = Date.now();
    const hostile = run(`while (true) {}`);
    let finishedFirst = false;
    void hostile.then(() => (finishedFirst = true));
    // Other sessions' calls complete while the loop is running (it runs on a worker thread).
    const meanwhile = await call(other, "list_projects", { limit: 1 });
    expect(meanwhile.isError).toBeFalsy();
    expect(finishedFirst).toBe(false);
    const f = failure(await hostile);
    expect(f).toMatchObject({ code: "script_error", kind: "cpu_time" });
    expect(f.message).toContain("1000 ms of CPU time");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("catastrophic regex backtracking (one long native operation) stops at the CPU limit, and the next run starts fresh", async () => {
    const f = failure(await run(`return /^(a+)+$/.test("a".repeat(64) + "b");`));
    expect(f.kind).toBe("cpu_time");
    const next = await run(`return 1 + 1;`);
    expect(next.structuredContent!.value).toBe(2);
  });

  it("deep recursion ends with a stack error", async () => {
    const f = failure(await run(`function down(n) { return down(n + 1) + 1; } return down(0);`));
    expect(f.kind).toBe("stack");
    expect(f.message).toContain("stack overflow");
  });

  it("a memory bomb ends at the memory limit, whether many small objects or a few large buffers", async () => {
    for (const bomb of [`const keep = []; while (true) keep.push({ n: keep.length, s: "abc" + keep.length });`, `const keep = []; while (true) keep.push(new Uint8Array(1 << 20));`]) {
      const f = failure(await run(bomb));
      expect(f.kind).toBe("memory");
      expect(f.message).toContain(`${16 * 1024 * 1024} bytes`);
    }
    expect((await run(`return new Uint8Array(1 << 20).length;`)).structuredContent!.value).toBe(1 << 20);
  });

  it("giant output ends at the response cap (logs or return value)", async () => {
    const logs = failure(await run(`for (let i = 0; i < 1e6; i++) console.log("0123456789".repeat(10));`));
    expect(logs.kind).toBe("output");
    expect(logs.message).toContain("65536 bytes");
    const value = failure(await run(`return "x".repeat(200000).split("");`));
    expect(value.kind).toBe("output");
  });

  it("the API call limit holds", async () => {
    const f = failure(await run(`for (let i = 0; i < 10; i++) await api.tasks.list_tasks({ limit: 1 });`));
    expect(f.kind).toBe("api_calls");
    expect(f.message).toContain("more than 5 API calls");
  });

  it("sleep is bounded per call, and a run that keeps sleeping ends at the wall time", async () => {
    const long = await run(`try { await sleep(5000); return "slept"; } catch (e) { return e.name + ": " + e.message; }`);
    expect(long.structuredContent!.value).toBe("RangeError: sleep(ms) takes 0 to 1000 ms");
    const started = Date.now();
    const f = failure(await run(`for (;;) await sleep(1000);`));
    expect(f.kind).toBe("wall_time");
    expect(f.message).toContain("3000 ms");
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it("a promise that never settles ends at once", async () => {
    const f = failure(await run(`await new Promise(() => {});`));
    expect(f.kind).toBe("stalled");
  });

  it("a tool outside the token's scope is not there, and a read-only token's write is refused by the chain", async () => {
    const tasksOnly = await ws.connect(await ws.mint({ modules: ["tasks"] }), "mode=code");
    const r = await run(`
      let err = "";
      try { await api.projects.list_projects({}); } catch (e) { err = e.name + ": " + e.message; }
      return { modules: Object.keys(api), err };`, tasksOnly);
    expect(r.structuredContent!.value.modules).toEqual(["tasks"]);
    expect(r.structuredContent!.value.err).toBe("TypeError: api.projects is not available to this token (get_api_types lists what is)");

    const readOnly = await ws.connect(await ws.mint({ readOnly: true }), "mode=code");
    const w = await run(`try { await api.tasks.create_task({ project_id: "00000000-0000-4000-8000-000000000001", title: "x" }); return "sent"; } catch (e) { return e.message; }`, readOnly);
    expect(w.structuredContent!.value).toBe("api.tasks.create_task is not available to this token (get_api_types lists what is)");
    expect(w.structuredContent!.status).toBeUndefined();
  });

  it("no gateway tool is reachable: no call_tool to smuggle a write past the change set, no confirm_action to confirm it", async () => {
    const projects = (await ws.api<{ data: { id: string }[] }>("GET", "/projects?limit=1")).body.data;
    const before = (await ws.api<{ data: unknown[] }>("GET", `/tasks?project_id=${projects[0]!.id}&limit=100`)).body.data.length;
    const r = await run(`
      const names = Object.values(api).flatMap((m) => Object.keys(m));
      const w = await api.tasks.create_task({ project_id: ${JSON.stringify(projects[0]!.id)}, title: "smuggled?" });
      const tries = [];
      for (const t of ["call_tool", "confirm_action", "run_code", "cancel_action"]) {
        tries.push(names.includes(t) || Object.values(api).some((m) => t in m));
      }
      return { tries, frozen: Object.isFrozen(api) && Object.isFrozen(api.tasks), ref: w.ref, count: names.length };`);
    const v = r.structuredContent!.value;
    expect(v.tries).toEqual([false, false, false, false]);
    expect(v.frozen).toBe(true);
    expect(v.ref).toBe("w1");
    expect(r.structuredContent!.status).toBe("pending_confirmation");
    // Nothing was sent: the write waits in the change set for a person.
    const after = (await ws.api<{ data: unknown[] }>("GET", `/tasks?project_id=${projects[0]!.id}&limit=100`)).body.data.length;
    expect(after).toBe(before);
    // And the script never saw its own confirm token (it is minted after the run ends).
    expect(JSON.stringify(v)).not.toContain("cfm_");
  });

  it("a reference to a write the script has not made yet is refused", async () => {
    const r = await run(`await api.tasks.create_task({ project_id: "\${w3.id}", title: "ahead" });`);
    const f = failure(r);
    expect(f.kind).toBe("exception");
    expect(f.message).toContain("w3, which is not an earlier write");
  });
});
