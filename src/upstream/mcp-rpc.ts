/**
 * One JSON-RPC request to a Streamable HTTP MCP server as a plain POST over the keep-alive agent
 * (src/upstream/mcp-fetch.ts), for the hot path of an HTTP backend: its `tools/call`
 * (src/upstream/mcp-backend.ts). The SDK client keeps the session (initialize, listing, pings,
 * the server's notifications); going around it here saves its Headers, web streams and wire
 * schemas on every call, which cost more than the gateway's whole chain.
 *
 * The answer is read as the transport allows: a JSON body, or an event stream whose other messages
 * (progress, the server's own requests) go to `onMessage` until the response with the request's id
 * arrives. Anything but that response is an `ExchangeError` saying what came instead.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { DECODERS, httpAgent, httpsAgent } from "./mcp-fetch.js";

export type JsonRpcMessage = Record<string, unknown>;

/** The exchange failed: no answer to the request (a network error, an HTTP error status, a body that is not one). */
export class ExchangeError extends Error {
  /** The HTTP status when the server answered with one that is not a success. */
  readonly status: number | undefined;
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ExchangeError";
    this.status = options.status;
  }
}

export interface ExchangeOptions {
  /** Every other message the answer carries (notifications, the server's requests), in order. */
  readonly onMessage?: (message: JsonRpcMessage) => void;
}

/** One request under way: its answer, and a way to give up on it. */
export interface Exchange {
  readonly answer: Promise<JsonRpcMessage>;
  /** Ends the exchange now: the answer rejects with `reason` (nothing, once it has settled). */
  abort(reason: Error): void;
}

/** Where requests go: the URL, and what node:http needs of it worked out once rather than per request. */
export interface Endpoint {
  readonly url: URL;
  readonly tls: boolean;
  readonly hostname: string;
  readonly port: number;
  readonly path: string;
}

export function endpoint(url: URL): Endpoint {
  const tls = url.protocol === "https:";
  return { url, tls, hostname: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) || (tls ? 443 : 80), path: `${url.pathname}${url.search}` };
}

const MAX_ERROR_BODY = 512;

/** A POST of `body` over the keep-alive agent, asking for JSON or an event stream. */
function post(target: Endpoint, headers: Readonly<Record<string, string>>, body: string): ClientRequest {
  return (target.tls ? httpsRequest : httpRequest)({
    method: "POST",
    hostname: target.hostname,
    port: target.port,
    path: target.path,
    ...(target.tls ? { servername: target.hostname } : {}),
    agent: target.tls ? httpsAgent : httpAgent,
    headers: { ...headers, "content-type": "application/json", accept: "application/json, text/event-stream", "content-length": Buffer.byteLength(body) },
  });
}

/**
 * The media type and content encoding of an answer, read from its raw header lines (reading
 * `headers` would build the whole header object, on every call, for two of its fields).
 */
function contentHeaders(raw: readonly string[]): { type: string; encoding: string | undefined } {
  let type = "";
  let encoding: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === "content-type") type = raw[i + 1]!.split(";")[0]!.trim().toLowerCase();
    else if (name === "content-encoding") encoding = raw[i + 1]!.trim().toLowerCase();
  }
  return { type, encoding };
}

/** An error body as a sentence: a JSON-RPC error's message (what MCP servers send), or the text itself. */
function errorText(text: string): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === "string") return message.slice(0, MAX_ERROR_BODY);
  } catch {
    // not JSON: the text as it is
  }
  return text.slice(0, MAX_ERROR_BODY);
}

/** Calls `onEvent` with the data of each server-sent event in `stream` (text/event-stream, any line ending). */
function readEvents(stream: Readable, onEvent: (data: string) => void): void {
  let buffered = "";
  let data: string[] = [];
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    const eol = /\r\n|\r|\n/g;
    let start = 0;
    for (let m = eol.exec(buffered); m; m = eol.exec(buffered)) {
      // A lone CR at the end may be the first half of a CRLF still on its way.
      if (m[0] === "\r" && m.index === buffered.length - 1) break;
      const line = buffered.slice(start, m.index);
      start = m.index + m[0].length;
      if (line === "") {
        if (data.length) onEvent(data.join("\n"));
        data = [];
      } else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
      // event:, id:, retry: and comments carry nothing this exchange needs.
    }
    buffered = buffered.slice(start);
  });
}

