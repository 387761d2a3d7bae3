/**
 * `countersign stdio`: serves the generated tools over stdio, authenticated by MCP_TOKEN.
 */
import { parseArgs } from "node:util";
import { createGateway } from "../app.js";
import { loadConfig } from "../config.js";
import { tuneHeap, type HeapTuning } from "./heap.js";
import { operatorMessage, publicMessage, toGatewayError } from "../errors.js";
import { startStdio } from "../transports/stdio.js";

/** Runs the stdio server until the client closes stdin; exit code 2 for a missing or refused token. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      generated: { type: "string" },
      upstream: { type: "string" },
      config: { type: "string" },
      mode: { type: "string" },
      modules: { type: "string" },
      "schema-profile": { type: "string" },
    },
    strict: true,
  });
  const token = process.env.MCP_TOKEN;
  if (!token) {
    process.stderr.write("countersign stdio: MCP_TOKEN is not set; mint one with 'countersign tokens create --name NAME' and pass it in the environment\n");
    return 2;
  }
  let gateway;
  let heap: HeapTuning;
  try {
    // Before the tools are loaded: V8's heap sizing for a long-running process (src/cli/heap.ts).
    heap = tuneHeap();
    gateway = await createGateway(loadConfig(values));
  } catch (err) {
    process.stderr.write(`countersign stdio: ${operatorMessage(err)}\n`);
    return 1;
  }
  let principal;
  try {
    principal = await gateway.admit({ transport: "stdio", credential: token, request: "stdio start-up" });
  } catch (err) {
    process.stderr.write(`countersign stdio: MCP_TOKEN refused: ${publicMessage(toGatewayError(err))}\n`);
    await gateway.close();
    return 2;
  }
  const handle = await startStdio(gateway, { credential: token, principal, params: {} }); // surface: mode/modules/profile come from config.surface (flags, then COUNTERSIGN_MODE / COUNTERSIGN_MODULES / COUNTERSIGN_SCHEMA_PROFILE)
  gateway.deps.log.info({ tools: gateway.registry.tools.length, subject: principal.subject, heap }, "stdio session ready");
  const stop = new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await Promise.race([handle.closed, stop]);
  await handle.close().catch(() => undefined);
  await gateway.close();
  return 0;
}
