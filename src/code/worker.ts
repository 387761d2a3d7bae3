/**
 * A sandbox worker: runs agents' scripts in QuickJS compiled to WebAssembly, one run at a time,
 * on its own thread so a busy script never holds the gateway's event loop. The script sees
 * `api.<module>.<tool>(args)`, `console.log` and a bounded `sleep`, nothing of the host: no
 * network, file system, timers or host objects. API calls travel to the gateway as messages.
 *
 * Each run gets a fresh QuickJS runtime (its own heap, memory limit and stack limit) and an
 * interrupt handler that stops it once it has used its CPU time; the WebAssembly module is
 * loaded once per worker.
 */
import { parentPort, workerData } from "node:worker_threads";
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime } from "quickjs-emscripten-core";
import releaseSync from "@jitl/quickjs-wasmfile-release-sync";
import { transform } from "sucrase";
import type { DoneMessage, FromWorker, ReplyMessage, RunFailureKind, RunMessage, ToWorker } from "./protocol.js";

/** Longest single `sleep(ms)` a script may ask for. */
const MAX_SLEEP_MS = 1000;
/** Native stack QuickJS may use for the script (deep recursion ends with a RangeError-like InternalError). */
const STACK_BYTES = 512 * 1024;

/**
 * Runs inside the VM before the script: builds `api` and `console`, keeps the host functions in a
 * closure and removes them from the global object. A write answers a placeholder whose unknown
 * fields are references (`${w1.id}`) to the write's future result.
 */
const PRELUDE = String.raw`(function (host, modulesJson) {
  "use strict";
  // Captured now: the script may replace globals, but not what the prelude runs on.
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const has = Object.prototype.hasOwnProperty;
  const P = Promise;
  const freeze = Object.freeze;
  const modules = parse(modulesJson);
  const waiting = Object.create(null);
  const ref = (path) => {
    const text = "$" + "{" + path + "}";
    return new Proxy({}, {
      get(_t, key) {
        if (key === "toJSON" || key === "toString" || key === "valueOf" || key === Symbol.toPrimitive) return () => text;
        if (typeof key === "symbol" || key === "then") return undefined;
        return ref(path + "." + key);
      },
    });
  };
  const placeholder = (v) => new Proxy(v, {
    get(t, key) {
      if (typeof key === "symbol" || key === "then" || key === "toJSON" || has.call(t, key)) return t[key];
      return ref(t.ref + "." + key);
    },
  });
  const settle = (id, ok, json) => {
    const w = waiting[id];
    if (!w) return;
    delete waiting[id];
    if (ok) w.resolve(parse(json));
    else {
      const e = parse(json);
      const err = new Error(e.message);
      err.code = e.code;
      w.reject(err);
    }
  };
  const wait = (id) => new P((resolve, reject) => { waiting[id] = { resolve, reject }; });
  // Asking for a module or tool that is not there says so, instead of "undefined is not a function".
  const strict = (target, what) => new Proxy(freeze(target), {
    get(t, key) {
      if (typeof key === "symbol" || key === "then" || key === "toJSON" || has.call(t, key)) return t[key];
      throw new TypeError(what + String(key) + " is not available to this token (get_api_types lists what is)");
    },
  });
  const api = {};
  for (const m of Object.keys(modules)) {
    const tools = {};
    for (const name of modules[m]) {
      tools[name] = async (args) => {
        const v = await wait(host.call(name, stringify(args === undefined ? {} : args)));
        return v !== null && typeof v === "object" && v.pending === true && typeof v.ref === "string" ? placeholder(v) : v;
      };
    }
    api[m] = strict(tools, "api." + m + ".");
  }
  const show = (v) => typeof v === "string" ? v : (() => { try { return stringify(v) ?? String(v); } catch { return String(v); } })();
  const print = (...args) => host.log(args.map(show).join(" "));
  globalThis.api = strict(api, "api.");
  globalThis.console = freeze({ log: print, info: print, warn: print, error: print, debug: print });
  globalThis.sleep = (ms) => wait(host.sleep(Number(ms)));
  return {
    settle,
    start(main) {
      main().then(
        (v) => host.done(v === undefined ? "null" : stringify(v) ?? "null"),
        (e) => host.fail(e instanceof Error ? e.name + ": " + e.message + (e.stack ? "\n" + e.stack : "") : "Uncaught " + show(e), e instanceof Error ? e.name : ""),
      );
    },
  };
})`;

