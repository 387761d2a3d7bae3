/**
 * Processes and MCP clients for the harness: spawn a server, wait until it answers, read its
 * resident memory, and open SDK clients over Streamable HTTP or stdio.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { z } from "zod";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process in MB, from /proc/<pid>/status (VmRSS); NaN once it is gone. */
export function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Where a process's resident memory is, in MB, from /proc/<pid>/status and /proc/<pid>/smaps:
 * anonymous vs file-backed, and of the anonymous part the brk heap (glibc's main malloc arena)
 * and the 64 MB-aligned reservations glibc makes for other threads' arenas. What remains of the
 * anonymous memory is mostly V8's heap pages (compare with heap_total from the process itself).
 * Empty once the process is gone.
 */
export function memoryBreakdown(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? NaN);
    const smaps = readFileSync(`/proc/${pid}/smaps`, "utf8");
    let brk = 0;
    let arenas = 0;
    let arenaCount = 0;
    let current;
    for (const line of smaps.split("\n")) {
      const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
      if (head) {
        const start = parseInt(head[1], 16);
        const size = parseInt(head[2], 16) - start;
        const path = head[5];
        // glibc maps each extra arena as a 64 MB region aligned to 64 MB; the used part is rw-p.
        const arena = !path && head[3] === "rw-p" && start % (64 * 1024 * 1024) === 0 && size <= 64 * 1024 * 1024;
        current = path === "[heap]" ? "brk" : arena ? "arena" : undefined;
        if (current === "arena") arenaCount++;
        continue;
      }
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (rss && current === "brk") brk += Number(rss[1]);
      else if (rss && current === "arena") arenas += Number(rss[1]);
    }
    const mb = (k) => Math.round((k / 1024) * 10) / 10;
    return { rss_mb: mb(kb("VmRSS")), anon_mb: mb(kb("RssAnon")), file_mb: mb(kb("RssFile")), malloc_brk_mb: mb(brk), malloc_arenas_mb: mb(arenas), malloc_arena_count: arenaCount };
  } catch {
    return {};
  }
}

/**
 * CPU time a process has used so far (user + system, all its threads) in ms, from /proc/<pid>/stat;
 * NaN once it is gone. Clock-tick grained (10 ms): read it around many calls.
 */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** A port free right now on 127.0.0.1 (the OS picks it; we release it for the server to take). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const sock = tcpConnect(port, "127.0.0.1");
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

/** Keeps the last few KB of a stream, for error messages when a server dies. */
function tail(stream, max = 4096) {
  const box = { text: "" };
  stream?.on("data", (d) => {
    box.text = (box.text + d.toString()).slice(-max);
  });
  return box;
}

/**
 * Spawns a long-running server process (stdout/stderr kept in a short tail, never inherited).
 * Returns { child, pid, exited (promise), output(), stop() }.
 */
export function spawnServer(command, args, { env = {}, cwd } = {}) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const out = tail(child.stdout);
  const err = tail(child.stderr);
  let exitInfo;
  const exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    }),
  );
  return {
    child,
    pid: child.pid,
    exited,
    get exitInfo() {
      return exitInfo;
    },
    output: () => `${out.text}\n${err.text}`.trim(),
    async stop() {
      if (exitInfo) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Waits until `port` accepts connections, or the process exits, or `timeoutMs` passes. */
export async function waitForPort(port, proc, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (proc.exitInfo) throw new Error(`exited (${JSON.stringify(proc.exitInfo)}) before listening: ${proc.output().slice(-1500)}`);
    if (await portOpen(port)) return;
    await sleep(5);
  }
  throw new Error(`not listening on ${port} after ${timeoutMs} ms: ${proc.output().slice(-1500)}`);
}

/** An SDK client connected over Streamable HTTP. */
export async function httpClient(url, headers = {}) {
  const client = new Client({ name: "countersign-bench", version: "1.0.0" });
  // The SDK client passes one AbortSignal to every fetch of a session, and undici only drops its
  // listener on that signal after GC: thousands pile up on a long-lived session (a warning, and
  // slower adds). The harness never aborts a request, so it sends none; every contender alike.
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: (input, init) => fetch(input, { ...init, signal: undefined }) });
  await client.connect(transport);
  return {
    client,
    async close() {
      // Ends the server-side session too, so stateful servers are not left holding it.
      await transport.terminateSession().catch(() => undefined);
      await client.close().catch(() => undefined);
    },
  };
}

/** An SDK client that spawns its stdio server; returns the client, the server's pid and its stderr tail. */
export async function stdioClient(command, args, { env = {}, cwd } = {}) {
  const transport = new StdioClientTransport({ command, args, cwd, env: { ...process.env, ...env }, stderr: "pipe" });
  const err = tail(transport.stderr);
  const client = new Client({ name: "countersign-bench", version: "1.0.0" });
  try {
    await client.connect(transport);
  } catch (e) {
    await client.close().catch(() => undefined);
    throw new Error(`${e.message}: ${err.text.slice(-1500)}`);
  }
  return {
    client,
    pid: transport.pid,
    output: () => err.text,
    async close() {
      await client.close().catch(() => undefined);
    },
  };
}

const LenientList = z.object({ tools: z.array(z.any()), nextCursor: z.string().optional() }).passthrough();

/** Short text for a client-side schema rejection (zod issues) or any other error. */
export function describeError(err) {
  try {
    const issues = JSON.parse(err.message);
    if (Array.isArray(issues) && issues[0]?.path) {
      const paths = issues.map((i) => i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").replace(/^\./, ""));
      return `${issues.length} schema issue(s), e.g. ${paths.slice(0, 3).join(", ")}: ${issues[0].message}`;
    }
  } catch {
    // not a zod issue list
  }
  return err.message.replace(/\s+/g, " ");
}

/**
 * Every tool over all tools/list pages. When the SDK Client rejects the list (a tool that breaks
 * the MCP schema), the list is fetched again without that check and the rejection is returned as
 * `invalid` so the report can say that a strict client would refuse it.
 */
export async function listAllTools(client, collect = {}) {
  const tools = [];
  let cursor;
  let lenient = false;
  do {
    let page;
    if (!lenient) {
      try {
        page = await client.listTools(cursor ? { cursor } : {});
      } catch (err) {
        collect.invalid = `the SDK Client rejects its tools/list: ${describeError(err)}`;
        lenient = true;
      }
    }
    if (lenient) page = await client.request({ method: "tools/list", params: cursor ? { cursor } : {} }, LenientList);
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  if (collect.invalid) Object.defineProperty(tools, "invalid", { value: collect.invalid });
  return tools;
}

/** Runs a command to completion; resolves { code, ms, stdout, stderr }. */
export function runCommand(command, args, { env = {}, cwd, timeoutMs = 900_000 } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-20_000)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, ms: performance.now() - t0, stdout, stderr });
    });
  });
}
