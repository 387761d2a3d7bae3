/**
 * `countersign demo` (what `make run` starts): the sample upstream serving the bundled workspace
 * spec, the gateway over HTTP on 127.0.0.1 with the embedded stores, and a fresh dev token,
 * printed once with ready-to-paste set-ups for Claude Desktop, mcp-remote and hosted agents.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createGateway, type Gateway } from "../app.js";
import { loadConfig } from "../config.js";
import { writeFileAtomic } from "../../examples/upstream/store.js";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { startHttpServer, type HttpHandle } from "../transports/http.js";
import { hashToken, mintToken } from "../tokens/format.js";

const USAGE = "usage: countersign demo [--port N (8787)] [--upstream-port N (4010)] [--host H] [--spec FILE] [--data-dir DIR] [--generated DIR] [--log-level L]\n";

/** The repository root (bin/countersign.js lives there), from dist/src/cli/demo.js or src/cli/demo.ts. */
function repoRoot(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  for (const up of ["../../..", "../.."]) {
    const dir = resolve(here, up);
    if (existsSync(join(dir, "bin", "countersign.js"))) return dir;
  }
  return process.cwd();
}

/** Reads the upstream's bearer token from the data dir, creating it on first start. */
function upstreamToken(dir: string): string {
  const file = join(dir, "token");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const token = `ups_${randomBytes(24).toString("base64url")}`;
  writeFileAtomic(file, token);
  return token;
}

async function startUpstreamOn(options: Parameters<typeof startUpstream>[0]): Promise<RunningUpstream> {
  try {
    return await startUpstream(options);
  } catch (err) {
    // The default port may be taken (a previous demo, another service): any free port will do.
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    return startUpstream({ ...options, port: 0 });
  }
}

/** Everything `demo` prints after start-up. */
export function setupText(p: { mcpUrl: string; token: string; upstreamUrl: string; upstreamToken: string; dataDir: string; generatedDir: string; root: string; consoleLink?: string }): string {
  const bin = join(p.root, "bin", "countersign.js");
  const desktop = {
    mcpServers: {
      countersign: {
        command: "node",
        args: [bin, "stdio"],
        env: {
          MCP_TOKEN: p.token,
          COUNTERSIGN_UPSTREAM_URL: p.upstreamUrl,
          COUNTERSIGN_UPSTREAM_TOKEN: p.upstreamToken,
          COUNTERSIGN_DATA_DIR: p.dataDir,
          COUNTERSIGN_GENERATED_DIR: p.generatedDir,
        },
      },
    },
  };
  const remote = {
    mcpServers: {
      countersign: { command: "npx", args: ["-y", "mcp-remote", p.mcpUrl, "--header", "Authorization:${AUTH_HEADER}"], env: { AUTH_HEADER: `Bearer ${p.token}` } },
    },
  };
  const init = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "curl", version: "1" } } });
  return [
    "",
    "Countersign demo is running.",
    "",
    `  gateway (Streamable HTTP)  ${p.mcpUrl}`,
    `  sample upstream            ${p.upstreamUrl}/v1   (data in ${join(p.dataDir, "upstream")})`,
    "",
    "Your dev token (shown once; it is stored hashed in the data dir):",
    "",
    `  ${p.token}`,
    "",
    ...(p.consoleLink ? ["The console (tokens, activity, analytics): a one-time sign-in link, valid 10 minutes", "(another one: countersign admins link):", "", `  ${p.consoleLink}`, ""] : []),
    "── Claude Desktop: add to claude_desktop_config.json (runs the gateway over stdio) ──",
    JSON.stringify(desktop, null, 2),
    "",
    "── Clients that only speak stdio, through this running gateway (mcp-remote) ──",
    JSON.stringify(remote, null, 2),
    `  or from a shell:  npx -y mcp-remote ${p.mcpUrl} --header "Authorization:Bearer ${p.token}"`,
    `  or without npx:   MCP_TOKEN=${p.token} node ${bin} connect ${p.mcpUrl}`,
    "",
    "── Hosted agents: Streamable HTTP with a bearer token ──",
    `  curl -sS -D - ${p.mcpUrl} \\`,
    `    -H 'Authorization: Bearer ${p.token}' \\`,
    "    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\",
    `    -d '${init}'`,
    "  # then send the Mcp-Session-Id header from that answer with every later request (tools/list, tools/call).",
    "",
    "  // TypeScript, @modelcontextprotocol/sdk",
    `  const transport = new StreamableHTTPClientTransport(new URL("${p.mcpUrl}"), {`,
    `    requestInit: { headers: { Authorization: "Bearer ${p.token}" } },`,
    "  });",
    '  const client = new Client({ name: "my-agent", version: "1.0.0" });',
    "  await client.connect(transport);",
    "  console.log((await client.listTools()).tools.length);",
    "",
    "Writes come back as pending actions: call confirm_action with its confirm_token to run them, or cancel_action to drop them.",
    "Press Ctrl-C to stop.",
    "",
  ].join("\n");
}

