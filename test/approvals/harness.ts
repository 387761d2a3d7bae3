/**
 * Approvals against real parts: the sample upstream (examples/upstream) serving the bundled
 * workspace spec behind a counting proxy (every write that reaches it is recorded), the tools the
 * generator builds from that spec, a real gateway on a real port with the console, an admin store
 * in its data dir and SDK clients over Streamable HTTP.
 */
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { loadSpec } from "../../codegen/load-spec.js";
import { buildTools } from "../../codegen/operations.js";
import { DEFAULT_RULES } from "../../codegen/rules.js";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createAdminFileStore, type AdminStore } from "../../src/console/admins.js";
import { createRegistry } from "../../src/registry.js";
import { createMemoryTokenStore, type TokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";

export const UPSTREAM_TOKEN = "sample-upstream-secret";

export type Task = { id: string; project_id: string; title: string; status: string; [k: string]: unknown };
export type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

/** A write that reached the upstream. */
export interface SeenWrite {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
}

/** The sample upstream behind a proxy that records every write reaching it. */
export interface CountingUpstream {
  readonly url: string;
  readonly baseUrl: string;
  readonly writes: SeenWrite[];
  /** Talks to the sample upstream directly (not counted). */
  api<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; etag: string | null }>;
  close(): Promise<void>;
}

let cachedTools: Promise<ToolDescriptor[]> | undefined;
/** The workspace tools, built once per test file. */
export function workspaceTools(): Promise<ToolDescriptor[]> {
  cachedTools ??= loadSpec("openapi/workspace.yaml").then((spec) => buildTools(spec, DEFAULT_RULES).tools as ToolDescriptor[]);
  return cachedTools;
}

/** Starts the sample upstream and the counting proxy in front of it. */
export async function startCountingUpstream(): Promise<CountingUpstream> {
  const real: RunningUpstream = await startUpstream({ spec: "openapi/workspace.yaml", port: 0, host: "127.0.0.1", dataDir: mkdtempSync(join(tmpdir(), "cs-approvals-up-")), token: UPSTREAM_TOKEN, durable: false });
  const writes: SeenWrite[] = [];
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "GET" && req.method !== "HEAD") writes.push({ method: req.method!, path: req.url!, headers: req.headers });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "host" && k !== "content-length" && k !== "connection") headers[k] = v;
      fetch(`${real.url}${req.url}`, { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined })
        .then(async (up) => {
          const out: Record<string, string> = {};
          up.headers.forEach((v, k) => {
            if (k !== "content-length" && k !== "transfer-encoding" && k !== "connection" && k !== "content-encoding") out[k] = v;
          });
          res.writeHead(up.status, out);
          res.end(Buffer.from(await up.arrayBuffer()));
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return {
    url,
    baseUrl: `${url}${real.baseUrl.slice(real.url.length)}`,
    writes,
    async api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${real.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${UPSTREAM_TOKEN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, etag: res.headers.get("etag") };
    },
    async close() {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await real.close();
    },
  };
}

/** A gateway with the console on a real port. */
export interface ApprovalsGateway {
  readonly gateway: Gateway;
  readonly http: HttpHandle;
  readonly base: string;
  readonly admins: AdminStore;
  readonly dataDir: string;
  /** An SDK client for a token; `onLog` sees the session's log messages. */
  agent(token: string, onLog?: (data: any) => void): Promise<Client>;
  close(): Promise<void>;
}

/** The approval rules the tests use unless they pass their own: deletes and sensitive writes → person, update_task → both. */
export const TEST_RULES = [
  { tool: "update_task", approval: "both" },
  { methods: ["DELETE"], approval: "person" },
  { sensitive: true, approval: "person" },
];

/** Starts a gateway over the counting upstream. */
export async function startApprovalsGateway(options: {
  upstream: CountingUpstream;
  tokens: TokenStore;
  env?: Record<string, string>;
  file?: Record<string, unknown>;
  dataDir?: string;
}): Promise<ApprovalsGateway> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "cs-approvals-"));
  const config = resolveConfig({
    env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_UPSTREAM_URL: options.upstream.url, COUNTERSIGN_UPSTREAM_TOKEN: UPSTREAM_TOKEN, LOG_LEVEL: "silent", ...options.env },
    file: options.file ?? { approvals: { rules: TEST_RULES } },
  });
  const gateway = await createGateway(config, { registry: createRegistry(await workspaceTools()), tokens: options.tokens });
  const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${http.port}`;
  const clients: Client[] = [];
  return {
    gateway,
    http,
    base,
    dataDir,
    admins: createAdminFileStore({ dir: dataDir }),
    async agent(token, onLog) {
      const client = new Client({ name: "approvals-test-agent", version: "1" });
      if (onLog) {
        const { LoggingMessageNotificationSchema } = await import("@modelcontextprotocol/sdk/types.js");
        client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => onLog(n.params.data));
      }
      await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) await c.close().catch(() => undefined);
      await http.close();
      await gateway.close();
    },
  };
}

/** A memory token store with one agent token per name. */
export function agentTokens(...names: string[]): { tokens: TokenStore; secrets: Record<string, string> } {
  const secrets: Record<string, string> = {};
  const records = names.map((name, i) => {
    const secret = mintToken();
    secrets[name] = secret;
    return { id: `tok_${name}${i}`, hash: hashToken(secret), name, modules: "all" as const, readOnly: false, tier: "default", createdAt: new Date().toISOString() };
  });
  return { tokens: createMemoryTokenStore(records), secrets };
}

/** Calls the console API with an admin credential (or any bearer). */
export async function consoleApi(base: string, bearer: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/console/api${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Waits until `check` holds (polling; no fixed sleeps). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
