/**
 * The security model over stdio, with the real `countersign stdio` process (needs dist/: the
 * global setup builds it unless COUNTERSIGN_SKIP_BUILD=1) and the real SDK Client: a bad
 * MCP_TOKEN stops the process at start-up with exit code 2, and a revocation lands on the next
 * call of an open session. Tokens come from the real `countersign tokens` command.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../src/tokens/format.js";
import { SECURITY_TOOLS, filesUnder, secretNeedles, startCountingUpstream, tokensOn, writeGenerated, type CountingUpstream } from "../tokens/security-harness.js";

const bin = resolve(import.meta.dirname, "../../bin/countersign.js");
const tmp = mkdtempSync(join(tmpdir(), "cs-e2e-security-stdio-"));
const dataDir = join(tmp, "data");
const generatedDir = join(tmp, "generated");
const { mint, revoke, minted } = tokensOn(dataDir, generatedDir);
const stderrLines: string[] = [];
let upstream: CountingUpstream;

beforeAll(async () => {
  upstream = await startCountingUpstream();
  writeGenerated(generatedDir, SECURITY_TOOLS);
});
afterAll(async () => {
  await upstream?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function env(token?: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    COUNTERSIGN_DATA_DIR: dataDir,
    COUNTERSIGN_GENERATED_DIR: generatedDir,
    COUNTERSIGN_UPSTREAM_URL: upstream.url,
    LOG_LEVEL: "trace",
    ...(token === undefined ? {} : { MCP_TOKEN: token }),
  };
}

/** Starts `countersign stdio` with stdin closed; resolves with its exit code and stderr. */
function start(token?: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [bin, "stdio"], { env: env(token), timeout: 15_000 }, (_err, _stdout, stderr) => {
      stderrLines.push(stderr);
      done({ code: child.exitCode, stderr });
    });
    child.stdin?.end();
  });
}

describe("stdio", () => {
  it("refuses a bad MCP_TOKEN at start-up with exit code 2 and a message saying what is wrong", async () => {
    const good = await mint();
    const revoked = await mint();
    await revoke(revoked.id);
    const typo = good.token.slice(0, -1) + (good.token.endsWith("x") ? "y" : "x");
    const cases: [string | undefined, RegExp][] = [
      [undefined, /MCP_TOKEN is not set/],
      ["garbage", /MCP_TOKEN refused: Malformed token/],
      [typo, /MCP_TOKEN refused: Token checksum mismatch \(typo or truncated paste\?\)/],
      [mintToken(), /MCP_TOKEN refused: Unknown token/],
      [revoked.token, /MCP_TOKEN refused: Token revoked on /],
    ];
    const results = await Promise.all(cases.map(([token]) => start(token)));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(cases[i][1]);
    });
    expect(upstream.count()).toBe(0);
  });

  it("a token revoked while the session is open is refused on its next call, scope holds, nothing reaches the upstream", async () => {
    const t = await mint("--modules", "tasks");
    const transport = new StdioClientTransport({ command: process.execPath, args: [bin, "stdio"], env: env(t.token), stderr: "pipe" });
    transport.stderr?.on("data", (c) => stderrLines.push(String(c)));
    const client = new Client({ name: "e2e-stdio", version: "1.0.0" });
    await client.connect(transport);
    try {
      const names = (await client.listTools()).tools.map((x) => x.name);
      expect(names).toContain("list_tasks");
      expect(names).not.toContain("list_roles");
      expect((await client.callTool({ name: "list_tasks", arguments: {} })).isError).toBeFalsy();
      expect(upstream.count("GET /list_tasks")).toBe(1);
      const crossScope = await client.callTool({ name: "list_roles", arguments: {} });
      expect(crossScope.structuredContent).toMatchObject({ error: { code: "forbidden", reason: "scope" } });

      await revoke(t.id);
      const refused = await client.callTool({ name: "list_tasks", arguments: {} });
      expect(refused.isError).toBe(true);
      expect(refused.structuredContent).toMatchObject({ error: { code: "unauthorized", reason: "revoked" } });
      expect(JSON.stringify(refused.content)).toMatch(/Token revoked on /);
      // tools/list is a JSON-RPC error: its message reads once, as the client prints it.
      const listError = await client.listTools().then(
        () => undefined,
        (e: unknown) => e as { code: number; message: string },
      );
      expect(listError?.code).toBe(-32001);
      expect(listError?.message).toMatch(/^MCP error -32001: Token revoked on /);
      expect(listError?.message).not.toMatch(/MCP error -32001: MCP error/);
      const badCursor = await client.listTools({ cursor: "nope" }).catch((e: unknown) => e as Error);
      expect(String((badCursor as Error).message)).not.toMatch(/MCP error -?\d+: MCP error/);
      expect(upstream.count()).toBe(1);
    } finally {
      await client.close();
    }
  });

  it("no minted token appears in the data dir or in the process's logs", () => {
    expect(minted.length).toBeGreaterThanOrEqual(3);
    expect(stderrLines.join("").length).toBeGreaterThan(0);
    const corpus = [...filesUnder(dataDir).map((f) => f.text), stderrLines.join("")];
    for (const token of minted) for (const needle of secretNeedles(token)) for (const text of corpus) expect(text.includes(needle)).toBe(false);
  });
});
