/**
 * MCP over stdio (what Claude Desktop starts): one session per process, stdout carries only
 * JSON-RPC, logs go to stderr. Both generations: the SDK's stdio entry pins the connection to
 * 2025-11-25 when it opens with `initialize`, or serves 2026-07-28 requests (`server/discover`,
 * the `_meta` envelope on each request) from the same server factory.
 */
import type { Readable, Writable } from "node:stream";
import type { Server } from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import type { Gateway } from "../gateway.js";
import type { Principal } from "../context.js";
import { createMcpServer, laneOf, type SessionBinding } from "../mcp/server.js";

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
  const stdin = streams.stdin ?? process.stdin;
  const transport = new StdioServerTransport(stdin, streams.stdout ?? process.stdout);
  const closed = new Promise<void>((resolve) => {
    stdin.once("end", () => resolve());
    stdin.once("close", () => resolve());
  });
  // The instance serving the connection (the entry builds one more for a `server/discover` probe).
  let current: Server | undefined;
  const handle = serveStdio(
    () => {
      current = createMcpServer(gateway, binding);
      const server = current;
      server.onclose = () => {
        if (current === server) current = undefined;
      };
      return server;
    },
    { transport, onerror: (err) => gateway.deps.log.debug({ err }, "stdio message refused") },
  );
  // Plain calls of a 2025 session skip the SDK's protocol layer (src/mcp/plain-lane.ts).
  const entry = transport.onmessage;
  transport.onmessage = (message) => {
    const lane = current && laneOf(current);
    if (lane?.take(message, (response) => transport.send(response).catch(() => undefined))) return;
    entry?.(message);
  };
  return {
    closed,
    notifyToolsChanged: async () => {
      await current?.sendToolListChanged().catch(() => undefined);
    },
    close: () => handle.close(),
  };
}