interface Run {
  readonly msg: RunMessage;
  readonly rt: QuickJSRuntime;
  readonly vm: QuickJSContext;
  settle?: QuickJSHandle;
  readonly logs: string[];
  outputBytes: number;
  calls: number;
  nextId: number;
  /** Host operations (API calls, sleeps) not answered yet. */
  readonly open: Set<number>;
  readonly timers: Set<NodeJS.Timeout>;
  cpuMs: number;
  sliceStart?: number;
  startMs: number;
  result?: { json: string } | { failure: { kind: RunFailureKind; message: string } };
}

/**
 * When the current VM slice started (epoch ms, 0 between slices), shared with the pool: a slice
 * stuck inside one long native operation, where QuickJS's interrupt check does not run, is seen
 * there and the worker is replaced.
 */
const data = workerData as { sliceClock: SharedArrayBuffer; memoryBytes: number };
const sliceClock = new Float64Array(data.sliceClock);
const port = parentPort;
if (!port) throw new Error("src/code/worker.ts runs as a worker thread");
const send = (m: FromWorker): void => port.postMessage(m);

/**
 * The WebAssembly memory is capped at the run's memory limit plus what QuickJS itself needs: this
 * build counts each allocation as a few bytes whatever its size, so QuickJS's own limit holds for
 * many small objects but not for one large buffer; the cap holds for both.
 */
const PAGE = 65_536;
const BASE_PAGES = 256;
const wasmMemory = new WebAssembly.Memory({ initial: BASE_PAGES, maximum: Math.min(65_536, BASE_PAGES + Math.ceil(data.memoryBytes / PAGE)) });
// The package's types describe its CommonJS build; as an ES module its default export is the variant itself.
const quickjs = await newQuickJSWASMModuleFromVariant(newVariant(releaseSync as unknown as Parameters<typeof newVariant>[0], { wasmMemory }) as Parameters<typeof newQuickJSWASMModuleFromVariant>[0]);
let current: Run | undefined;

port.on("message", (m: ToWorker) => {
  if (m.type === "run") start(m);
  else reply(m);
});
send({ type: "ready" });

function fail(run: Run, kind: RunFailureKind, message: string): void {
  run.result ??= { failure: { kind, message } };
}

/** Runs VM work, counting its CPU time against the limit (the interrupt handler reads sliceStart). */
function slice(run: Run, work: () => void): void {
  run.sliceStart = performance.now();
  sliceClock[0] = performance.timeOrigin + run.sliceStart;
  try {
    work();
  } finally {
    sliceClock[0] = 0;
    run.cpuMs += performance.now() - run.sliceStart;
    run.sliceStart = undefined;
  }
}

