/**
 * The security model end to end over Streamable HTTP (Koa, in process, real SDK Client), against
 * a local upstream that counts every request. Tokens are minted and revoked with the real
 * `countersign tokens` command on the same data dir the gateway reads. (stdio: the
 * e2e-security-stdio test.)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createRegistry } from "../../src/registry.js";
import { mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { SECURITY_TOOLS as TOOLS, filesUnder, secretNeedles, startCountingUpstream, tokensOn, writeGenerated, type CountingUpstream } from "../tokens/security-harness.js";

const tmp = mkdtempSync(join(tmpdir(), "cs-e2e-security-"));
const dataDir = join(tmp, "data");
const generatedDir = join(tmp, "generated");
// The key that seals per-token upstream credentials; the gateway reads it from the environment.
const SECRET_KEY = randomBytes(32).toString("base64");
process.env.COUNTERSIGN_SECRET_KEY = SECRET_KEY;
const { cli, mint, minted } = tokensOn(dataDir, generatedDir, { COUNTERSIGN_SECRET_KEY: SECRET_KEY });
const logLines: string[] = [];
let upstream: CountingUpstream;
let gateway: Gateway;
let http: HttpHandle;
const clients: Client[] = [];
let closed = false;

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: "e2e-security", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  clients.push(client);
  return client;
}

const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/** One raw JSON-RPC POST to /mcp, so tests see status codes and headers. */
async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: { result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } } | undefined }> {
  const res = await fetch(http.url, { method: "POST", headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  const data = res.headers.get("content-type")?.includes("text/event-stream") ? text.split("\n").find((l) => l.startsWith("data: "))?.slice(6) : text;
  return { status: res.status, headers: res.headers, json: data ? JSON.parse(data) : undefined };
}

/** A raw session: initialize + initialized; returns a caller for tools/call. */
async function rawSession(token: string): Promise<(name: string, args?: Record<string, unknown>) => ReturnType<typeof post>> {
  const auth = { authorization: `Bearer ${token}` };
  const init = await fetch(http.url, {
    method: "POST",
    headers: { ...MCP_HEADERS, ...auth },
    body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
  });
  await init.text();
  const sessionId = init.headers.get("mcp-session-id")!;
  expect(sessionId).toBeTruthy();
  const session = { ...auth, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" };
  const note = await fetch(http.url, { method: "POST", headers: { ...MCP_HEADERS, ...session }, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
  await note.text();
  let id = 1;
  return (name, args = {}) => post({ jsonrpc: "2.0", id: id++, method: "tools/call", params: { name, arguments: args } }, session);
}

beforeAll(async () => {
  upstream = await startCountingUpstream();
  writeGenerated(generatedDir, TOOLS);
  const config = resolveConfig({
    env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_UPSTREAM_URL: upstream.url, COUNTERSIGN_UPSTREAM_TOKEN: "service-credential", COUNTERSIGN_GENERATED_DIR: generatedDir, COUNTERSIGN_EXCLUDE_TOOLS: "export_*", COUNTERSIGN_SECRET_KEY: SECRET_KEY, LOG_LEVEL: "trace" },
  });
  // Every log line the gateway writes, at the most verbose level, is kept for the secrets check.
  const sink = new Writable({ write: (chunk, _enc, cb) => (logLines.push(String(chunk)), cb()) });
  gateway = await createGateway(config, { registry: createRegistry(TOOLS), log: pino({ level: "trace" }, sink) });
  http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
});

afterAll(async () => {
  if (!closed) {
    await Promise.allSettled(clients.map((c) => c.close()));
    await http?.close();
    await gateway?.close();
  }
  await upstream?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("bad tokens over HTTP", () => {
  it("each kind is refused with 401, WWW-Authenticate and its own message, and nothing reaches the upstream", async () => {
    const good = await mint();
    const revoked = await mint();
    expect((await cli("revoke", revoked.id)).code).toBe(0);
    const expiring = await mint("--expires", "1s");
    await new Promise((r) => setTimeout(r, 1100));
    const typo = good.token.slice(0, 12) + (good.token[12] === "x" ? "y" : "x") + good.token.slice(13);
    const before = upstream.count();

    const cases: [string | undefined, string, RegExp][] = [
      [undefined, "missing", /^Missing bearer token/],
      ["not-a-token", "malformed", /^Malformed token/],
      [good.token.slice(0, -4), "malformed", /^Malformed token/],
      [typo, "checksum", /^Token checksum mismatch \(typo or truncated paste\?\)$/],
      ["csk_" + "A".repeat(30) + good.token.slice(-6), "checksum", /checksum mismatch/],
      [mintToken(), "unknown", /^Unknown token$/],
      [revoked.token, "revoked", /^Token revoked on /],
      [expiring.token, "expired", /^Token expired on /],
    ];
    const messages = new Set<string>();
    for (const [credential, reason, message] of cases) {
      const r = await post(
        { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "list_tasks", arguments: {} } },
        credential === undefined ? {} : { authorization: `Bearer ${credential}` },
      );
      expect(r.status, reason).toBe(401);
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer realm="countersign", error="invalid_token", error_description="/);
      expect(r.json?.error?.message).toMatch(message);
      expect(r.json?.error?.data).toMatchObject({ code: "unauthorized", reason });
      messages.add(r.json!.error!.message.replace(/ on .*/, ""));
    }
    expect(messages.size).toBe(6);
    expect(upstream.count()).toBe(before);
    // The good token works, so the refusals above were about the tokens.
    const client = await connect(good.token);
    const ok = await client.callTool({ name: "list_tasks", arguments: {} });
    expect(ok.isError).toBeFalsy();
    expect(upstream.count()).toBe(before + 1);
  });

  it("revocation during an open session refuses the very next call", async () => {
    const t = await mint();
    const client = await connect(t.token);
    expect((await client.callTool({ name: "list_tasks", arguments: {} })).isError).toBeFalsy();
    const before = upstream.count();
    expect((await cli("revoke", t.id)).code).toBe(0);
    const err = await client.callTool({ name: "list_tasks", arguments: {} }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/Token revoked/);
    expect(upstream.count()).toBe(before);
  });
});

describe("scope, read-only and exclusions over HTTP", () => {
  it("a token sees and calls only its modules; other modules are refused naming the tool", async () => {
    const t = await mint("--modules", "tasks");
    const client = await connect(t.token);
    const names = (await client.listTools()).tools.map((x) => x.name).filter((n) => TOOLS.some((d) => d.name === n));
    expect(names.sort()).toEqual(["create_task", "list_tasks", "whoami"]);
    const before = upstream.count();
    const r = await client.callTool({ name: "list_roles", arguments: {} });
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).toMatch(/list_roles.*module 'admin'.*outside this token's scope \(modules: tasks\)/);
    expect(r.structuredContent).toMatchObject({ error: { code: "forbidden", reason: "scope" } });
    expect(upstream.count()).toBe(before);
  });

  it("a read-only token sees no write tools and can't call one", async () => {
    const t = await mint("--read-only");
    const client = await connect(t.token);
    const names = (await client.listTools()).tools.map((x) => x.name);
    expect(names).toContain("list_tasks");
    expect(names).not.toContain("create_task");
    expect(names).not.toContain("assign_role");
    const r = await client.callTool({ name: "create_task", arguments: {} });
    expect(r.structuredContent).toMatchObject({ error: { code: "forbidden", reason: "read_only" } });
    expect(JSON.stringify(r.content)).toMatch(/create_task.*read-only/);
  });

  it("excluded operations (by the spec and by the config) are neither listed nor callable", async () => {
    const t = await mint();
    const client = await connect(t.token);
    const names = (await client.listTools()).tools.map((x) => x.name);
    expect(names).not.toContain("get_invoice");
    expect(names).not.toContain("export_tasks");
    const before = upstream.count();
    for (const [name, why] of [["get_invoice", /billing and payments/], ["export_tasks", /COUNTERSIGN_EXCLUDE_TOOLS/]] as const) {
      const r = await client.callTool({ name, arguments: {} });
      expect(r.structuredContent).toMatchObject({ error: { code: "forbidden", reason: "excluded" } });
      expect(JSON.stringify(r.content)).toMatch(why);
    }
    expect(upstream.count()).toBe(before);
  });
});

describe("per-token upstream credentials", () => {
  it("a token's own credential replaces the service credential upstream, and is stored only sealed", async () => {
    const own = await mint("--upstream-credential", "own-pat-0123456789");
    const plain = await mint();
    const a = await connect(own.token);
    const b = await connect(plain.token);
    expect((await a.callTool({ name: "whoami", arguments: {} })).isError).toBeFalsy();
    expect((await b.callTool({ name: "whoami", arguments: {} })).isError).toBeFalsy();
    expect(upstream.authorizations("/whoami")).toEqual(["Bearer own-pat-0123456789", "Bearer service-credential"]);
    for (const f of filesUnder(dataDir)) expect(f.text.includes("own-pat-0123456789"), f.path).toBe(false);
  });
});

describe("rate limits over HTTP", () => {
  it("1100 requests in a burst from one token (initialize + 1099 calls): exactly 1000 are allowed, 100 get 429 with Retry-After; another token is unaffected", async () => {
    const a = await mint();
    const b = await mint();
    const call = await rawSession(a.token);
    const before = upstream.count("GET /list_tasks");
    const results: Awaited<ReturnType<typeof post>>[] = [];
    const started = Date.now();
    // The session's initialize took the first point; 1099 calls, 50 in flight at a time.
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < 1099) {
          next++;
          results.push(await call("list_tasks"));
        }
      }),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(999);
    expect(limited).toHaveLength(100);
    for (const r of ok) expect(r.json?.result).toBeDefined();
    expect(upstream.count("GET /list_tasks") - before).toBe(999);
    for (const r of limited) {
      const retryAfter = Number(r.headers.get("retry-after"));
      // The window opened with the first call, so the wait is what is left of that minute.
      expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(60 - elapsedS) - 1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(r.json?.error?.code).toBe(-32029);
      expect(r.json?.error?.message).toMatch(new RegExp(`normal bucket allows 1000 calls per minute; retry in ${retryAfter} s`));
      expect(r.json?.error?.data).toMatchObject({ code: "rate_limited", bucket: "normal", retry_after_seconds: retryAfter });
    }
    const other = await rawSession(b.token);
    expect((await other("list_tasks")).status).toBe(200);
    expect((await call("list_tasks")).status).toBe(429);
  });

  it("the sensitive bucket allows exactly 100 executed sensitive writes; previews don't count against it", async () => {
    const t = await mint();
    const client = await connect(t.token);
    const before = upstream.count("POST /assign_role");
    const outcomes: string[] = [];
    for (let i = 0; i < 101; i++) {
      const preview = await client.callTool({ name: "assign_role", arguments: {} });
      const confirmToken = (preview.structuredContent as { confirm_token?: string } | undefined)?.confirm_token;
      expect(confirmToken, JSON.stringify(preview)).toBeTruthy();
      const done = await client.callTool({ name: "confirm_action", arguments: { confirm_token: confirmToken } });
      const sc = done.structuredContent as { status?: string; error?: { code?: string; bucket?: string }; retry_after_seconds?: number };
      if (sc.status === "executed") outcomes.push("executed");
      else {
        expect(sc.error).toMatchObject({ code: "rate_limited", bucket: "sensitive" });
        expect(sc.retry_after_seconds).toBeGreaterThan(0);
        outcomes.push("limited");
      }
    }
    expect(outcomes.filter((o) => o === "executed")).toHaveLength(100);
    expect(outcomes[100]).toBe("limited");
    expect(upstream.count("POST /assign_role") - before).toBe(100);
    // Normal calls still go through for this token: it spent 202 of its 1000 normal points.
    expect((await client.callTool({ name: "list_tasks", arguments: {} })).isError).toBeFalsy();
  });
});

describe("secrets at rest", () => {
  it("no minted token appears in any file the gateway wrote or in its logs", async () => {
    // A clean shutdown flushes every sink (audit, token last-use) before the files are read.
    await Promise.allSettled(clients.map((c) => c.close()));
    await http.close();
    await gateway.close();
    closed = true;
    expect(minted.length).toBeGreaterThanOrEqual(10);
    const files = filesUnder(dataDir);
    expect(files.some((f) => f.path.endsWith("tokens.json"))).toBe(true);
    expect(files.some((f) => f.path.includes("audit"))).toBe(true);
    // The logger captured everything at trace level (it may be little: the gateway logs
    // problems, not traffic); the stdio test checks a real process's stderr the same way.
    const corpus = [...files.map((f) => f.text), logLines.join("")];
    for (const token of minted) {
      for (const needle of secretNeedles(token)) {
        for (const text of corpus) expect(text.includes(needle)).toBe(false);
      }
    }
  });
});
