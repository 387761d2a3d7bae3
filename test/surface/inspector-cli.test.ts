/**
 * The real MCP Inspector lint: `mcp-inspector --cli URL --method tools/list --strict`
 * (@modelcontextprotocol/inspector 2.12.0, which needs Node >= 22.19, so it runs under `npx -p
 * node@22` like the conformance suite) against the gateway's Streamable HTTP endpoint serving
 * every tool in the `strict` profile. Exit 6 means an error-severity finding; any finding at all
 * is printed on stderr with --strict, so the test also requires stderr to carry none.
 * The default profile is linted too, to show the lint does find something there.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createLog } from "../../src/log.js";
import { createRegistry } from "../../src/registry.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { toolsOf } from "./apis.js";

const INSPECTOR = "@modelcontextprotocol/inspector@2.12.0";
const TOKEN = mintToken();

type Run = { code: number | null; stdout: string; stderr: string };

function inspector(url: string, strict: boolean): Promise<Run> {
  const args = ["-y", "-p", "node@22", "-p", INSPECTOR, "--", "mcp-inspector", "--cli", url, "--transport", "http", "--header", `Authorization: Bearer ${TOKEN}`, "--method", "tools/list", ...(strict ? ["--strict"] : [])];
  return new Promise((resolve) => {
    const child = spawn("npx", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr: stderr.split("\n").filter((l) => l && !/^npm (warn|notice)|EBADENGINE|^\s*(package|required|current):|^}$/.test(l)).join("\n") }));
  });
}

const servers: { gateway: Gateway; http: HttpHandle }[] = [];

async function serve(tools: readonly ToolDescriptor[]): Promise<string> {
  const tokens = createMemoryTokenStore();
  await tokens.create({ id: "tok_lint", hash: hashToken(TOKEN), name: "lint", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() });
  // One page holds every tool, so the Inspector lints the whole list.
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: mkdtempSync(join(tmpdir(), "cs-lint-")), COUNTERSIGN_PAGE_SIZE: "5000", LOG_LEVEL: "silent" } });
  const gateway = await createGateway(config, { registry: createRegistry(tools), tokens, log: createLog("silent") });
  const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  servers.push({ gateway, http });
  return http.url;
}

let urls: Record<"workspace" | "github", string>;
beforeAll(async () => {
  urls = { workspace: await serve(await toolsOf("workspace")), github: await serve(await toolsOf("github")) };
}, 120_000);

afterAll(async () => {
  for (const s of servers) {
    await s.http.close();
    await s.gateway.close();
  }
});

describe("mcp-inspector --cli --strict", () => {
  it("passes every tool of the bundled spec and GitHub in the strict profile, and flags the default profile", async () => {
    const [workspace, github, githubDefault] = await Promise.all([
      inspector(`${urls.workspace}?mode=all&profile=strict`, true),
      inspector(`${urls.github}?mode=all&profile=strict`, true),
      inspector(`${urls.github}?mode=all&profile=default`, false),
    ]);
    if (githubDefault.code !== 0 && /npm error|ENOTFOUND|EAI_AGAIN/.test(githubDefault.stderr)) {
      throw new Error(`could not start ${INSPECTOR} under node@22 via npx (needs the npm registry once):\n${githubDefault.stderr}`);
    }
    for (const [name, run, count] of [["workspace", workspace, 303], ["github", github, 1192]] as const) {
      expect(run.code, `${name}: ${run.stderr}`).toBe(0);
      expect(run.stderr, name).toBe("");
      const listed = JSON.parse(run.stdout) as { tools: unknown[]; nextCursor?: string };
      expect(listed.nextCursor).toBeUndefined();
      expect(listed.tools.length).toBeGreaterThanOrEqual(count - 10);
    }
    console.log(`inspector on GitHub, default profile: ${githubDefault.stderr.trim()}`);
    expect(githubDefault.stderr).toMatch(/Schema portability: 0 errors, [1-9]\d* warnings/);
  }, 180_000);
});

describe("the Inspector command in docs/http.md", () => {
  it("is the one this test runs, and lists the tools when pointed at a gateway", async () => {
    const readme = readFileSync(new URL("../../docs/http.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("**The MCP Inspector.**"));
    const block = /```sh\n([^]*?)```/.exec(section)![1]!;
    const first = block.split("\n").reduce<string[]>((cmds, line) => {
      if (cmds.length > 0 && cmds[cmds.length - 1]!.endsWith("\\")) cmds[cmds.length - 1] = `${cmds[cmds.length - 1]!.slice(0, -1)} ${line.trim()}`;
      else if (line.trim()) cmds.push(line.trim());
      return cmds;
    }, [])[0]!;
    expect(first).toMatch(/^npx -y -p node@22 -p @modelcontextprotocol\/inspector -- mcp-inspector --cli /);
    // Split as a shell would (double quotes only), then point it at this gateway with this token.
    const words = [...first.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    const args = words.slice(1).map((w) => w.replace("http://127.0.0.1:8787/mcp", `${urls.workspace}?mode=all`).replace("csk_…", TOKEN).replace(/^@modelcontextprotocol\/inspector$/, INSPECTOR));
    const run = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn("npx", args, { stdio: ["ignore", "pipe", "ignore"] });
      let stdout = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.on("close", (code) => resolve({ code, stdout }));
    });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain("list_projects");
  }, 180_000);
});