/** A one-time console sign-in link; the data dir's first admin is created when there is none. */
async function demoSignInLink(dataDir: string, base: string): Promise<string> {
  const { createAdminFileStore } = await import("../console/admins.js");
  const { signInUrl } = await import("./admins.js");
  const admins = createAdminFileStore({ dir: dataDir });
  const existing = await admins.list();
  if (existing.length === 0) await admins.create("admin");
  const { secret } = await admins.createLink(existing.length > 1 ? existing[0]!.name : undefined);
  return signInUrl(base, secret);
}

/** Starts the demo and runs until SIGINT/SIGTERM. */
export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        port: { type: "string" },
        "upstream-port": { type: "string", default: "4010" },
        host: { type: "string", default: "127.0.0.1" },
        spec: { type: "string" },
        "data-dir": { type: "string" },
        generated: { type: "string" },
        "log-level": { type: "string", default: "warn" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`countersign demo: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const root = repoRoot();
  const upstreamPort = Number(values["upstream-port"]);
  if (!Number.isInteger(upstreamPort) || upstreamPort < 0 || upstreamPort > 65535) {
    process.stderr.write(`countersign demo: --upstream-port must be an integer 0-65535 (got '${values["upstream-port"]}')\n`);
    return 2;
  }
  const spec = resolve(values.spec ?? join(root, "openapi", "workspace.yaml"));
  if (!existsSync(spec)) {
    process.stderr.write(`countersign demo: spec ${spec} not found (pass --spec FILE)\n`);
    return 2;
  }

  let upstream: RunningUpstream | undefined;
  let gateway: Gateway | undefined;
  let http: HttpHandle | undefined;
  try {
    // The data dir and the rest of the config resolve as for `serve`; the demo only fills in the upstream.
    const base = loadConfig({ "data-dir": values["data-dir"], generated: values.generated, "log-level": values["log-level"] });
    const upstreamDir = join(base.dataDir, "upstream");
    const upToken = upstreamToken(upstreamDir);
    upstream = await startUpstreamOn({ spec, port: upstreamPort, host: values.host, dataDir: upstreamDir, token: upToken });
    if (!existsSync(join(base.generatedDir, "manifest.json"))) {
      process.stderr.write(`countersign demo: ${base.generatedDir} has no generated tools yet; generating them from ${spec}\n`);
      const generate = await import("./generate.js");
      const code = await generate.run(["--spec", spec, "--out", base.generatedDir]);
      if (code !== 0) throw new Error(`generation failed (exit ${code}); run 'countersign generate' to see why`);
    }
    const config = loadConfig(
      { "data-dir": values["data-dir"], generated: values.generated, "log-level": values["log-level"], upstream: upstream.url, port: values.port, host: values.host },
      { ...process.env, COUNTERSIGN_UPSTREAM_TOKEN: upToken },
    );
    gateway = await createGateway(config);
    http = await startHttpServer(gateway, { port: config.http.port, host: config.http.host });
    const token = mintToken();
    const now = new Date();
    await gateway.deps.tokens.create({
      id: `tok_${randomBytes(9).toString("base64url").replace(/[-_]/g, "x")}`,
      hash: hashToken(token),
      name: `demo ${now.toISOString().slice(0, 16).replace("T", " ")}`,
      modules: "all",
      readOnly: false,
      tier: "default",
      createdAt: now.toISOString(),
    });
    // console: a one-time sign-in link for the first admin (created here on a fresh data dir).
    const consoleLink = config.console.enabled ? await demoSignInLink(config.dataDir, http.url.replace(/\/mcp$/, "")) : undefined;
    process.stdout.write(
      setupText({ mcpUrl: http.url, token, upstreamUrl: upstream.url, upstreamToken: upToken, dataDir: config.dataDir, generatedDir: config.generatedDir, root, consoleLink }),
    );
  } catch (err) {
    process.stderr.write(`countersign demo: ${err instanceof Error ? err.message : String(err)}\n`);
    await http?.close().catch(() => undefined);
    await gateway?.close().catch(() => undefined);
    await upstream?.close().catch(() => undefined);
    return 1;
  }
  await new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
  process.stderr.write("countersign demo: stopping\n");
  await http.close().catch(() => undefined);
  await gateway.close().catch(() => undefined);
  await upstream.close().catch(() => undefined);
  return 0;
}
