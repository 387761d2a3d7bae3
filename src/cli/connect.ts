/**
 * `countersign connect URL`: a stdio ↔ Streamable HTTP bridge, so a local client that only
 * starts stdio servers (Claude Desktop) can share one running gateway. JSON-RPC read on stdin is
 * forwarded to URL with MCP_TOKEN as the bearer; answers and server notifications come back on
 * stdout. The SDK transports keep the Mcp-Session-Id and the standalone notification stream.
 */
import { parseArgs } from "node:util";
import { SdkHttpError, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { agentToken } from "../config.js";

const USAGE = "usage: countersign connect URL   (the gateway's /mcp endpoint; the token comes from MCP_TOKEN)\n";

/** JSON-RPC error code the bridge uses when the gateway cannot be reached or refuses the request. */
const BRIDGE_ERROR = -32000;

/** Bridges stdin/stdout to the gateway until either side closes. */
export async function run(argv: string[]): Promise<number> {
  let positionals: string[];
  try {
    let values: { help?: boolean };
    ({ positionals, values } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { help: { type: "boolean", short: "h" } } }));
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
  } catch (err) {
    process.stderr.write(`countersign connect: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`countersign connect: expected exactly one URL\n${USAGE}`);
    return 2;
  }
  let url: URL;
  try {
    url = new URL(positionals[0]);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`must be http(s), got ${url.protocol}`);
  } catch (err) {
    process.stderr.write(`countersign connect: URL '${positionals[0]}' is not valid: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const token = agentToken();
  if (!token) {
    process.stderr.write("countersign connect: MCP_TOKEN is not set; mint one with `countersign tokens create --name NAME`\n");
    return 2;
  }

  const remote = new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const local = new StdioServerTransport();
  let closing = false;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  async function shutdown(): Promise<void> {
    if (closing) return;
    closing = true;
    // Ending the session lets the gateway free it at once instead of waiting for the idle timeout.
    await remote.terminateSession().catch(() => undefined);
    await remote.close().catch(() => undefined);
    await local.close().catch(() => undefined);
    done();
  }

  local.onmessage = (message: JSONRPCMessage) => {
    remote.send(message).catch((err: unknown) => {
      const reason = describe(err);
      process.stderr.write(`countersign connect: ${reason}\n`);
      // A request must get an answer, or the client waits forever. When the gateway refused it with
      // a JSON-RPC error of its own (429 with retry_after_seconds, 401...), pass that on unchanged.
      if ("id" in message && "method" in message) {
        const own = gatewayError(err, message.id);
        void local.send(own ?? { jsonrpc: "2.0", id: message.id, error: { code: BRIDGE_ERROR, message: reason } }).catch(() => undefined);
      }
    });
  };
  remote.onmessage = (message: JSONRPCMessage) => {
    // Later requests carry the negotiated MCP-Protocol-Version header, as a direct client's would.
    const result = "result" in message ? (message.result as { protocolVersion?: unknown }) : undefined;
    if (typeof result?.protocolVersion === "string") remote.setProtocolVersion(result.protocolVersion);
    local.send(message).catch((err: unknown) => process.stderr.write(`countersign connect: cannot write to stdout: ${describe(err)}\n`));
  };
  remote.onerror = (err: Error) => {
    if (!closing) process.stderr.write(`countersign connect: ${describe(err)}\n`);
  };
  local.onerror = (err: Error) => process.stderr.write(`countersign connect: bad input on stdin: ${err.message}\n`);
  local.onclose = () => void shutdown();
  process.stdin.once("end", () => void shutdown());
  process.once("SIGINT", () => void shutdown());
  process.once("SIGTERM", () => void shutdown());

  await remote.start();
  await local.start();
  await finished;
  return 0;
}

/** The gateway's own JSON-RPC error for this request, if the refused HTTP response carried one. */
function gatewayError(err: unknown, id: string | number): JSONRPCMessage | undefined {
  if (!(err instanceof SdkHttpError)) return undefined;
  const text = typeof err.data.text === "string" ? err.data.text : err.message;
  const at = text.indexOf("{");
  if (at < 0) return undefined;
  try {
    const body = JSON.parse(text.slice(at)) as { error?: { code?: unknown; message?: unknown; data?: unknown } };
    if (!body.error || typeof body.error.code !== "number" || typeof body.error.message !== "string") return undefined;
    return { jsonrpc: "2.0", id, error: { code: body.error.code, message: body.error.message, ...(body.error.data !== undefined ? { data: body.error.data } : {}) } };
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  if (err instanceof SdkHttpError) {
    if (err.status === 401) return "the gateway refused the token (401): check MCP_TOKEN";
    if (err.status === 429) return "rate limited by the gateway (429): retry later";
    return `the gateway answered HTTP ${err.status}: ${err.message}`;
  }
  const cause = (err as { cause?: { code?: string } })?.cause?.code;
  if (cause === "ECONNREFUSED") return "cannot reach the gateway (connection refused): is it running?";
  return err instanceof Error ? err.message : String(err);
}
