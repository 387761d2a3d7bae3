/**
 * The package as an API team gets it: `npm pack` of this checkout, installed from the tarball
 * into an empty folder (from the npm cache, no registry needed when it is warm), with no
 * repository around it. There the installed `countersign` prints its version, generates tools
 * from the team's own spec, checks them for drift, mints a token and serves them: tools/list
 * over HTTP and over stdio answers the team's tools. The demo runs there too, and a stdio client
 * reaches it through `countersign connect`.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** A team's own small API, nothing to do with the bundled one. */
const TEAM_SPEC = `openapi: 3.0.3
info: { title: Shelf, version: 1.0.0 }
servers: [{ url: "http://127.0.0.1:9/api" }]
tags:
  - { name: books, description: The books on the shelf }
paths:
  /books:
    get:
      operationId: listBooks
      tags: [books]
      summary: List the books
      parameters:
        - { name: author, in: query, schema: { type: string } }
      responses: { "200": { description: The books } }
    post:
      operationId: addBook
      tags: [books]
      summary: Add a book
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [title]
              properties: { title: { type: string }, author: { type: string } }
      responses: { "201": { description: Added } }
  /books/{bookId}:
    get:
      operationId: getBook
      tags: [books]
      summary: Get one book
      parameters:
        - { name: bookId, in: path, required: true, schema: { type: string } }
      responses: { "200": { description: The book } }
`;

/** The environment without any countersign variable, so the installed copy sees only what a team sets. */
function teamEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(COUNTERSIGN_|MCP_TOKEN$|PORT$|HOST$|LOG_LEVEL$|REDIS_URL$|npm_)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

let team: string;
let bin: string;
let env: Record<string, string>;
let tarball: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  team = mkdtempSync(join(tmpdir(), "cs-team-"));
  env = teamEnv({ COUNTERSIGN_DATA_DIR: join(team, ".countersign"), COUNTERSIGN_HEAP_TUNING: "off" });
  const packed = execFileSync("npm", ["pack", "--json", "--pack-destination", team], { cwd: ROOT, env: teamEnv(), encoding: "utf8" });
  tarball = join(team, (JSON.parse(packed) as { filename: string }[])[0]!.filename);
  writeFileSync(join(team, "package.json"), `${JSON.stringify({ name: "shelf-api", version: "1.0.0", private: true }, null, 2)}\n`);
  writeFileSync(join(team, "openapi.yaml"), TEAM_SPEC);
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--save-dev", tarball], { cwd: team, env: teamEnv(), stdio: "ignore" });
  bin = join(team, "node_modules", ".bin", "countersign");
}, 600_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  rmSync(team, { recursive: true, force: true });
});

/** Runs the installed CLI in the team's folder (no repository above it). */
function cli(args: string[], extra: Record<string, string> = {}) {
  return spawnSync(bin, args, { cwd: team, env: { ...env, ...extra }, encoding: "utf8", timeout: 120_000 });
}

