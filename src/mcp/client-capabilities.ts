/**
 * The client capabilities that hold for one request. On MCP 2026-07-28 each request's `_meta`
 * envelope declares them (over stdio the server keeps none of its own); a 2025 request has no
 * envelope, and the capabilities its client sent at initialize hold.
 */
import { CLIENT_CAPABILITIES_META_KEY, type Server, type ServerContext } from "@modelcontextprotocol/server";

/** The capabilities the request's envelope declares, else the ones the server stored at initialize. */
export function clientCapabilitiesOf(server: Server, ctx?: ServerContext): Record<string, unknown> | undefined {
  const declared = (ctx?.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as Record<string, unknown> | undefined;
  return declared ?? (server.getClientCapabilities() as Record<string, unknown> | undefined);
}
