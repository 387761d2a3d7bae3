/**
 * MCP Apps (the `io.modelcontextprotocol/ui` extension): for a client that declares it, writes
 * name the pending-action card (a `ui://` HTML resource the host renders in a sandboxed iframe),
 * and the server lists and serves that one resource. A client without the extension sees the
 * same tools, results and (empty) resource list as before.
 */
import { ProtocolError, ProtocolErrorCode, type Server, type ServerContext } from "@modelcontextprotocol/server";
import type { ToolResult } from "../../context.js";
import { clientCapabilitiesOf } from "../client-capabilities.js";
import { CARD_HTML } from "./card-html.js";

export const UI_EXTENSION = "io.modelcontextprotocol/ui";
export const UI_MIME_TYPE = "text/html;profile=mcp-app";
export const CARD_URI = "ui://countersign/pending-action";

const CARD = {
  uri: CARD_URI,
  name: "pending-action",
  title: "Pending action",
  description: "The preview of a pending write, with Confirm / Cancel (or its approval state).",
  mimeType: UI_MIME_TYPE,
} as const;

/**
 * Whether the client declared the UI extension with the MCP Apps HTML type (or no type list at
 * all): in the request's envelope on 2026-07-28, else at initialize.
 */
export function clientShowsApps(server: Server, ctx?: ServerContext): boolean {
  const extensions = clientCapabilitiesOf(server, ctx)?.extensions as Record<string, unknown> | undefined;
  const ui = extensions?.[UI_EXTENSION] as { mimeTypes?: unknown } | undefined;
  if (ui === undefined || ui === null || typeof ui !== "object") return false;
  return !Array.isArray(ui.mimeTypes) || ui.mimeTypes.includes(UI_MIME_TYPE);
}

/** The tool metadata naming the card. */
export function cardMeta(meta?: Record<string, unknown>): Record<string, unknown> {
  return { ...meta, ui: { resourceUri: CARD_URI } };
}

/** A pending (or settled) write's result, pointing at the card. */
export function withCard(result: ToolResult): ToolResult {
  const own = (result as { _meta?: Record<string, unknown> })._meta;
  return { ...result, _meta: cardMeta(own) } as ToolResult;
}

/** Answers resources/list and resources/read: the card for clients with the extension, nothing for others. */
export function serveCard(server: Server): void {
  server.setRequestHandler("resources/list", async (_request, ctx) => ({ resources: clientShowsApps(server, ctx) ? [CARD] : [] }));
  server.setRequestHandler("resources/templates/list", async () => ({ resourceTemplates: [] }));
  server.setRequestHandler("resources/read", async (request, ctx) => {
    if (request.params.uri !== CARD_URI || !clientShowsApps(server, ctx)) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown resource ${JSON.stringify(request.params.uri).slice(0, 200)}: the only resource is ${CARD_URI}, for clients that declare ${UI_EXTENSION}`);
    }
    return {
      contents: [{ uri: CARD_URI, mimeType: UI_MIME_TYPE, text: CARD_HTML, _meta: { ui: { prefersBorder: true, csp: { connectDomains: [], resourceDomains: [] } } } }],
    };
  });
}
