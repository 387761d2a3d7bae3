/**
 * Stumbles of a first hour with a fresh clone, one test each: which data dir a command used, the
 * demo's tokens, a taken port, audit outcomes by error code, `audit … | head`, a quiet --follow,
 * and what a demo client is shown.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getEventListeners } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/context.js";
import { classify } from "../../src/audit/outcome.js";
import { follow, OUTCOME_ALIASES, outcomeFilter, run as audit, STORED_OUTCOMES } from "../../src/cli/audit.js";
import { DEMO_TOKEN_DAYS, mintDemoToken, setupText } from "../../src/cli/demo.js";
import { GatewayError, type ErrorCode } from "../../src/errors.js";
import { createAuditFileSink } from "../../src/stores/audit-file-sink.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { issueToken } from "../../src/tokens/issue.js";
import { mintToken } from "../../src/tokens/format.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin", "countersign.js");
const NOW = Date.parse("2026-03-01T12:00:00Z");

/** The environment without any countersign variable, so a test sees only what it sets. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(COUNTERSIGN_|MCP_TOKEN$|PORT$|HOST$|LOG_LEVEL$|REDIS_URL$)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cs-first-hour-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function rec(i: number, over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    ts: new Date(NOW - (100 - i) * 60_000).toISOString(),
    requestId: `req-${i}`,
    tokenId: "tok_a",
    transport: "http",
    tool: "get_item",
    outcome: i % 4 ? "ok" : "denied",
    type: i % 4 ? "tool_call" : "denied",
    summary: `event ${i} ${"x".repeat(200)}`,
    ...over,
  };
}

async function seedAudit(dataDir: string, n: number): Promise<void> {
  const sink = createAuditFileSink({ dir: join(dataDir, "audit"), maxFileBytes: 64 * 1024 * 1024 });
  for (let i = 0; i < n; i++) void sink.write(rec(i));
  await sink.close();
}

describe("which data dir", () => {
  it("tokens run from another directory reads the countersign folder's data dir, and says so", () => {
    const r = spawnSync(process.execPath, [BIN, "tokens", "list"], { cwd: dir, env: cleanEnv(), encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(`Tokens in ${join(ROOT, ".data", "tokens.json")}`);
    // Nothing was made where the command ran.
    expect(readdirSync(dir)).toEqual([]);
  });

  it("stdio says which data dir it read its token from, on stderr (stdout is the protocol)", async () => {
    const dataDir = join(dir, "data");
    const refused = spawnSync(process.execPath, [BIN, "stdio"], { cwd: "/", env: cleanEnv({ MCP_TOKEN: mintToken(), COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_HEAP_TUNING: "off" }), encoding: "utf8", input: "" });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`MCP_TOKEN refused: Unknown token (tokens read from the data dir ${dataDir})`);
    expect(refused.stdout).toBe("");

    const { token } = await issueTokenInto(dataDir);
    const child = spawn(process.execPath, [BIN, "stdio"], { cwd: "/", env: cleanEnv({ MCP_TOKEN: token, COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_HEAP_TUNING: "off" }), stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (b: Buffer) => {
        stderr += b.toString();
        if (/countersign stdio: ready .*\n/.test(stderr)) resolve();
      });
      child.once("exit", (code) => reject(new Error(`stdio exited ${code}: ${stderr}`)));
    });
    expect(stderr).toMatch(new RegExp(`countersign stdio: ready \\(\\d+ tools, data dir ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)`));
    const exited = new Promise((r) => child.once("exit", r));
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(stdout).toBe("");
  });
});

async function issueTokenInto(dataDir: string): Promise<{ token: string }> {
  const { openTokenStore } = await import("../../src/stores/tokens.js");
  const store = await openTokenStore({ dataDir });
  try {
    return await issueToken(store, { name: "first-hour" });
  } finally {
    await store.close();
  }
}

describe("serve and stdio --help", () => {
  it.each(["serve", "stdio"])("%s --help prints its flags and exits 0", (command) => {
    const r = spawnSync(process.execPath, [BIN, command, "--help"], { env: cleanEnv(), encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: countersign ${command} `));
    expect(r.stdout).toMatch(/--data-dir DIR\s+COUNTERSIGN_DATA_DIR\s+dataDir/);
    expect(r.stdout).toContain("--config FILE");
  });

  it("a flag the command does not take is a usage error naming it", () => {
    const r = spawnSync(process.execPath, [BIN, "stdio", "--port", "1"], { env: cleanEnv(), encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--port'/);
  });
});

describe("a taken port", () => {
  it("serve names the flag and the variable that pick another port", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = spawnSync(process.execPath, [BIN, "serve", "--port", String(port), "--data-dir", join(dir, "data")], { env: cleanEnv({ COUNTERSIGN_HEAP_TUNING: "off" }), encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`countersign serve: port ${port} is already in use (127.0.0.1:${port}); pick another with --port N or COUNTERSIGN_PORT=N (PORT=N)`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });
});

describe("demo tokens", () => {
  it("revoke the earlier demo tokens and expire after a week", async () => {
    const store = createMemoryTokenStore();
    const before = new Date("2026-03-01T09:00:00Z");
    const legacy = await issueToken(store, { name: "demo 2026-02-27 10:15", now: before });
    const previous = await issueToken(store, { name: "demo", now: before });
    const alice = await issueToken(store, { name: "alice", now: before });
    const now = new Date("2026-03-01T12:00:00Z");
    const minted = await mintDemoToken(store, now);
    expect(minted.revoked).toBe(2);
    expect(minted.expiresAt.toISOString()).toBe(new Date(now.getTime() + DEMO_TOKEN_DAYS * 86_400_000).toISOString());
    const records = await store.list();
    const byId = new Map(records.map((r) => [r.id, r]));
    expect(byId.get(legacy.record.id)?.revokedAt).toBe(now.toISOString());
    expect(byId.get(previous.record.id)?.revokedAt).toBe(now.toISOString());
    expect(byId.get(alice.record.id)?.revokedAt).toBeUndefined();
    const active = records.filter((r) => !r.revokedAt && r.name === "demo");
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ modules: "all", expiresAt: minted.expiresAt.toISOString() });
    // Once more: still one active demo token.
    await mintDemoToken(store, new Date("2026-03-01T13:00:00Z"));
    expect((await store.list()).filter((r) => !r.revokedAt && r.name === "demo")).toHaveLength(1);
  });

  it("the banner prints the expiry, the data dir, and what a client sees with how to see more", () => {
    const text = setupText({
      mcpUrl: "http://127.0.0.1:8787/mcp",
      token: "csk_x",
      upstreamUrl: "http://127.0.0.1:4010",
      upstreamToken: "ups_x",
      dataDir: "/srv/cs/.data",
      generatedDir: "/srv/cs/generated/workspace",
      root: "/srv/cs",
      expiresAt: new Date("2026-03-08T12:00:00Z"),
      revoked: 1,
      surface: { total: 296, mode: "dynamic", listed: 9, modules: ["projects", "tasks", "people"] },
    });
    expect(text).toMatch(/data dir\s+\/srv\/cs\/.data/);
    expect(text).toContain("expires 2026-03-08 12:00 UTC (in 7 days). The previous demo token no longer works.");
    expect(text).toContain("the API has 296 tools, over the 128 many clients accept, so a client sees 9 tools (dynamic mode)");
    expect(text).toContain("http://127.0.0.1:8787/mcp?mode=all");
    expect(text).toContain("(stdio: COUNTERSIGN_MODE=all)");
    expect(text).toContain("http://127.0.0.1:8787/mcp?modules=projects,tasks");
    expect(text).toContain("(stdio: COUNTERSIGN_MODULES=projects,tasks)");
  });
});

describe("audit outcomes", () => {
  async function cli(argv: string[], dataDir: string) {
    let out = "";
    let err = "";
    const code = await audit(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: { COUNTERSIGN_DATA_DIR: dataDir }, now: () => NOW });
    return { code, out, err, lines: out.split("\n").filter(Boolean) };
  }

  it("--outcome takes the error code a refusal is known by (forbidden finds denied)", async () => {
    await seedAudit(dir, 20);
    const denied = await cli(["query", "--outcome", "denied", "--json"], dir);
    const forbidden = await cli(["query", "--outcome", "forbidden", "--json"], dir);
    expect(denied.lines).toHaveLength(5);
    expect(forbidden.lines).toEqual(denied.lines);
    expect(forbidden.err).toContain(`countersign audit: reading ${join(dir, "audit")}`);
  });

  it("refuses an unknown outcome or type, listing the valid ones", async () => {
    const bad = await cli(["query", "--outcome", "forbiden"], dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--outcome: unknown outcome "forbiden" \(did you mean 'forbidden'\?\); valid: ok, pending, executed/);
    const badType = await cli(["query", "--type", "call"], dir);
    expect(badType.code).toBe(2);
    expect(badType.err).toMatch(/--type: unknown type "call".*valid: tool_call, pending/);
  });

  it("the vocabulary matches what the audit trail stores for every error code", () => {
    const codes: ErrorCode[] = ["unauthorized", "forbidden", "not_found", "invalid_arguments", "rate_limited", "confirmation_invalid", "conflict", "upstream_error", "upstream_unavailable", "unavailable", "payload_too_large", "bad_request", "header_mismatch", "internal"];
    for (const code of codes) {
      const stored = classify({ error: new GatewayError(code, "x"), threw: true, confirmed: false }).outcome;
      expect(STORED_OUTCOMES).toContain(stored);
      expect(outcomeFilter(code)).toBe(stored);
    }
    for (const [alias, outcome] of Object.entries(OUTCOME_ALIASES)) expect(STORED_OUTCOMES).toContain(outcome), expect(alias).not.toBe(outcome);
  });
});

describe("audit in a pipe", () => {
  it("`audit query --json | head -n 1` ends quietly", async () => {
    const dataDir = join(dir, "data");
    await seedAudit(dataDir, 3000);
    const r = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" "${BIN}" audit query --json --limit 3000 | head -n 1`], {
      env: cleanEnv({ COUNTERSIGN_DATA_DIR: dataDir }),
      encoding: "utf8",
    });
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ requestId: "req-0" });
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.status).toBe(0);
  });

  it("follow leaves no abort listener per poll behind", async () => {
    const auditDir = join(dir, "audit");
    const sink = createAuditFileSink({ dir: auditDir, maxFileBytes: 1024 * 1024 });
    await sink.write(rec(0));
    await sink.flush();
    const controller = new AbortController();
    const seen: string[] = [];
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    const following = follow(auditDir, (r) => seen.push(r.requestId), { signal: controller.signal, pollMs: 1 });
    try {
      // Each record is seen after at least one more poll: 30 records, 30+ polls.
      for (let i = 1; i <= 30; i++) {
        await sink.write(rec(i));
        await sink.flush();
        while (!seen.includes(`req-${i}`)) await new Promise((r) => setImmediate(r));
      }
      expect(getEventListeners(controller.signal, "abort").length).toBeLessThanOrEqual(1);
    } finally {
      controller.abort();
      await following;
      await sink.close();
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});

describe("unknown names stop a command before it starts", () => {
  it("a mistyped variable or config key is refused naming the fix", () => {
    const env = cleanEnv({ COUNTERSIGN_UPSTREM_URL: "http://x", COUNTERSIGN_DATA_DIR: join(dir, "data") });
    const r = spawnSync(process.execPath, [BIN, "tokens", "list"], { env, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unknown environment variable 'COUNTERSIGN_UPSTREM_URL' (did you mean 'COUNTERSIGN_UPSTREAM_URL'?)");
    const conf = join(dir, "gw.yaml");
    writeFileSync(conf, "http:\n  prot: 9\n");
    const s = spawnSync(process.execPath, [BIN, "serve", "--config", conf], { env: cleanEnv({ COUNTERSIGN_HEAP_TUNING: "off", COUNTERSIGN_DATA_DIR: join(dir, "data") }), encoding: "utf8" });
    expect(s.status).toBe(1);
    expect(s.stderr).toContain("countersign serve: unknown config key 'http.prot' (did you mean 'http.port'?)");
    expect(existsSync(join(dir, "data"))).toBe(false);
  });
});