function start(msg: RunMessage): void {
  const t0 = performance.now();
  const rt = quickjs.newRuntime();
  rt.setMemoryLimit(msg.limits.memoryBytes);
  rt.setMaxStackSize(STACK_BYTES);
  const vm = rt.newContext();
  const run: Run = { msg, rt, vm, logs: [], outputBytes: 0, calls: 0, nextId: 1, open: new Set(), timers: new Set(), cpuMs: 0, startMs: 0 };
  current = run;
  const wall = setTimeout(() => {
    fail(run, "wall_time", `The run took longer than ${msg.limits.wallTimeMs} ms and was stopped.`);
    finish(run);
  }, msg.limits.wallTimeMs);
  run.timers.add(wall);
  rt.setInterruptHandler(() => {
    if (run.sliceStart === undefined) return false;
    if (run.cpuMs + (performance.now() - run.sliceStart) <= msg.limits.cpuTimeMs) return false;
    fail(run, "cpu_time", `The script used more than ${msg.limits.cpuTimeMs} ms of CPU time and was stopped.`);
    return true;
  });

  let source: string;
  try {
    source = stripTypes(msg.code);
  } catch (err) {
    fail(run, "syntax", `The script does not parse: ${err instanceof Error ? err.message : String(err)}`);
    finish(run);
    return;
  }

  const host = vm.newObject();
  const fns: [string, QuickJSHandle][] = [
    ["call", vm.newFunction("call", (toolH, argsH) => {
      const id = run.nextId++;
      run.calls++;
      if (run.calls > msg.limits.maxApiCalls) {
        fail(run, "api_calls", `The script made more than ${msg.limits.maxApiCalls} API calls; the run was stopped.`);
        throw new Error("API call limit reached");
      }
      let args: unknown;
      try {
        args = JSON.parse(vm.getString(argsH));
      } catch {
        throw new TypeError("API call arguments must be JSON: an object of plain values");
      }
      run.open.add(id);
      send({ type: "call", runId: msg.runId, callId: id, tool: vm.getString(toolH), args });
      return vm.newNumber(id);
    })],
    ["sleep", vm.newFunction("sleep", (msH) => {
      const ms = vm.getNumber(msH);
      if (!Number.isFinite(ms) || ms < 0 || ms > MAX_SLEEP_MS) throw new RangeError(`sleep(ms) takes 0 to ${MAX_SLEEP_MS} ms`);
      const id = run.nextId++;
      run.open.add(id);
      const timer = setTimeout(() => {
        run.timers.delete(timer);
        settle(run, id, true, "null");
      }, ms);
      run.timers.add(timer);
      return vm.newNumber(id);
    })],
    ["log", vm.newFunction("log", (lineH) => {
      const line = vm.getString(lineH);
      run.outputBytes += Buffer.byteLength(line) + 1;
      if (run.outputBytes > msg.limits.maxOutputBytes) {
        fail(run, "output", `The script's output passed ${msg.limits.maxOutputBytes} bytes; the run was stopped.`);
        throw new Error("output limit reached");
      }
      run.logs.push(line);
    })],
    ["done", vm.newFunction("done", (jsonH) => {
      const json = vm.getString(jsonH);
      if (Buffer.byteLength(json) + run.outputBytes > msg.limits.maxOutputBytes) fail(run, "output", `The script's return value and logs pass ${msg.limits.maxOutputBytes} bytes.`);
      else run.result ??= { json };
    })],
    ["fail", vm.newFunction("fail", (textH, nameH) => {
      const text = vm.getString(textH);
      const name = vm.getString(nameH);
      if (/out of memory/i.test(text)) fail(run, "memory", `The script used more than ${msg.limits.memoryBytes} bytes of memory and was stopped.`);
      else if (/stack overflow|too much recursion/i.test(text)) fail(run, "stack", `The script recursed too deeply (stack overflow): ${firstLine(text)}`);
      else fail(run, name === "SyntaxError" ? "syntax" : "exception", `The script threw ${firstLine(text)}`);
    })],
  ];
  for (const [name, fn] of fns) {
    vm.setProp(host, name, fn);
    fn.dispose();
  }

  slice(run, () => {
    const made = vm.evalCode(PRELUDE, "prelude.js");
    if (made.error) {
      fail(run, "crashed", `sandbox prelude failed: ${JSON.stringify(vm.dump(made.error))}`);
      made.error.dispose();
      host.dispose();
      return;
    }
    const modules = vm.newString(JSON.stringify(msg.modules));
    const made2 = vm.callFunction(made.value, vm.undefined, host, modules);
    made.value.dispose();
    modules.dispose();
    host.dispose();
    if (made2.error) {
      fail(run, "crashed", `sandbox prelude failed: ${JSON.stringify(vm.dump(made2.error))}`);
      made2.error.dispose();
      return;
    }
    const api = made2.value;
    run.settle = vm.getProp(api, "settle");
    const startFn = vm.getProp(api, "start");
    api.dispose();
    run.startMs = performance.now() - t0;
    const main = vm.evalCode(`(async () => {\n${source}\n})`, "script.js");
    if (main.error) {
      reportThrown(run, main.error);
    } else {
      const started = vm.callFunction(startFn, vm.undefined, main.value);
      main.value.dispose();
      if (started.error) reportThrown(run, started.error);
      else started.value.dispose();
    }
    startFn.dispose();
  });
  drive(run);
}

