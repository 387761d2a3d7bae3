/**
 * `countersign serve`: the Streamable HTTP gateway.
 */
import { parseArgs } from "node:util";
import { createGateway, warmToolList } from "../app.js";
import { loadConfig } from "../config.js";
import { tuneHeap, type HeapTuning } from "./heap.js";
import { operatorMessage } from "../errors.js";
import { startHttpServer } from "../transports/http/index.js";
import { watchForGateway } from "../surface/hot-reload.js";
import { watchUpstreamConfig } from "../upstreams/watch.js";
import { warmToolSearch } from "../surface/search.js";
import { configFlagHelp, configFlags, configOptions, configUsage } from "./flags.js";
import { listenFailure } from "./listen-error.js";

const USAGE = `usage: countersign serve ${configUsage("serve")} [--watch]

Serves the generated tools over Streamable HTTP at /mcp. Flags win over the environment, the
environment over the config file (docs/configuration.md lists every setting):

${configFlagHelp("serve", [["--watch", "reload the tools when \`countersign generate\` replaces them (with upstreams: in the config file, when it changes)"]])}`;

/** Serves until SIGINT/SIGTERM, then closes sessions and stores cleanly. */
export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...configOptions("serve"), watch: { type: "boolean" } }, strict: true }));
  } catch (err) {
    process.stderr.write(`countersign serve: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let gateway;
  let heap: HeapTuning;
  try {
    // Before the tools are loaded: V8's heap sizing for a long-running process (src/cli/heap.ts).
    heap = tuneHeap();
    gateway = await createGateway(loadConfig(configFlags(values)));
  } catch (err) {
    process.stderr.write(`countersign serve: ${operatorMessage(err)}\n`);
    return 1;
  }
  const { config, log } = gateway.deps;
  let handle;
  try {
    handle = await startHttpServer(gateway);
  } catch (err) {
    process.stderr.write(`countersign serve: ${listenFailure(err, config.http)}\n`);
    await gateway.close();
    return 1;
  }
  // --watch: reload generated/ when `countersign generate` replaces it (src/surface/hot-reload.ts).
  // With upstreams: the config file (and their generated folders) instead (src/upstreams/watch.ts).
  const configFile = typeof values.config === "string" ? values.config : process.env.COUNTERSIGN_CONFIG || undefined;
  const watcher = !values.watch
    ? undefined
    : gateway.upstreams && configFile
      ? await watchUpstreamConfig(gateway, { file: configFile, reread: () => loadConfig(configFlags(values)), notify: () => handle.notifyToolsChanged() })
      : await watchForGateway(gateway, handle);
  // A backend MCP server's tools changed (src/upstreams): every open session hears it.
  gateway.onToolsChanged(() => void handle.notifyToolsChanged().catch((err: unknown) => log.warn({ err }, "telling sessions the tools changed failed")));
  // While the first client connects: most of its first tools/list (the listed schemas, per tool).
  void warmToolList(gateway);
  // Not at once: a client's initialize and first tools/list come first (issue 3's cold start).
  warmToolSearch(gateway.registry.tools, { afterMs: 1000, modules: gateway.registry.modules });
  log.info({ url: handle.url, tools: gateway.registry.tools.length, stateless: config.http.stateless, upstream: config.upstream.url, dataDir: config.dataDir, heap }, "listening");
  // One machine-readable line for scripts and tests that start the server on port 0.
  process.stderr.write(`countersign: listening on ${handle.url}\n`);
  process.stderr.write(`countersign: data dir ${config.redis.url ? `${config.dataDir} (tokens, pending actions and audit in Redis)` : config.dataDir}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  watcher?.close();
  await handle.close();
  // Bounded (5 s): what could not be flushed is named in the log.
  await gateway.close();
  // A backstop: nothing left behind (a socket to an unreachable Redis) keeps the process alive.
  setTimeout(() => process.exit(0), 1_000).unref();
  return 0;
}
