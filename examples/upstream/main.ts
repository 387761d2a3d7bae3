/**
 * `node dist/examples/upstream/main.js --spec openapi/workspace.yaml --port 4010 --data-dir DIR --token TOKEN`
 * Runs the sample upstream until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startUpstream } from "./server.js";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      spec: { type: "string", default: "openapi/workspace.yaml" },
      port: { type: "string", default: process.env.PORT ?? "4010" },
      host: { type: "string", default: "127.0.0.1" },
      "data-dir": { type: "string", default: ".data/upstream" },
      token: { type: "string", default: process.env.UPSTREAM_TOKEN },
      log: { type: "boolean", default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`upstream: --port must be an integer 0-65535 (got '${values.port}')\n`);
    return 2;
  }
  if (!values.token) {
    process.stderr.write("upstream: --token (or UPSTREAM_TOKEN) is required: the bearer token callers must send\n");
    return 2;
  }
  const upstream = await startUpstream({ spec: values.spec!, port, host: values.host, dataDir: values["data-dir"]!, token: values.token, log: values.log });
  process.stdout.write(`sample upstream listening on ${upstream.baseUrl} (data in ${values["data-dir"]})\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await upstream.close();
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`upstream: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
