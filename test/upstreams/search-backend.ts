/**
 * A Streamable HTTP MCP server for the tests, standing for a team's own MCP server behind the
 * gateway: it checks a bearer, counts what each tool really did, and can grow a tool (announcing
 * tools/list_changed to its sessions).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

export interface SearchBackend {
  readonly url: string;
  /** How many times each tool ran. */
  readonly ran: Record<string, number>;
  close(): Promise<void>;
}

/** Starts it on `port` (0: any free one; a given one to come back where it was). */
export async function startSearchBackend(token: string, port = 0): Promise<SearchBackend> {
  const ran: Record<string, number> = {};
  const count = (name: string) => (ran[name] = (ran[name] ?? 0) + 1);
  const servers: McpServer[] = [];
  let grown = false;
  const transports = new Map<string, StreamableHTTPServerTransport>();

  function build(): McpServer {
    const mcp = new McpServer({ name: "search", version: "1.0.0" }, { capabilities: { tools: { listChanged: true } } });
    mcp.registerTool("find", { description: "Finds documents by words.", inputSchema: { query: z.string() }, annotations: { readOnlyHint: true } }, async ({ query }) => {
      count("find");
      return { content: [{ type: "text", text: `found: ${query}` }], structuredContent: { hits: [query] } };
    });
    mcp.registerTool("index_document", { description: "Adds a document to the index.", inputSchema: { title: z.string(), body: z.string() } }, async ({ title }) => {
      count("index_document");
      return { content: [{ type: "text", text: `indexed ${title}` }] };
    });
    mcp.registerTool("wait", { description: "Waits until cancelled.", annotations: { readOnlyHint: true } }, async (extra) => {
      count("wait");
      await new Promise<void>((resolve) => extra.signal.addEventListener("abort", () => resolve(), { once: true }));
      count("wait_cancelled");
      return { content: [{ type: "text", text: "cancelled" }] };
    });
    mcp.registerTool("peek", { description: "Shows index statistics." }, async () => {
      count("peek");
      return { content: [{ type: "text", text: "3 documents" }] };
    });
    mcp.registerTool("grow", { description: "Adds the fresh tool.", annotations: { readOnlyHint: true } }, async () => {
      count("grow");
      grown = true;
      for (const s of servers) {
        if (!s.isConnected()) continue;
        registerFresh(s);
        s.sendToolListChanged();
      }
      return { content: [{ type: "text", text: "grown" }] };
    });
    if (grown) registerFresh(mcp);
    servers.push(mcp);
    return mcp;
  }

  function registerFresh(mcp: McpServer): void {
    try {
      mcp.registerTool("fresh", { description: "A tool that appeared later.", annotations: { readOnlyHint: true } }, async () => {
        count("fresh");
        return { content: [{ type: "text", text: "fresh" }] };
      });
    } catch {
      // already there
    }
  }

  const server = createServer(async (req: IncomingMessage, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "unauthorized" }));
      return;
    }
    let parsed: unknown;
    if (req.method === "POST") {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    }
    const sid = req.headers["mcp-session-id"] as string | undefined;
    let transport = sid ? transports.get(sid) : undefined;
    if (!transport) {
      const t = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void transports.set(id, t) });
      await build().connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res, parsed);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    ran,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