describe("the installed package", () => {
  it("holds the built runtime and nothing of the repository's tests or sources", () => {
    const listed = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(listed).toContain("package/bin/countersign.js");
    expect(listed).toContain("package/dist/src/cli/main.js");
    expect(listed).toContain("package/dist/bundle/serve.js");
    expect(listed).toContain("package/codegen/descriptor.ts");
    expect(listed.filter((f) => f.startsWith("package/test/") || f.startsWith("package/src/") || f.startsWith("package/bench/"))).toEqual([]);
    expect(listed.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.startsWith("package/generated/") && f !== "package/codegen/descriptor.ts")).toEqual([]);
    // The runtime imports no dev dependency (those are never installed beside it).
    const devOnly = Object.keys(manifest.devDependencies).filter((d) => !(d in manifest.dependencies));
    const imported = new Set<string>();
    for (const file of readdirSync(join(team, "node_modules", "countersign", "dist"), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".js")) continue;
      const text = readFileSync(join(team, "node_modules", "countersign", "dist", file), "utf8");
      for (const m of text.matchAll(/(?:from\s*|import\(\s*|require\(\s*)["']((?:@[^/"']+\/)?[^./"'][^/"']*)/g)) imported.add(m[1]!);
    }
    expect(imported.has("@modelcontextprotocol/server")).toBe(true);
    expect(devOnly.filter((d) => imported.has(d))).toEqual([]);
  });

  it("prints its version and its commands' help with no repository around it", () => {
    const v = cli(["--version"]);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(`countersign ${manifest.version}`);
    for (const command of ["generate", "serve", "stdio", "demo", "tokens", "connect", "lint"]) {
      const r = cli([command, "--help"]);
      expect(r.status, `${command} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout, command).toMatch(/usage:/);
    }
  });

  it("generates the team's tools into its own folder, and --check finds no drift", () => {
    const g = cli(["generate", "--spec", "openapi.yaml", "--out", "generated/shelf"]);
    expect(g.status, g.stderr).toBe(0);
    expect(existsSync(join(team, "generated", "shelf", "manifest.json"))).toBe(true);
    expect(existsSync(join(team, "node_modules", "countersign", "generated", "shelf"))).toBe(false);
    const check = cli(["generate", "--spec", "openapi.yaml", "--out", "generated/shelf", "--check"]);
    expect(check.status, check.stderr + check.stdout).toBe(0);
    // An edited spec is drift: the CI step fails.
    writeFileSync(join(team, "openapi-edited.yaml"), TEAM_SPEC.replace("summary: Add a book", "summary: Shelve a new book"));
    const drift = cli(["generate", "--spec", "openapi-edited.yaml", "--out", "generated/shelf", "--check"]);
    expect(drift.status).toBe(1);
  });

  it("serves them: tools/list over HTTP and over stdio answers the team's tools", async () => {
    expect(existsSync(join(team, "generated", "shelf", "manifest.json"))).toBe(true);
    const created = cli(["tokens", "create", "--name", "ci", "--json"]);
    expect(created.status, created.stderr).toBe(0);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    expect(token).toMatch(/^csk_/);

    const serve = spawn(bin, ["serve", "--generated", "generated/shelf", "--port", "0"], { cwd: team, env, stdio: ["ignore", "ignore", "pipe"] });
    children.push(serve);
    let err = "";
    const url = await new Promise<string>((resolve, reject) => {
      serve.stderr.on("data", (c) => {
        err += String(c);
        const m = /listening on (\S+)\n[^]*data dir /.exec(err);
        if (m) resolve(m[1]!);
      });
      serve.once("exit", (code) => reject(new Error(`serve exited with ${code}:\n${err}`)));
    });
    // Its data dir is the one the team set, not a folder inside node_modules.
    expect(err).toContain(`data dir ${join(team, ".countersign")}`);
    const http = new Client({ name: "package-test", version: "1" });
    await http.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const overHttp = (await http.listTools()).tools.map((t) => t.name).sort();
    await http.close();
    expect(overHttp).toEqual(expect.arrayContaining(["add_book", "get_book", "list_books"]));
    // Beside the team's tools only the gateway's own (confirm_action, …), none of the bundled API's.
    expect(overHttp.filter((n) => /task|project|sprint/.test(n))).toEqual([]);

    const stdio = new Client({ name: "package-test", version: "1" });
    await stdio.connect(new StdioClientTransport({ command: bin, args: ["stdio", "--generated", "generated/shelf"], cwd: team, env: { ...env, MCP_TOKEN: token }, stderr: "ignore" }));
    const overStdio = (await stdio.listTools()).tools.map((t) => t.name).sort();
    await stdio.close();
    expect(overStdio).toEqual(overHttp);
  }, 120_000);

  it("runs the demo (sample upstream, bundled spec) and a stdio client reaches it through connect", async () => {
    const demo = spawn(bin, ["demo", "--port", "0", "--upstream-port", "0"], { cwd: team, env, stdio: ["ignore", "pipe", "pipe"] });
    children.push(demo);
    let out = "";
    let err = "";
    demo.stderr.on("data", (c) => (err += String(c)));
    await new Promise<void>((resolve, reject) => {
      demo.stdout.on("data", (c) => {
        out += String(c);
        if (out.includes("Press Ctrl-C to stop.")) resolve();
      });
      demo.once("exit", (code) => reject(new Error(`demo exited with ${code}:\n${out}\n${err}`)));
    });
    const mcpUrl = /gateway \(Streamable HTTP\)\s+(\S+)/.exec(out)![1]!;
    const token = /^\s+(csk_\S+)$/m.exec(out)![1]!;
    // The set-ups it prints point at the installed package, not at a checkout.
    expect(out).toContain(join(team, "node_modules", "countersign", "bin", "countersign.js"));
    const client = new Client({ name: "package-test", version: "1" });
    await client.connect(new StdioClientTransport({ command: bin, args: ["connect", mcpUrl], cwd: team, env: { ...env, MCP_TOKEN: token }, stderr: "ignore" }));
    try {
      const found = await client.callTool({ name: "search_tools", arguments: { query: "list my projects" } });
      expect(JSON.stringify(found.structuredContent)).toContain("list_projects");
      const projects = await client.callTool({ name: "call_tool", arguments: { name: "list_projects", arguments: {} } });
      expect(projects.isError, JSON.stringify(projects.content)).toBeFalsy();
    } finally {
      await client.close();
    }
    const exited = new Promise<number | null>((r) => demo.once("exit", (code) => r(code)));
    demo.kill("SIGINT");
    expect(await exited).toBe(0);
  }, 120_000);
});
