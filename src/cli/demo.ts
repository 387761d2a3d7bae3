/**
 * `countersign demo` (what `make run` starts): the sample upstream serving the bundled workspace
 * spec, the gateway over HTTP on 127.0.0.1 with the embedded stores, and a fresh dev token,
 * printed once with ready-to-paste set-ups for Claude Desktop, mcp-remote and hosted agents.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createGateway, type Gateway } from "../app.js";
import { loadConfig, type Config } from "../config.js";
import { defaultPaths } from "../config/paths.js";
import { writeFileAtomic } from "../../examples/upstream/store.js";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { startHttpServer, type HttpHandle } from "../transports/http/index.js";
import { AUTO_TOOL_LIMIT, isDiscoveryTool, visibleForSession } from "../surface/exposure.js";
import type { TokenStore } from "../stores/tokens.js";
import { issueToken } from "../tokens/issue.js";
import { configFlagHelp, configFlags, configOptions, configUsage } from "./flags.js";
import { listenFailure } from "./listen-error.js";

/** A demo token's lifetime. */
export const DEMO_TOKEN_DAYS = 7;
/** The name of the token the demo mints. */
export const DEMO_TOKEN_NAME = "demo";

const USAGE = `usage: countersign demo ${configUsage("demo")} [--upstream-port N] [--spec FILE]

Starts the sample upstream and the gateway (Streamable HTTP) with a dev token, as \`make run\` does.
The dev token is named \`demo\` and expires after ${DEMO_TOKEN_DAYS} days; starting the demo again revokes the
previous one. Logs at \`warn\` unless told otherwise.

${configFlagHelp("demo", [
  ["--upstream-port N", "the sample upstream's port (default 4010; a taken one falls back to any free port)"],
  ["--spec FILE", "the spec the sample upstream serves (default openapi/workspace.yaml)"],
])}`;

/** Demo tokens of earlier runs: named `demo`, or `demo YYYY-MM-DD HH:MM` before tokens were named so. */
function isDemoToken(name: string): boolean {
  return name === DEMO_TOKEN_NAME || /^demo \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(name);
}

/** Revokes the tokens of earlier demo runs and mints a fresh one that expires; returns it and how many were revoked. */
export async function mintDemoToken(store: TokenStore, now: Date): Promise<{ token: string; expiresAt: Date; revoked: number }> {
  let revoked = 0;
  for (const r of await store.list()) {
    if (!r.revokedAt && isDemoToken(r.name)) {
      await store.revoke(r.id, now);
      revoked++;
    }
  }
  const expiresAt = new Date(now.getTime() + DEMO_TOKEN_DAYS * 86_400_000);
  const { token } = await issueToken(store, { name: DEMO_TOKEN_NAME, modules: "all", readOnly: false, tier: "default", expiresAt, now });
  return { token, expiresAt, revoked };
}

/** What a client connecting with the demo token is shown, and how to be shown more or less. */
export interface SurfaceSummary {
  readonly total: number;
  readonly mode: string;
  readonly listed: number;
  readonly modules: readonly string[];
}

function surfaceSummary(gateway: Gateway, config: Config): SurfaceSummary {
  const tools = gateway.registry.tools;
  const vis = visibleForSession({ tools, principalScope: "all", mode: config.surface.mode, modulesParam: config.surface.modules });
  const shown = new Set(vis.metaTools as readonly string[]);
  const meta = gateway.metaTools.filter((t) => !isDiscoveryTool(t.name) || shown.has(t.name)).length;
  return { total: tools.length, mode: vis.mode, listed: vis.tools.length + meta, modules: [...new Set(tools.map((t) => t.module))] };
}

