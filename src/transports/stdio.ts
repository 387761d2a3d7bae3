/**
 * MCP over stdio (what Claude Desktop starts): one session per process, stdout carries only
 * JSON-RPC, logs go to stderr.
 */
import type { Readable, Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import type { Gateway } from "../gateway.js";
import type { Principal } from "../context.js";
import { createMcpServer, type SessionBinding } from "../mcp/server.js";

/** A running stdio session. */
export interface StdioHandle {
  /** Resolves when the client closes stdin or the transport fails. */
  readonly closed: Promise<void>;
  notifyToolsChanged(): Promise<void>;
  close(): Promise<void>;
}

/** Serves one already-authenticated session on the given streams (process stdin/stdout by default). */
export async function startStdio(
  gateway: Gateway,
  session: { credential: string; principal: Principal; params?: Record<string, string> },
  streams: { stdin?: Readable; stdout?: Writable } = {},
): Promise<StdioHandle> {
  const binding: SessionBinding = {
    transport: "stdio",
    credential: session.credential,
    principal: session.principal,
    params: session.params ?? {},
    enabledModules: new Set(),
  };
  const server = createMcpServer(gateway, binding);
  const stdin = streams.stdin ?? process.stdin;
  const transport = new StdioServerTransport(stdin, streams.stdout ?? process.stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    stdin.once("end", () => resolve());
    stdin.once("close", () => resolve());
  });
  await server.connect(transport);
  return {
    closed,
    notifyToolsChanged: () => server.sendToolListChanged(),
    close: () => server.close(),
  };
}
