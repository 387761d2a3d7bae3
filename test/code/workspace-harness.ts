/**
 * The sample upstream (examples/upstream) serving the bundled workspace spec, a real gateway over
 * the tools the generator builds from it, and the SDK Client over Streamable HTTP (`?mode=`).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { loadSpec } from "../../codegen/load-spec.js";
import { buildTools } from "../../codegen/operations.js";
import { DEFAULT_RULES } from "../../codegen/rules.js";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createRegistry } from "../../src/registry.js";
import { createMemoryTokenStore, type TokenRecord } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";

export type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

const SPEC = "openapi/workspace.yaml";
const UPSTREAM_TOKEN = "sample-upstream-secret";

export interface Workspace {
  upstream: RunningUpstream;
  gateway: Gateway;
  http: HttpHandle;
  dataDir: string;
  /** A token with every module. */
  secret: string;
  /** Mints another token. */
  mint(fields?: Partial<TokenRecord>): Promise<string>;
  /** Connects an SDK client with a token and connection parameters (`mode=code`). */
  connect(secret: string, query?: string): Promise<Client>;
  /** Talks to the sample upstream directly, to check what really changed. */
  api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export async function startWorkspace(env: Record<string, string> = {}, options: { dataDir?: string; upstream?: RunningUpstream } = {}): Promise<Workspace> {
  const upstream = options.upstream ?? (await startUpstream({ spec: SPEC, port: 0, host: "127.0.0.1", dataDir: mkdtempSync(join(tmpdir(), "cs-code-up-")), token: UPSTREAM_TOKEN }));
  const built = buildTools(await loadSpec(SPEC), DEFAULT_RULES);
  const tokens = createMemoryTokenStore();
  let n = 0;
  async function mint(fields: Partial<TokenRecord> = {}): Promise<string> {
    const secret = mintToken();
    n++;
    await tokens.create({ id: `tok_code${n}`, hash: hashToken(secret), name: `agent-${n}`, modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString(), ...fields });
    return secret;
  }
  const secret = await mint();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "cs-code-"));
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_UPSTREAM_URL: upstream.url, COUNTERSIGN_UPSTREAM_TOKEN: UPSTREAM_TOKEN, LOG_LEVEL: "silent", ...env } });
  const gateway = await createGateway(config, { registry: createRegistry(built.tools), tokens });
  const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  const clients: Client[] = [];
  return {
    upstream,
    gateway,
    http,
    dataDir,
    secret,
    mint,
    async connect(token, query = "") {
      const client = new Client({ name: "code-mode-test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${http.url}${query ? `?${query}` : ""}`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      clients.push(client);
      return client;
    },
    async api<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${upstream.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${UPSTREAM_TOKEN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await http.close();
      await gateway.close();
      if (!options.upstream) await upstream.close();
    },
  };
}

/** Calls a tool and returns its result as the client got it. */
export async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Result> {
  return (await client.callTool({ name, arguments: args })) as Result;
}
