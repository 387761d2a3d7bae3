/**
 * `countersign serve`: the Streamable HTTP gateway.
 */
import { parseArgs } from "node:util";
import { createGateway } from "../app.js";
import { loadConfig } from "../config.js";
import { tuneHeap, type HeapTuning } from "./heap.js";
import { operatorMessage } from "../errors.js";
import { startHttpServer } from "../transports/http.js";
import { watchForGateway } from "../surface/hot-reload.js";
import { warmToolSearch } from "../surface/search.js";

/** Serves until SIGINT/SIGTERM, then closes sessions and stores cleanly. */
export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        generated: { type: "string" },
        upstream: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        stateless: { type: "boolean" },
        config: { type: "string" },
        mode: { type: "string" },
        modules: { type: "string" },
        "schema-profile": { type: "string" },
        watch: { type: "boolean" },
        console: { type: "string" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`countersign serve: ${(err as Error).message}\nusage: countersign serve [--generated DIR] [--upstream URL] [--port N] [--host H] [--stateless] [--config FILE] [--mode auto|all|modules|dynamic] [--modules a,b] [--schema-profile default|strict] [--watch] [--console on|off]\n`);
    return 2;
  }
  let gateway;
  let heap: HeapTuning;
  try {
    // Before the tools are loaded: V8's heap sizing for a long-running process (src/cli/heap.ts).
    heap = tuneHeap();
    gateway = await createGateway(loadConfig(values));
  } catch (err) {
    process.stderr.write(`countersign serve: ${operatorMessage(err)}\n`);
    return 1;
  }
  const handle = await startHttpServer(gateway);
  // --watch: reload generated/ when `countersign generate` replaces it (src/surface/hot-reload.ts).
  const watcher = values.watch ? await watchForGateway(gateway, handle) : undefined;
  // Not at once: a client's initialize and first tools/list come first (issue 3's cold start).
  warmToolSearch(gateway.registry.tools, { afterMs: 1000 });
  const { config, log } = gateway.deps;
  log.info({ url: handle.url, tools: gateway.registry.tools.length, stateless: config.http.stateless, upstream: config.upstream.url, heap }, "listening");
  // One machine-readable line for scripts and tests that start the server on port 0.
  process.stderr.write(`countersign: listening on ${handle.url}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  watcher?.close();
  await handle.close();
  await gateway.close();
  return 0;
}