function surfaceText(mcpUrl: string, s: SurfaceSummary): string[] {
  const example = s.modules.slice(0, 2).join(",") || "a,b";
  const why =
    s.mode === "dynamic" && s.total > AUTO_TOOL_LIMIT
      ? `the API has ${s.total} tools, over the ${AUTO_TOOL_LIMIT} many clients accept, so a client sees ${s.listed} tools (dynamic mode):\n` +
        "  the discovery tools (list_modules, search_tools, describe_tool, call_tool, enable_modules), run_code and the confirm/activity tools;\n" +
        "  the agent finds and calls the others through them."
      : `a client sees ${s.listed} tools (${s.mode} mode, ${s.total} generated).`;
  return [
    `What a client sees: ${why}`,
    `  every tool:        ${mcpUrl}?mode=all          (stdio: COUNTERSIGN_MODE=all)`,
    `  some modules:      ${mcpUrl}?modules=${example}   (stdio: COUNTERSIGN_MODULES=${example})`,
    `  one script:        ${mcpUrl}?mode=code         (stdio: COUNTERSIGN_MODE=code)`,
    `  modules: ${s.modules.join(", ")}`,
  ];
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
export function setupText(p: {
  mcpUrl: string;
  token: string;
  upstreamUrl: string;
  upstreamToken: string;
  dataDir: string;
  generatedDir: string;
  root: string;
  expiresAt?: Date;
  revoked?: number;
  surface?: SurfaceSummary;
  consoleLink?: string;
}): string {
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
    `  data dir                   ${p.dataDir}   (tokens, pending actions, audit trail)`,
    "",
    "Your dev token (shown once; it is stored hashed in the data dir):",
    "",
    `  ${p.token}`,
    "",
    ...(p.expiresAt
      ? [
          `It is named '${DEMO_TOKEN_NAME}', sees every module, and expires ${p.expiresAt.toISOString().slice(0, 16).replace("T", " ")} UTC (in ${DEMO_TOKEN_DAYS} days).` +
            (p.revoked ? ` The previous demo token${p.revoked > 1 ? `s (${p.revoked})` : ""} no longer work${p.revoked > 1 ? "" : "s"}.` : ""),
          "",
        ]
      : []),
    ...(p.surface ? [...surfaceText(p.mcpUrl, p.surface), ""] : []),
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
    "  # it answers as text/event-stream (one 'data: {…}' line); later requests of the session are plain JSON.",
    "  # then send the Mcp-Session-Id header from that answer with every later request (tools/list, tools/call).",
    "",
    "  // TypeScript, @modelcontextprotocol/client (2.x; the 1.x @modelcontextprotocol/sdk Client works the same way)",
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
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { ...configOptions("demo"), "upstream-port": { type: "string", default: "4010" }, spec: { type: "string" } },
    }));
  } catch (err) {
    process.stderr.write(`countersign demo: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const root = defaultPaths().root;
  const upstreamPort = Number(values["upstream-port"]);
  if (!Number.isInteger(upstreamPort) || upstreamPort < 0 || upstreamPort > 65535) {
    process.stderr.write(`countersign demo: --upstream-port must be an integer 0-65535 (got '${values["upstream-port"]}')\n`);
    return 2;
  }
  const spec = resolve(typeof values.spec === "string" ? values.spec : join(root, "openapi", "workspace.yaml"));
  if (!existsSync(spec)) {
    process.stderr.write(`countersign demo: spec ${spec} not found (pass --spec FILE)\n`);
    return 2;
  }
  const { "upstream-port": _port, spec: _spec, ...flags } = configFlags(values);

  let upstream: RunningUpstream | undefined;
  let gateway: Gateway | undefined;
  let http: HttpHandle | undefined;
  try {
    // The data dir and the rest of the config resolve as for `serve`; the demo fills in the upstream and logs at warn.
    const defaults = { logLevel: "warn" };
    const base = loadConfig(flags, process.env, { defaults });
    const upstreamDir = join(base.dataDir, "upstream");
    const upToken = upstreamToken(upstreamDir);
    upstream = await startUpstreamOn({ spec, port: upstreamPort, host: base.http.host, dataDir: upstreamDir, token: upToken });
    if (!existsSync(join(base.generatedDir, "manifest.json"))) {
      process.stderr.write(`countersign demo: ${base.generatedDir} has no generated tools yet; generating them from ${spec}\n`);
      const generate = await import("./generate.js");
      const code = await generate.run(["--spec", spec, "--out", base.generatedDir]);
      if (code !== 0) throw new Error(`generation failed (exit ${code}); run 'countersign generate' to see why`);
    }
    const config = loadConfig({ ...flags, upstream: upstream.url }, { ...process.env, COUNTERSIGN_UPSTREAM_TOKEN: upToken }, { defaults, warn: () => undefined });
    gateway = await createGateway(config);
    try {
      http = await startHttpServer(gateway, { port: config.http.port, host: config.http.host });
    } catch (err) {
      throw new Error(listenFailure(err, config.http));
    }
    const minted = await mintDemoToken(gateway.deps.tokens, new Date());
    // console: a one-time sign-in link for the first admin (created here on a fresh data dir).
    const consoleLink = config.console.enabled ? await demoSignInLink(config.dataDir, http.url.replace(/\/mcp$/, "")) : undefined;
    process.stdout.write(
      setupText({
        mcpUrl: http.url,
        token: minted.token,
        upstreamUrl: upstream.url,
        upstreamToken: upToken,
        dataDir: config.dataDir,
        generatedDir: config.generatedDir,
        root,
        expiresAt: minted.expiresAt,
        revoked: minted.revoked,
        surface: surfaceSummary(gateway, config),
        consoleLink,
      }),
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
