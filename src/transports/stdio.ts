/**
 * MCP over stdio (what Claude Desktop starts): one session per process, stdout carries only
 * JSON-RPC, logs go to stderr. Both generations: the SDK's stdio entry pins the connection to
 * 2025-11-25 when it opens with `initialize`, or serves 2026-07-28 requests (`server/discover`,
 * the `_meta` envelope on each request) from the same server factory.
 */
import type { Readable, Writable } from "node:stream";
import type { JSONRPCMessage, Server } from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { checkTokenShape, hashToken } from "../tokens/format.js";
import { jsonRpcMessageOf } from "./http/state.js";
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
  const credential = session.credential.trim();
  const binding: SessionBinding = {
    transport: "stdio",
    credential: session.credential,
    // MCP_TOKEN is the session's for its life: its shape is checked and its hash taken once.
    ...(checkTokenShape(credential) === undefined ? { credentialHash: hashToken(credential) } : {}),
    principal: session.principal,
    params: session.params ?? {},
    enabledModules: new Set(),
  };
  const stdin = streams.stdin ?? process.stdin;
  const stdout = streams.stdout ?? process.stdout;
  const transport = new StdioServerTransport(stdin, stdout);
  transport._ondata = readLines(transport);
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
  // Plain calls of a 2025 session skip the SDK's protocol layer (src/mcp/plain-lane.ts). Their
  // answers are written as the transport writes (one JSON line, in order with its own), without
  // its promise and listeners per message; a write error reaches the transport's own listener.
  const entry = transport.onmessage;
  const reply = (response: JSONRPCMessage) => void (stdout.writable && stdout.write(`${JSON.stringify(response)}\n`));
  transport.onmessage = (message) => {
    const lane = current && laneOf(current);
    if (lane?.take(message, reply)) return;
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

/** The SDK's bound on one unread message (its default), kept here. */
const MAX_BUFFER = 10 * 1024 * 1024;

/**
 * The transport's stdin reader, in place of its own: the same lines and limits, but a plain
 * request (src/transports/http/state.ts) is taken by its shape, without the SDK's wire schema on
 * every call; anything else is checked by that schema as before. A line that is not JSON is skipped,
 * as the SDK does; one that is not JSON-RPC (or whose handling throws) is reported to `onerror`; a
 * buffer over the bound closes the transport.
 */
function readLines(transport: StdioServerTransport): (chunk: Buffer) => void {
  let buffer: Buffer | undefined;
  return (chunk) => {
    if ((buffer?.length ?? 0) + chunk.length > MAX_BUFFER) {
      buffer = undefined;
      transport.onerror?.(new Error(`stdin: a message over ${MAX_BUFFER} bytes`));
      void transport.close().catch(() => undefined);
      return;
    }
    buffer = buffer ? Buffer.concat([buffer, chunk]) : chunk;
    for (let nl = buffer.indexOf(10); nl !== -1; nl = buffer.indexOf(10)) {
      const end = nl > 0 && buffer[nl - 1] === 13 ? nl - 1 : nl;
      const line = buffer.toString("utf8", 0, end);
      buffer = buffer.subarray(nl + 1);
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue;
      }
      try {
        transport.onmessage?.(jsonRpcMessageOf(value));
      } catch (err) {
        transport.onerror?.(err as Error);
      }
    }
    if (buffer.length === 0) buffer = undefined;
  };
}
