/**
 * `countersign <command>`: the CLI contract (DESIGN.md). Each command lives in its own file and
 * is loaded lazily so `stdio` and `serve` start without loading the generator.
 */

type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  generate: { summary: "generate tool modules from an OpenAPI spec", load: () => import("./generate.js") },
  lint: { summary: "report what agents will see of a spec and what to fix in it (Markdown, or --json)", load: () => import("./lint.js") },
  tokens: { summary: "create, list and revoke access tokens", load: () => import("./tokens.js") },
  admins: { summary: "console admins: create --name N | link [--name N] | list", load: () => import("./admins.js") },
  audit: { summary: "read the audit trail: tail [--follow] | query [--token --tool --outcome --since]", load: () => import("./audit.js") },
  serve: { summary: "serve the tools over Streamable HTTP (/mcp)", load: () => import("./serve.js") },
  stdio: { summary: "serve the tools over stdio (token from MCP_TOKEN)", load: () => import("./stdio.js") },
  demo: { summary: "start the sample upstream and the gateway with a fresh dev token (what `make run` starts)", load: () => import("./demo.js") },
  connect: { summary: "bridge stdio to a running gateway's /mcp (token from MCP_TOKEN)", load: () => import("./connect.js") },
  config: { summary: "print the configuration serve would start with here, and where each value came from", load: () => import("./config.js") },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: countersign <command> [options]    (countersign --version prints the version)\n\ncommands:\n${lines.join("\n")}\n`;
}

/** This package's version, from the package.json the running code belongs to. */
async function version(): Promise<string> {
  const { packageRoot } = await import("../config/paths.js");
  const { readFileSync } = await import("node:fs");
  const root = packageRoot();
  if (root === undefined) return "unknown";
  return (JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as { version?: string }).version ?? "unknown";
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v" || name === "version") {
    process.stdout.write(`countersign ${await version()}\n`);
    return 0;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`countersign: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}