/**
 * POSTs `message` (a request with an `id`) to `target`; its answer resolves with the response
 * carrying that id (a result or an error answer alike), or rejects with an ExchangeError when none
 * comes, or with the reason given to `abort`.
 */
export function exchange(target: Endpoint, headers: Readonly<Record<string, string>>, message: JsonRpcMessage, options: ExchangeOptions = {}): Exchange {
  const { onMessage } = options;
  const body = JSON.stringify(message);
  let abort!: (reason: Error) => void;
  const answer = new Promise<JsonRpcMessage>((resolve, reject) => {
    let settled = false;
    const settle = (err: Error | undefined, answer?: JsonRpcMessage) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(answer!);
    };
    const req = post(target, headers, body);
    let res: IncomingMessage | undefined;
    abort = (reason) => {
      if (settled) return;
      settle(reason);
      req.destroy(reason);
      res?.destroy(reason);
    };
    req.once("error", (err) => settle(new ExchangeError(`the request failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err })));
    req.once("response", (r) => {
      res = r;
      const status = r.statusCode ?? 0;
      const { type, encoding } = contentHeaders(r.rawHeaders);
      const decoder = encoding && encoding !== "identity" ? DECODERS[encoding] : undefined;
      if (encoding && encoding !== "identity" && !decoder) {
        r.resume();
        return settle(new ExchangeError(`the answer is encoded as ${encoding}, which is not read`, { status }));
      }
      let stream: Readable = r;
      if (decoder) {
        const decoded = decoder() as unknown as Readable;
        r.on("error", (err) => decoded.destroy(err));
        stream = r.pipe(decoded as unknown as NodeJS.WritableStream) as unknown as Readable;
      }
      stream.on("error", (err) => settle(new ExchangeError(`the answer broke off: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err })));
      if (status < 200 || status >= 300) {
        let text = "";
        stream.setEncoding("utf8");
        stream.on("data", (c: string) => void (text.length < MAX_ERROR_BODY && (text += c)));
        stream.once("end", () => settle(new ExchangeError(`HTTP ${status}${text ? `: ${errorText(text)}` : ""}`, { status })));
        return;
      }
      /** A message of the answer: the response ends the exchange; the rest is passed on. */
      const take = (m: unknown): void => {
        if (typeof m !== "object" || m === null || Array.isArray(m)) return;
        const msg = m as JsonRpcMessage;
        if (msg.id === message.id && msg.method === undefined && ("result" in msg || "error" in msg)) settle(undefined, msg);
        else if (!settled) onMessage?.(msg);
      };
      if (type === "text/event-stream") {
        readEvents(stream, (data) => {
          let m: unknown;
          try {
            m = JSON.parse(data);
          } catch {
            return settle(new ExchangeError(`the event stream carried something that is not JSON: ${data.slice(0, 80)}`, { status }));
          }
          take(m);
        });
        stream.once("end", () => settled || settle(new ExchangeError("the event stream ended before the answer", { status })));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.once("end", () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          return settle(new ExchangeError(`the answer is not JSON (HTTP ${status}, ${type || "no content type"})`, { status }));
        }
        for (const m of Array.isArray(parsed) ? parsed : [parsed]) take(m);
        if (!settled) settle(new ExchangeError("the answer held no response to the request", { status }));
      });
    });
    req.end(body);
  });
  return { answer, abort };
}

/** POSTs a notification or a response: resolves on a success status (202 is the expected one), rejects otherwise. */
export function send(target: Endpoint, headers: Readonly<Record<string, string>>, message: JsonRpcMessage): Promise<void> {
  const body = JSON.stringify(message);
  return new Promise<void>((resolve, reject) => {
    const req = post(target, headers, body);
    req.once("error", (err) => reject(new ExchangeError(`the request failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err })));
    req.once("response", (r) => {
      const status = r.statusCode ?? 0;
      r.resume();
      if (status >= 200 && status < 300) resolve();
      else reject(new ExchangeError(`HTTP ${status}`, { status }));
    });
    req.end(body);
  });
}
