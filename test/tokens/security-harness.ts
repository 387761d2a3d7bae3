/** Shared pieces of the security end-to-end tests: tools, a counting upstream, the tokens CLI. */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { run as tokensCli } from "../../src/cli/tokens.js";
import { tool } from "./fixtures.js";

/** Two modules in scope of different tokens, a sensitive write, a spec exclusion and a config one. */
export const SECURITY_TOOLS: ToolDescriptor[] = [
  tool("list_tasks", { module: "tasks" }),
  tool("create_task", { module: "tasks", write: true }),
  tool("export_tasks", { module: "tasks" }), // excluded by the config (COUNTERSIGN_EXCLUDE_TOOLS), not by the spec
  tool("list_roles", { module: "admin" }),
  tool("assign_role", { module: "admin", write: true, sensitive: true }),
  tool("get_invoice", { module: "billing", excluded: "billing and payments are never exposed" }),
  // Authenticated with a bearer token upstream: the service credential, or the token's own.
  withBearerSecurity(tool("whoami", { module: "tasks" })),
];

function withBearerSecurity(t: ToolDescriptor): ToolDescriptor {
  return { ...t, binding: { ...t.binding, security: [[{ name: "bearer", type: "http", scheme: "bearer", scopes: [] }]] } };
}

/** A local upstream that counts every request it receives, by "METHOD /path". */
export interface CountingUpstream {
  readonly url: string;
  count(key?: string): number;
  /** The Authorization header of each request to `path`, in order. */
  authorizations(path: string): (string | undefined)[];
  close(): Promise<void>;
}

/** Starts the counting upstream on 127.0.0.1. */
export function startCountingUpstream(): Promise<CountingUpstream> {
  const counts = new Map<string, number>();
  const auth = new Map<string, (string | undefined)[]>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const key = `${req.method} ${path}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      auth.set(path, [...(auth.get(path) ?? []), req.headers.authorization]);
      res.writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, id: 1 }));
    });
  });
  return new Promise((done) =>
    server.listen(0, "127.0.0.1", () =>
      done({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        count: (key) => (key ? (counts.get(key) ?? 0) : [...counts.values()].reduce((a, b) => a + b, 0)),
        authorizations: (path) => auth.get(path) ?? [],
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

/** Writes a generated-API folder that `loadRegistry` reads (the generator's layout). */
export { writeGenerated } from "../support/generated.js";

/** The real `countersign tokens` command on one data dir; remembers every secret it minted. */
export function tokensOn(dataDir: string, generatedDir: string, extraEnv: Record<string, string> = {}) {
  const minted: string[] = [];
  async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await tokensCli(argv, {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_GENERATED_DIR: generatedDir, ...extraEnv },
      now: () => new Date(),
    });
    return { code, stdout, stderr };
  }
  async function mint(...flags: string[]): Promise<{ id: string; token: string }> {
    const r = await cli("create", "--name", `e2e-${minted.length}`, ...flags, "--json");
    if (r.code !== 0) throw new Error(`tokens create failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { id: string; token: string };
    minted.push(out.token);
    return out;
  }
  async function revoke(id: string): Promise<void> {
    const r = await cli("revoke", id);
    if (r.code !== 0) throw new Error(`tokens revoke failed: ${r.stderr}`);
  }
  return { cli, mint, revoke, minted };
}

/** Every text file under `dir`. */
export function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [{ path: p, text: readFileSync(p, "utf8") }];
  });
}

/** The secret itself, and its random part alone (in case a prefix was stripped before writing). */
export function secretNeedles(token: string): string[] {
  return [token, token.slice(4, 34)];
}
