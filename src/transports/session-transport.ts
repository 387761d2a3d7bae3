/**
 * The transport a session's SDK Server is connected to over HTTP. A POST of requests that need no
 * stream (no progress asked, no log relay, no elicitation, no switch to polling) is answered here,
 * directly on Node's response, as one `application/json` body. Everything else (SSE answers, the
 * GET stream, resumption, DELETE, and every malformed request, so its error is exactly the SDK's)
 * goes to the SDK's StreamableHTTPServerTransport behind it.
 *
 * Why: the SDK's Node transport converts each request and response to Web Standard objects and
 * answers with an SSE stream; for a single answer that is most of the per-call cost over HTTP.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import {
  isJsonContentType,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type RequestId,
  type Transport,
  type TransportSendOptions,
} from "@modelcontextprotocol/server";
import { GatewayError, toHttp, toJsonRpcResponse } from "../errors.js";
import type { PlainLane } from "../mcp/plain-lane.js";
import { jsonRpcMessageOf, MAX_BATCH_SIZE } from "./http/state.js";

const SESSION_GONE = new GatewayError("session_not_found", "Session not found: initialize a new session");

/** One POST answered directly: the responses it still waits for, and where they go. */
interface Exchange {
  readonly res: ServerResponse;
  readonly ids: readonly RequestId[];
  readonly responses: Map<RequestId, JSONRPCMessage>;
  readonly sessionId: string | undefined;
  /** Called once every response is in (written, or dropped if the client left). */
  readonly done?: () => void;
}

function acceptsBoth(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes("application/json") && accept.includes("text/event-stream");
}

/**
 * The messages of a POST, validated as the SDK would, if the POST can be answered directly;
 * undefined sends it to the SDK (which answers errors its own way).
 */
export function directMessages(req: IncomingMessage, body: unknown): JSONRPCMessage[] | undefined {
  if (req.method !== "POST") return undefined;
  if (!acceptsBoth(req.headers.accept) || !isJsonContentType(req.headers["content-type"])) return undefined;
  const version = req.headers["mcp-protocol-version"];
  if (version !== undefined && (typeof version !== "string" || !SUPPORTED_PROTOCOL_VERSIONS.includes(version))) return undefined;
  const raw = Array.isArray(body) ? body : [body];
  if (raw.length === 0 || raw.length > MAX_BATCH_SIZE) return undefined;
  const messages: JSONRPCMessage[] = [];
  const ids = new Set<RequestId>();
  for (const m of raw) {
    let parsed: JSONRPCMessage;
    try {
      parsed = jsonRpcMessageOf(m);
    } catch {
      return undefined;
    }
    // Initialization creates the session: the SDK's to do.
    if ((parsed as { method?: string }).method === "initialize") return undefined;
    if (isRequest(parsed)) {
      // A batch that repeats a request id would wait for an answer that never comes apart.
      if (ids.has(parsed.id)) return undefined;
      ids.add(parsed.id);
    }
    messages.push(parsed);
  }
  return messages;
}

/** Of a message already valid JSON-RPC (parsed, or the server's own): a request has a method and an id. */
function isRequest(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId; method: string } {
  return "method" in message && "id" in message;
}

/** Of a message already valid JSON-RPC: a response has an id and no method. */
function isResponse(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId } {
  return "id" in message && !("method" in message);
}

/** See the file comment. `sdk` is absent for a stateless request answered directly. */
export class SessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  /** Answers plain calls without the SDK's protocol layer (src/mcp/plain-lane.ts); set by whoever connects the server. */
  lane?: PlainLane;
  private readonly exchanges = new Map<RequestId, Exchange>();
  private closed = false;

  constructor(private readonly sdk?: NodeStreamableHTTPServerTransport) {}

  get sessionId(): string | undefined {
    return this.sdk?.sessionId;
  }

  async start(): Promise<void> {
    const sdk = this.sdk;
    if (!sdk) return;
    sdk.onmessage = (message, extra) => {
      // A notification may cancel a call of the lane's; the SDK's streams carry no plain call.
      if ("id" in message || !this.lane?.take(message, () => undefined)) this.onmessage?.(message, extra);
    };
    sdk.onerror = (error) => this.onerror?.(error);
    sdk.onclose = () => this.closeDirect();
    await sdk.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const id = isResponse(message) ? message.id : options?.relatedRequestId;
    const exchange = id === undefined ? undefined : this.exchanges.get(id);
    if (exchange === undefined) {
      if (this.sdk) return this.sdk.send(message, options);
      return; // a stateless request answered directly has nowhere else to send
    }
    if (!isResponse(message)) {
      // Nothing was expected on this POST but its answer; the GET stream (if any) carries the rest.
      if (this.sdk) return this.sdk.send(message);
      return;
    }
    this.exchanges.delete(message.id);
    exchange.responses.set(message.id, message);
    if (exchange.responses.size < exchange.ids.length) return;
    const { res } = exchange;
    exchange.done?.();
    if (res.writableEnded || res.destroyed) return; // the client went away
    const body = exchange.ids.length === 1 ? exchange.responses.get(exchange.ids[0]!) : exchange.ids.map((i) => exchange.responses.get(i));
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (exchange.sessionId !== undefined) headers["mcp-session-id"] = exchange.sessionId;
    res.writeHead(200, headers).end(JSON.stringify(body));
  }

  /**
   * Answers one POST directly: requests are handed to the server and their responses written as
   * one JSON body; a POST of only notifications and responses gets 202. `done` runs once the
   * server has answered everything (a pooled server may then take the next request).
   */
  answer(res: ServerResponse, messages: readonly JSONRPCMessage[], done?: () => void): void {
    if (this.closed) {
      const { status, headers } = toHttp(SESSION_GONE);
      res.writeHead(status, { ...headers, "content-type": "application/json" }).end(JSON.stringify(toJsonRpcResponse(SESSION_GONE)));
      done?.();
      return;
    }
    // No handler reads the HTTP request (admission already has), so none is built for it.
    const extra: MessageExtraInfo = {};
    const ids: RequestId[] = [];
    for (const m of messages) if (isRequest(m)) ids.push(m.id);
    const deliver = (m: JSONRPCMessage) => {
      if (!this.lane?.take(m, (response) => this.send(response))) this.onmessage?.(m, extra);
    };
    if (ids.length === 0) {
      for (const m of messages) deliver(m);
      res.writeHead(202).end();
      done?.();
      return;
    }
    const exchange: Exchange = { res, ids, responses: new Map(), sessionId: this.sessionId, done };
    for (const id of ids) this.exchanges.set(id, exchange);
    // A client that goes away mid-call cancels what it asked: the server aborts each request's
    // signal (and so its upstream request) exactly as on notifications/cancelled.
    res.once("close", () => {
      if (res.writableEnded) return;
      for (const id of ids) {
        if (this.exchanges.get(id) !== exchange) continue;
        // A cancelled request is never answered: forget it (a pooled server is then not reused).
        this.exchanges.delete(id);
        deliver({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: "the client disconnected" } });
      }
    });
    for (const m of messages) deliver(m);
  }

  /** Ends the direct exchanges still open (their clients get no answer: the session is gone). */
  private closeDirect(): void {
    if (this.closed) return;
    this.closed = true;
    for (const exchange of new Set(this.exchanges.values())) {
      if (!exchange.res.writableEnded) exchange.res.destroy();
    }
    this.exchanges.clear();
    this.onclose?.();
  }

  async close(): Promise<void> {
    if (this.sdk) await this.sdk.close(); // its onclose ends the direct exchanges too
    else this.closeDirect();
  }
}
