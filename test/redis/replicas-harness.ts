/**
 * Two (or more) real gateway processes (`node bin/countersign.js serve`) sharing one Redis under
 * a key prefix of their own, in front of a local upstream that counts what reaches it, plus a
 * raw Streamable HTTP client that sees HTTP statuses (429, 503, 401, 404) as they are.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { writeGeneratedTemp } from "../support/generated.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = join(ROOT, "bin/countersign.js");
const run = promisify(execFile);

/** A local upstream: GET/PATCH /items/{id}, counting every request by method. */
export interface CountingUpstream {
  readonly url: string;
  readonly counts: { GET: number; PATCH: number };
  /** Idempotency-Key headers of the PATCHes received. */
  readonly idempotencyKeys: string[];
  close(): Promise<void>;
}

/** Starts the counting upstream on an ephemeral port. */
export async function startCountingUpstream(): Promise<CountingUpstream> {
  const counts = { GET: 0, PATCH: 0 };
  const idempotencyKeys: string[] = [];
  const items = new Map<string, { id: string; name: string }>();
  const server: Server = createServer((req, res) => {
    const m = /^\/items\/([^/?]+)/.exec(req.url ?? "");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (!m) {
        res.writeHead(404).end();
        return;
      }
      const id = decodeURIComponent(m[1]!);
      const item = items.get(id) ?? { id, name: `item ${id}` };
      if (req.method === "GET") counts.GET++;
      if (req.method === "PATCH") {
        counts.PATCH++;
        idempotencyKeys.push(String(req.headers["idempotency-key"] ?? ""));
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as { name?: string };
        if (body.name !== undefined) item.name = body.name;
        items.set(id, item);
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(item));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    idempotencyKeys,
    close: () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

function tool(name: string, method: "GET" | "PATCH", write: boolean): ToolDescriptor {
  const properties: Record<string, unknown> = { item_id: { type: "string" } };
  if (write) properties.name = { type: "string" };
  return {
    name,
    title: name.replace("_", " "),
    description: `${write ? "Rename" : "Read"} an item.`,
    module: "items",
    inputSchema: { type: "object", properties, required: ["item_id"], additionalProperties: false },
    annotations: { readOnlyHint: !write, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    binding: {
      method,
      path: "/items/{item_id}",
      serverPath: "",
      arguments: [{ name: "item_id", in: "path", wireName: "item_id", style: "simple", explode: false, allowReserved: false, required: true }],
      ...(write ? { body: { mediaType: "application/json", mode: "flat" as const, properties: { name: "name" }, required: true } } : {}),
      security: [],
      responseMediaTypes: ["application/json"],
    },
    policy: { write, sensitive: false, excluded: false },
  };
}

/** Writes a two-tool generated API (get_item, update_item) the way the generator lays it out. */
export function writeGeneratedApi(): string {
  return writeGeneratedTemp([tool("get_item", "GET", false), tool("update_item", "PATCH", true)], "items");
}

/** Environment of one replica (or a CLI run) of the distributed gateway. */
export function replicaEnv(redisUrl: string, prefix: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dataDir = mkdtempSync(join(tmpdir(), "cs-replica-"));
  mkdirSync(dataDir, { recursive: true });
  return { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: redisUrl, COUNTERSIGN_REDIS_PREFIX: prefix, COUNTERSIGN_DATA_DIR: dataDir, LOG_LEVEL: "warn", ...extra };
}

/** One `countersign serve` process. */
export interface Replica {
  readonly url: string;
  readonly base: string;
  /** What the process wrote to stderr so far (logs). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `countersign serve --port 0` and waits for its "listening on" line. */
export async function startReplica(options: { redisUrl: string; prefix: string; generated: string; upstream: string; args?: string[]; env?: Record<string, string> }): Promise<Replica> {
  const child: ChildProcess = spawn(process.execPath, [CLI, "serve", "--port", "0", "--generated", options.generated, "--upstream", options.upstream, ...(options.args ?? [])], {
    env: replicaEnv(options.redisUrl, options.prefix, options.env),
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start in 30 s:\n${err}`)), 30_000);
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /countersign: listening on (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`replica exited with ${code}:\n${err}`));
    });
  });
  return {
    url,
    base: url.replace(/\/mcp$/, ""),
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs `countersign <args>` with REDIS_URL; resolves to its stdout. */
export async function cli(redisUrl: string, prefix: string, args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { env: replicaEnv(redisUrl, prefix) });
  return stdout;
}

/** Runs `countersign tokens …` with REDIS_URL; resolves to its parsed --json output. */
export async function tokensCli(redisUrl: string, prefix: string, args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [CLI, "tokens", ...args, "--json"], { env: replicaEnv(redisUrl, prefix) });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** One HTTP answer of /mcp: status, headers and the JSON-RPC message for the request (from JSON or SSE). */
export interface McpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly message?: { result?: { isError?: boolean; structuredContent?: Record<string, unknown>; content?: { text?: string }[] }; error?: { code: number; message: string; data?: Record<string, unknown> } };
}

/** A raw Streamable HTTP session on one replica (the SDK client hides statuses; this one does not). */
export interface RawSession {
  readonly id: string;
  call(name: string, args?: Record<string, unknown>): Promise<McpAnswer>;
  /** Sends a request on another replica's session id (to see the 404). */
  post(body: unknown, sessionId?: string): Promise<McpAnswer>;
}

let nextId = 1;

async function postMcp(url: string, token: string, body: unknown, sessionId?: string): Promise<McpAnswer> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-06-18",
      ...(sessionId ? { "mcp-session-id": sessionId } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let message: McpAnswer["message"];
  if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    for (const line of text.split("\n")) {
      if (!line.startsWith("data:")) continue;
      const m = JSON.parse(line.slice(5)) as { id?: unknown } & McpAnswer["message"];
      if (m && "id" in m && m.id !== undefined) message = m;
    }
  } else if (text) {
    message = JSON.parse(text) as McpAnswer["message"];
  }
  return { status: res.status, headers: res.headers, ...(message ? { message } : {}) };
}

/** Initializes a session on `url` with `token`. */
export async function openSession(url: string, token: string): Promise<RawSession> {
  const init = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "replica-test", version: "1" } } }),
  });
  await init.text();
  const id = init.headers.get("mcp-session-id");
  if (init.status !== 200 || !id) throw new Error(`initialize answered ${init.status}`);
  await postMcp(url, token, { jsonrpc: "2.0", method: "notifications/initialized" }, id);
  return {
    id,
    call: (name, args = {}) => postMcp(url, token, { jsonrpc: "2.0", id: nextId++, method: "tools/call", params: { name, arguments: args } }, id),
    post: (body, sessionId = id) => postMcp(url, token, body, sessionId),
  };
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  }));
  return out;
}
