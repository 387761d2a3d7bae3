/**
 * The ready-to-paste client configurations for a freshly minted token (the same set-ups
 * `countersign demo` prints), filled in with this gateway's URL and the new secret.
 */
import type { Config } from "../config.js";

/** One snippet: what it is for and the text to paste. */
export interface ConnectSnippet {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

/** Snippets for `token` against the gateway at `mcpUrl`; `bin` is the path of bin/countersign.js. */
export function connectSnippets(p: { mcpUrl: string; token: string; bin: string; config: Pick<Config, "dataDir" | "generatedDir" | "upstream"> }): ConnectSnippet[] {
  const desktop = {
    mcpServers: {
      countersign: {
        command: "node",
        args: [p.bin, "stdio"],
        env: {
          MCP_TOKEN: p.token,
          ...(p.config.upstream.url ? { COUNTERSIGN_UPSTREAM_URL: p.config.upstream.url } : {}),
          // The service credential never leaves the server: the operator fills it in.
          ...(p.config.upstream.token ? { COUNTERSIGN_UPSTREAM_TOKEN: "<the upstream service credential>" } : {}),
          COUNTERSIGN_DATA_DIR: p.config.dataDir,
          COUNTERSIGN_GENERATED_DIR: p.config.generatedDir,
        },
      },
    },
  };
  const remote = {
    mcpServers: {
      countersign: { command: "npx", args: ["-y", "mcp-remote", p.mcpUrl, "--header", "Authorization:${AUTH_HEADER}"], env: { AUTH_HEADER: `Bearer ${p.token}` } },
    },
  };
  const connect = {
    mcpServers: {
      countersign: { command: "node", args: [p.bin, "connect", p.mcpUrl], env: { MCP_TOKEN: p.token } },
    },
  };
  const init = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "curl", version: "1" } } });
  return [
    { id: "claude-desktop", title: "Claude Desktop (claude_desktop_config.json, runs the gateway over stdio)", text: JSON.stringify(desktop, null, 2) },
    { id: "connect", title: "countersign connect (stdio bridge to this gateway)", text: JSON.stringify(connect, null, 2) },
    { id: "mcp-remote", title: "mcp-remote (stdio-only clients through this gateway)", text: JSON.stringify(remote, null, 2) },
    {
      id: "curl",
      title: "Streamable HTTP with curl",
      text: [
        `curl -sS -D - ${p.mcpUrl} \\`,
        `  -H 'Authorization: Bearer ${p.token}' \\`,
        "  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\",
        `  -d '${init}'`,
        "# then send the Mcp-Session-Id header from that answer with every later request.",
      ].join("\n"),
    },
    {
      id: "typescript",
      title: "TypeScript SDK (@modelcontextprotocol/client 2.x) over Streamable HTTP",
      text: [
        'import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";',
        "",
        `const transport = new StreamableHTTPClientTransport(new URL("${p.mcpUrl}"), {`,
        `  requestInit: { headers: { Authorization: "Bearer ${p.token}" } },`,
        "});",
        'const client = new Client({ name: "my-agent", version: "1.0.0" });',
        "await client.connect(transport);",
        "console.log((await client.listTools()).tools.length);",
      ].join("\n"),
    },
  ];
}
