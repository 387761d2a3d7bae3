/**
 * The MCP Inspector's CLI (@modelcontextprotocol/inspector 2.12.0, on the SDK v2 client; it needs
 * Node >= 22.19 and runs under `npx -p node@22`) speaking 2026-07-28 to the real CLI: over HTTP to
 * `countersign serve` (every request seen by a recording proxy in front of it) and over stdio to
 * `countersign stdio` (every line it writes seen by test/support/stdio-tee.mjs). A read runs, a
 * write comes back pending and runs once on confirm_action, and no request opens a 2025 session.
 * Needs dist/ (built by test/global-setup.ts unless COUNTERSIGN_SKIP_BUILD=1) and the npm registry once.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureTools } from "../fixtures/tools/index.js";
import { startFixtureUpstream, type FixtureUpstream } from "../fixtures/upstream/server.mjs";
import { writeGenerated } from "../support/generated.js";

const CLI = join(process.cwd(), "bin/countersign.js");
const TEE = join(process.cwd(), "test/support/stdio-tee.mjs");
const INSPECTOR = "@modelcontextprotocol/inspector@2.12.0";
const MODERN = "2026-07-28";

let up: FixtureUpstream;
let work: string;
let env: Record<string, string>;
let token: string;

type Run = { code: number | null; stdout: string; stderr: string };

/** One Inspector CLI run pinned to 2026-07-28; `target` is a URL or a stdio command line. */
function inspector(target: string[], rest: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const args = ["-y", "-p", "node@22", "-p", INSPECTOR, "--", "mcp-inspector", "--cli", ...target, "--protocol-era", "modern", ...rest];
  return new Promise((resolve) => {
    const child = spawn("npx", args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...extraEnv } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr: stderr.split("\n").filter((l) => l && !/^npm (warn|notice)|EBADENGINE|^\s*(package|required|current):|^}$/.test(l)).join("\n") }));
  });
}

function result(run: Run): { structuredContent?: Record<string, unknown>; isError?: boolean } {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { structuredContent?: Record<string, unknown> };
}

beforeAll(async () => {
  up = await startFixtureUpstream();
  work = mkdtempSync(join(tmpdir(), "cs-inspector-2026-"));
  const generated = join(work, "generated");
  writeGenerated(generated, fixtureTools(), "fixture");
  env = { PATH: process.env.PATH ?? "", HOME: work, COUNTERSIGN_DATA_DIR: join(work, "data"), COUNTERSIGN_UPSTREAM_URL: up.url, COUNTERSIGN_GENERATED_DIR: generated, LOG_LEVEL: "warn", COUNTERSIGN_MODE: "all" };
  const minted = spawnSync("node", [CLI, "tokens", "create", "--name", "inspector", "--json"], { env, encoding: "utf8" });
  expect(minted.status, minted.stderr).toBe(0);
  token = (JSON.parse(minted.stdout) as { token: string }).token;
});
afterAll(() => up.close());

describe("the MCP Inspector CLI on 2026-07-28 over HTTP", () => {
  let gateway: ChildProcess;
  let proxy: Server;
  let url: string;
  const seen: { version: string | undefined; method: string | undefined; session: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    gateway = spawn("node", [CLI, "serve", "--port", "0", "--host", "127.0.0.1"], { env, stdio: ["ignore", "ignore", "pipe"] });
    const target = await new Promise<string>((resolve, reject) => {
      let out = "";
      gateway.stderr!.on("data", (d) => {
        out += d;
        const m = /http:\/\/127\.0\.0\.1:\d+\/mcp/.exec(out);
        if (m) resolve(m[0]);
      });
      gateway.once("exit", (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    // Records what the Inspector sends, and passes it on unchanged.
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (req.method === "POST") seen.push({ version: req.headers["mcp-protocol-version"] as string | undefined, method: req.headers["mcp-method"] as string | undefined, session: req.headers["mcp-session-id"] as string | undefined, body: body.toString() });
        const onward = request(target, { method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode!, r.headers);
          r.pipe(res);
        });
        onward.on("error", () => res.destroy());
        onward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}/mcp`;
  }, 60_000);
  afterAll(async () => {
    gateway?.kill("SIGTERM");
    await new Promise<void>((resolve) => proxy?.close(() => resolve()));
  });

  it("runs a read, holds a write pending until confirm_action, and never opens a 2025 session", async () => {
    const auth = ["--transport", "http", "--header", `Authorization: Bearer ${token}`];
    const read = result(await inspector([url], [...auth, "--method", "tools/call", "--tool-name", "get_item", "--tool-arg", "item_id=insp"]));
    expect(read.structuredContent).toEqual({ id: "insp", name: "Widget" });
    expect(up.requests.filter((r) => r.url === "/v1/items/insp")).toHaveLength(1);

    const before = up.requests.length;
    const pending = result(await inspector([url], [...auth, "--method", "tools/call", "--tool-name", "create_item", "--tool-args-json", JSON.stringify({ project_id: 3, name: "from the Inspector" })]));
    expect(pending.structuredContent).toMatchObject({ status: "pending_confirmation" });
    expect(up.requests.length).toBe(before);
    const confirmToken = pending.structuredContent!.confirm_token as string;
    const confirmed = result(await inspector([url], [...auth, "--method", "tools/call", "--tool-name", "confirm_action", "--tool-arg", `confirm_token=${confirmToken}`]));
    expect(confirmed.isError).toBeFalsy();
    expect(up.requests.slice(before).map((r) => `${r.method} ${r.url}`)).toEqual(["POST /v1/projects/3/items"]);
    // The same token again runs nothing: it reports the stored outcome.
    const replay = result(await inspector([url], [...auth, "--method", "tools/call", "--tool-name", "confirm_action", "--tool-arg", `confirm_token=${confirmToken}`]));
    expect(replay.structuredContent).toMatchObject({ status: "already_executed", action_id: pending.structuredContent!.action_id });
    expect(up.requests.length).toBe(before + 1);

    const calls = seen.filter((s) => s.method === "tools/call");
    expect(calls).toHaveLength(4);
    for (const s of seen) {
      expect(s.version).toBe(MODERN);
      expect(s.session).toBeUndefined();
      expect(s.body).not.toContain('"initialize"');
    }
  }, 300_000);
});

describe("the MCP Inspector CLI on 2026-07-28 over stdio", () => {
  it("runs a read through `countersign stdio`, every request carrying the 2026-07-28 envelope", async () => {
    const log = join(work, "stdio-in.log");
    const target = ["node", TEE, log, "node", CLI, "stdio"];
    const serverEnv = Object.entries({ ...env, MCP_TOKEN: token }).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const read = result(await inspector(target, [...serverEnv, "--method", "tools/call", "--tool-name", "get_item", "--tool-arg", "item_id=stdio-insp"]));
    expect(read.structuredContent).toEqual({ id: "stdio-insp", name: "Widget" });
    expect(up.requests.filter((r) => r.url === "/v1/items/stdio-insp")).toHaveLength(1);
    const sent = readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { method?: string; params?: { _meta?: Record<string, unknown> } });
    const requests = sent.filter((m) => m.method !== undefined && !m.method.startsWith("notifications/"));
    expect(requests.map((m) => m.method)).toContain("tools/call");
    expect(requests.map((m) => m.method)).not.toContain("initialize");
    for (const m of requests) expect(m.params?._meta?.["io.modelcontextprotocol/protocolVersion"]).toBe(MODERN);
  }, 300_000);
});
