/**
 * Oracle: the requests the gateway builds are checked by Prism (mock mode), which validates each
 * request against the spec and reports violations in an `sl-violations` header.
 * Every tool of Swagger Petstore 2.0 and a fixed sample of 200+ GitHub tools are called with
 * schema-valid sample arguments; none may produce a violation.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { loadSpec } from "../../codegen/load-spec.js";
import { buildTools } from "../../codegen/operations.js";
import { DEFAULT_RULES } from "../../codegen/rules.js";
import { createArgumentValidator } from "../../src/stages/validate.js";
import { createUpstreamClient } from "../../src/upstream/upstream-client.js";
import { createLog } from "../../src/log.js";
import { sampleArgs } from "../support/sample-args.js";

const FIXTURES = new URL("../fixtures/specs/", import.meta.url);
const PRISM = new URL("../../node_modules/.bin/prism", import.meta.url).pathname;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

interface Mock {
  url: string;
  proc: ChildProcess;
}

async function startPrism(specFile: string, timeoutMs: number): Promise<Mock> {
  const port = await freePort();
  const proc = spawn(PRISM, ["mock", "-p", String(port), "-h", "127.0.0.1", specFile], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`prism did not start in ${timeoutMs} ms:\n${log.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("Prism is listening")) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.on("exit", (code) => reject(new Error(`prism exited with ${code}:\n${log.slice(-2000)}`)));
  });
  // Keep draining output so the pipe never fills.
  proc.stdout!.resume();
  proc.stderr!.resume();
  return { url: `http://127.0.0.1:${port}`, proc };
}

async function toolsOf(fixture: string): Promise<{ tools: ToolDescriptor[]; specFile: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "countersign-prism-"));
  const specFile = join(dir, fixture.replace(/\.gz$/, ""));
  writeFileSync(specFile, gunzipSync(await readFile(new URL(fixture, FIXTURES))));
  const spec = await loadSpec(specFile);
  // Prism reads Swagger 2.0 on its own terms (an operation without `consumes` accepts no body at
  // all), so it is given the converted OpenAPI 3 document that the generator worked from.
  if (spec.sourceVersion.startsWith("swagger")) writeFileSync(specFile, JSON.stringify(spec.root));
  const built = buildTools(spec, DEFAULT_RULES);
  // Prism serves every operation at its root whatever the server's base path, so the base path is dropped here.
  const tools = built.tools.map((t) => ({ ...t, binding: { ...t.binding, serverPath: "" } }));
  return { tools, specFile, dir };
}

interface Violation {
  tool: string;
  status: number;
  violations: string;
}

function requestViolations(header: string | null): string | undefined {
  if (!header) return undefined;
  const list = JSON.parse(header) as { location?: string[] }[];
  const mine = list.filter((v) => v.location?.[0] === "request");
  return mine.length ? JSON.stringify(mine) : undefined;
}

/** Calls each tool once against the mock; returns the calls Prism objected to. */
async function callAll(tools: readonly ToolDescriptor[], mockUrl: string): Promise<{ violations: Violation[]; called: number }> {
  const client = createUpstreamClient({ url: mockUrl, token: "oracle-token", timeoutMs: 30_000, maxResponseBytes: 1_048_576 } as never);
  const validator = createArgumentValidator(createLog("silent"));
  const violations: Violation[] = [];
  let called = 0;
  for (const tool of tools) {
    const args = sampleArgs(tool.inputSchema as Record<string, unknown>);
    // The sample must itself be valid, or a violation would say nothing about the gateway.
    const valid = validator.validate(tool, args);
    if (!valid.ok) throw new Error(`sample arguments for ${tool.name} are invalid: ${JSON.stringify(valid)}`);
    const built = client.buildRequest(tool, args);
    // Prism answers some operations with their documented 3xx; following it would leave the machine.
    const res = await fetch(built.url, { method: built.method, headers: built.headers, body: built.body as BodyInit | undefined, redirect: "manual" });
    const text = await res.text();
    called++;
    // Only request violations speak of the gateway; response ones are Prism's mock of GitHub's examples.
    const header = requestViolations(res.headers.get("sl-violations"));
    // Prism's own routing errors: the gateway built a path or method the spec doesn't have.
    // (A plain 404 or 405 can be the operation's documented answer, which Prism mocks.)
    const routing = /NO_PATH_MATCHED_ERROR|NO_METHOD_MATCHED_ERROR|NO_SERVER_MATCHED_ERROR/.exec(text);
    if (header || routing) {
      violations.push({ tool: tool.name, status: res.status, violations: header ?? routing![0] });
    }
  }
  return { violations, called };
}

describe("Prism oracle", () => {
  const mocks: Mock[] = [];
  const dirs: string[] = [];

  afterAll(() => {
    for (const m of mocks) m.proc.kill("SIGKILL");
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  describe("Swagger Petstore 2.0: every tool", () => {
    let tools: ToolDescriptor[] = [];
    let mock: Mock;
    beforeAll(async () => {
      const loaded = await toolsOf("awkward-swagger2-petstore.json.gz");
      dirs.push(loaded.dir);
      tools = loaded.tools;
      mock = await startPrism(loaded.specFile, 60_000);
      mocks.push(mock);
    }, 90_000);

    it("builds requests Prism accepts for all tools", async () => {
      expect(tools.length).toBeGreaterThanOrEqual(15);
      const { violations, called } = await callAll(tools, mock.url);
      expect(called).toBe(tools.length);
      expect(violations).toEqual([]);
    }, 60_000);

    it("catches a request that breaks the spec (the oracle is live)", async () => {
      const find = tools.find((t) => t.binding.path === "/pet/findByStatus")!;
      // Drop the required `status` query parameter from the binding: Prism must object.
      const broken = { ...find, binding: { ...find.binding, arguments: [] } } as ToolDescriptor;
      const { violations } = await callAll([broken], mock.url);
      expect(violations).toHaveLength(1);
      expect(violations[0]!.violations).toContain("status");
    });
  });

  describe("GitHub: a fixed sample of 200+ tools", () => {
    let sample: ToolDescriptor[] = [];
    let mock: Mock;
    beforeAll(async () => {
      const loaded = await toolsOf("stress-github-api.github.com.json.gz");
      dirs.push(loaded.dir);
      const all = [...loaded.tools].sort((a, b) => (a.name < b.name ? -1 : 1));
      // Every fifth tool by name: deterministic, spread over all modules.
      sample = all.filter((_, i) => i % 5 === 0);
      mock = await startPrism(loaded.specFile, 150_000);
      mocks.push(mock);
    }, 200_000);

    it("builds requests Prism accepts for the sample", async () => {
      expect(sample.length).toBeGreaterThanOrEqual(200);
      const { violations, called } = await callAll(sample, mock.url);
      expect(called).toBe(sample.length);
      expect(violations).toEqual([]);
    }, 180_000);
  });
});
