/**
 * `countersign stdio`: serves the generated tools over stdio, authenticated by MCP_TOKEN.
 */
import { parseArgs } from "node:util";
import { createGateway } from "../app.js";
import { agentToken, loadConfig } from "../config.js";
import { tuneHeap, type HeapTuning } from "./heap.js";
import { operatorMessage, publicMessage, toGatewayError } from "../errors.js";
import { startStdio } from "../transports/stdio.js";
import { configFlagHelp, configFlags, configOptions, configUsage } from "./flags.js";

const USAGE = `usage: countersign stdio ${configUsage("stdio")}

Serves the generated tools over stdin/stdout to one client (Claude Desktop and other local
clients start it as a subprocess). The token comes from MCP_TOKEN (or COUNTERSIGN_MCP_TOKEN);
logs go to stderr. Flags win over the environment, the environment over the config file
(docs/configuration.md lists every setting):

${configFlagHelp("stdio")}`;

/** Runs the stdio server until the client closes stdin; exit code 2 for a missing or refused token. */
export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: configOptions("stdio"), strict: true }));
  } catch (err) {
    process.stderr.write(`countersign stdio: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const token = agentToken();
  if (!token) {
    process.stderr.write("countersign stdio: MCP_TOKEN is not set; mint one with 'countersign tokens create --name NAME' and pass it in the environment\n");
    return 2;
  }
  let gateway;
  let heap: HeapTuning;
  try {
    // Before the tools are loaded: V8's heap sizing for a long-running process (src/cli/heap.ts).
    heap = tuneHeap();
    gateway = await createGateway(loadConfig(configFlags(values)));
  } catch (err) {
    process.stderr.write(`countersign stdio: ${operatorMessage(err)}\n`);
    return 1;
  }
  const { config } = gateway.deps;
  let principal;
  try {
    principal = await gateway.admit({ transport: "stdio", credential: token, request: "stdio start-up" });
  } catch (err) {
    // The data dir is the usual culprit: a token minted into another one is unknown here.
    const where = config.redis.url ? "Redis" : `the data dir ${config.dataDir}`;
    process.stderr.write(`countersign stdio: MCP_TOKEN refused: ${publicMessage(toGatewayError(err))} (tokens read from ${where})\n`);
    await gateway.close();
    return 2;
  }
  const handle = await startStdio(gateway, { credential: token, principal, params: {} }); // surface: mode/modules/profile come from config.surface (flags, then COUNTERSIGN_MODE / COUNTERSIGN_MODULES / COUNTERSIGN_SCHEMA_PROFILE)
  gateway.onToolsChanged(() => void handle.notifyToolsChanged().catch(() => undefined));
  gateway.deps.log.info({ tools: gateway.registry.tools.length, subject: principal.subject, dataDir: config.dataDir, heap }, "stdio session ready");
  // stdout is the protocol: the start-up line goes to stderr.
  process.stderr.write(`countersign stdio: ready (${gateway.registry.tools.length} tools, data dir ${config.redis.url ? `${config.dataDir}, stores in Redis` : config.dataDir})\n`);
  const stop = new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await Promise.race([handle.closed, stop]);
  await handle.close().catch(() => undefined);
  await gateway.close();
  return 0;
}
