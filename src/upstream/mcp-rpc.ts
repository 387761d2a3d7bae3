/**
 * One JSON-RPC request to a Streamable HTTP MCP server as a plain POST, for the hot path of an
 * HTTP backend: its `tools/call` (src/upstream/mcp-backend.ts). The SDK client keeps the session
 * (initialize, listing, pings, the server's notifications); going around it here saves its
 * Headers, web streams and wire schemas on every call, which cost more than the gateway's whole
 * chain. The POST goes through undici's connection pool (`request`, not its fetch), which costs
 * about 20 µs less CPU and wall time per request than node:http with a keep-alive agent.
 *
 * The answer is read as the transport allows: a JSON body, or an event stream whose other messages
 * (progress, the server's own requests) go to `onMessage` until the response with the request's id
 * arrives. Anything but that response is an `ExchangeError` saying what came instead.
 */
import { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import { Pool } from "undici";
import { DECODERS } from "./mcp-fetch.js";

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

/** Where requests go: the URL, split once into the pool's origin and the request's path. */
export interface Endpoint {
  readonly url: URL;
  readonly origin: string;
  readonly path: string;
}

export function endpoint(url: URL): Endpoint {
  return { url, origin: url.origin, path: `${url.pathname}${url.search}` };
}

/** One pool of keep-alive connections per origin, for the process's life (idle sockets close on their own). */
const pools = new Map<string, Pool>();

function poolOf(target: Endpoint): Pool {
  let pool = pools.get(target.origin);
  if (!pool) {
    pool = new Pool(target.origin);
    pools.set(target.origin, pool);
  }
  return pool;
}

const MAX_ERROR_BODY = 512;

/** A POST of `body`, asking for JSON or an event stream; `signal` (an emitter: cheaper than an AbortSignal) aborts it. */
function post(target: Endpoint, headers: Readonly<Record<string, string>>, body: string, signal?: EventEmitter) {
  return poolOf(target).request({
    path: target.path,
    method: "POST",
    headers: { ...headers, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body,
    ...(signal ? { signal } : {}),
  });
}

/** The media type and content encoding of an answer. */
function contentHeaders(headers: Record<string, string | string[] | undefined>): { type: string; encoding: string | undefined } {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return { type: (one(headers["content-type"]) ?? "").split(";")[0]!.trim().toLowerCase(), encoding: one(headers["content-encoding"])?.trim().toLowerCase() };
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
    const stop = new EventEmitter();
    let res: Readable | undefined;
    abort = (reason) => {
      if (settled) return;
      settle(reason);
      stop.emit("abort");
      res?.destroy(reason);
    };
    const failed = (err: Error) => settle(new ExchangeError(`the request failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }));
    post(target, headers, body, stop).then((r) => {
      res = r.body;
      if (settled) return void r.body.destroy();
      const status = r.statusCode;
      const { type, encoding } = contentHeaders(r.headers);
      const decoder = encoding && encoding !== "identity" ? DECODERS[encoding] : undefined;
      if (encoding && encoding !== "identity" && !decoder) {
        r.body.resume();
        return settle(new ExchangeError(`the answer is encoded as ${encoding}, which is not read`, { status }));
      }
      let stream: Readable = r.body;
      if (decoder) {
        const decoded = decoder() as unknown as Readable;
        r.body.on("error", (err) => decoded.destroy(err));
        stream = r.body.pipe(decoded as unknown as NodeJS.WritableStream) as unknown as Readable;
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
    }, failed);
  });
  return { answer, abort };
}

/** POSTs a notification or a response: resolves on a success status (202 is the expected one), rejects otherwise. */
export function send(target: Endpoint, headers: Readonly<Record<string, string>>, message: JsonRpcMessage): Promise<void> {
  return post(target, headers, JSON.stringify(message)).then(
    async (r) => {
      await r.body.dump();
      if (r.statusCode < 200 || r.statusCode >= 300) throw new ExchangeError(`HTTP ${r.statusCode}`, { status: r.statusCode });
    },
    (err: Error) => {
      throw new ExchangeError(`the request failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err });
    },
  );
}