/** An exception thrown straight out of evalCode / callFunction (a syntax error, the interrupt). */
function reportThrown(run: Run, error: QuickJSHandle): void {
  const dumped = run.vm.dump(error) as { name?: string; message?: string } | string;
  error.dispose();
  const name = typeof dumped === "object" && dumped ? dumped.name ?? "Error" : "Error";
  const message = typeof dumped === "object" && dumped ? dumped.message ?? "" : String(dumped);
  if (/out of memory/i.test(message)) fail(run, "memory", `The script used more than ${run.msg.limits.memoryBytes} bytes of memory and was stopped.`);
  else if (/stack overflow/i.test(message)) fail(run, "stack", `The script recursed too deeply (stack overflow).`);
  else fail(run, name === "SyntaxError" ? "syntax" : "exception", `The script threw ${name}: ${message}`);
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.slice(0, 500);
}

/** Runs pending promise jobs; ends the run when it has a result or can make no more progress. */
function drive(run: Run): void {
  if (current !== run) return;
  if (!run.result) {
    slice(run, () => {
      const jobs = run.rt.executePendingJobs();
      if (jobs.error) reportThrown(run, jobs.error);
    });
  }
  if (!run.result && run.open.size === 0 && !run.rt.hasPendingJob()) {
    fail(run, "stalled", "The script is waiting on a promise that can never settle (only API calls and sleep() settle on their own).");
  }
  if (run.result) finish(run);
}

function settle(run: Run, id: number, ok: boolean, json: string): void {
  if (current !== run || !run.open.delete(id) || run.result || !run.settle) return;
  const { vm } = run;
  slice(run, () => {
    const idH = vm.newNumber(id);
    const jsonH = vm.newString(json);
    const r = vm.callFunction(run.settle!, vm.undefined, idH, ok ? vm.true : vm.false, jsonH);
    idH.dispose();
    jsonH.dispose();
    if (r.error) reportThrown(run, r.error);
    else r.value.dispose();
  });
  drive(run);
}

function reply(m: ReplyMessage): void {
  const run = current;
  if (!run || run.msg.runId !== m.runId) return;
  if (m.error) settle(run, m.callId, false, JSON.stringify(m.error));
  else settle(run, m.callId, true, m.json ?? "null");
}

function finish(run: Run): void {
  current = undefined;
  for (const t of run.timers) clearTimeout(t);
  const result = run.result ?? { failure: { kind: "crashed" as const, message: "the run ended without a result" } };
  const done: DoneMessage = {
    type: "done",
    runId: run.msg.runId,
    logs: run.logs,
    calls: Math.min(run.calls, run.msg.limits.maxApiCalls),
    startMs: run.startMs,
    cpuMs: run.cpuMs,
    ...("json" in result ? { json: result.json } : { failure: result.failure }),
  };
  try {
    run.settle?.dispose();
    run.vm.dispose();
    run.rt.dispose();
  } catch (err) {
    // A runtime that cannot be freed cleanly leaves this worker unusable: answer, then exit so
    // the pool starts a fresh one.
    send(done);
    process.stderr.write(`sandbox: disposing a runtime failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  send(done);
}

/**
 * TypeScript in, JavaScript out: sucrase removes type annotations, interfaces and `as` casts and
 * leaves the rest of the code as written (no down-levelling, no module transform). Plain
 * JavaScript passes through unchanged.
 */
function stripTypes(code: string): string {
  const wrapped = `async function __script__() {\n${code}\n}`;
  const out = transform(wrapped, { transforms: ["typescript"], disableESTransforms: true }).code;
  const open = out.indexOf("{");
  const close = out.lastIndexOf("}");
  return out.slice(open + 1, close);
}
