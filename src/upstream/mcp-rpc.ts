/**
 * One JSON-RPC request to a Streamable HTTP MCP server as a plain POST, for the hot path of an
 * HTTP backend: its `tools/call` (src/upstream/mcp-backend.ts). The SDK client keeps the session
 * (initialize, listing, pings, the server's notifications); going around it here saves its
 * Headers, web streams and wire schemas on every call, which cost more than the gateway's whole
 * chain. The POST goes through undici's connection pool with its handler API (`dispatch`: no
 * streams, no promise per step), which costs less CPU and wall time per request than node:http
 * with a keep-alive agent, or undici's own `request`.
 *
 * The answer is read as the transport allows: a JSON body, or an event stream whose other messages
 * (progress, the server's own requests) go to `onMessage` until the response with the request's id
 * arrives. Anything but that response is an `ExchangeError` saying what came instead.
 */
import { StringDecoder } from "node:string_decoder";
import { Pool, type Dispatcher } from "undici";
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

const JSON_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

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

/** A text/event-stream reader: feed it text, it calls `onEvent` with each event's data (any line ending). */
function eventReader(onEvent: (data: string) => void): (text: string) => void {
  let buffered = "";
  let data: string[] = [];
  return (text) => {
    buffered += text;
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
  };
}

/** What reads one answer's body: its bytes as they come, then its end. */
interface BodyReader {
  data(chunk: Buffer): void;
  end(): void;
}

/** A reader that passes the bytes through `decoder` (gzip, deflate, br) to `inner`. */
function decoding(decoder: NodeJS.ReadWriteStream, inner: BodyReader, fail: (err: Error) => void): BodyReader {
  decoder.on("data", (c: Buffer) => inner.data(c));
  decoder.once("end", () => inner.end());
  decoder.once("error", fail);
  return { data: (c) => void decoder.write(c), end: () => void decoder.end() };
}

/**
 * POSTs `message` (a request with an `id`) to `target`; its answer resolves with the response
 * carrying that id (a result or an error answer alike), or rejects with an ExchangeError when none
 * comes, or with the reason given to `abort`.
 */
export function exchange(target: Endpoint, headers: Readonly<Record<string, string>>, message: JsonRpcMessage, options: ExchangeOptions = {}): Exchange {
  const { onMessage } = options;
  let settled = false;
  let resolveAnswer!: (m: JsonRpcMessage) => void;
  let rejectAnswer!: (err: Error) => void;
  const answer = new Promise<JsonRpcMessage>((resolve, reject) => {
    resolveAnswer = resolve;
    rejectAnswer = reject;
  });
  const settle = (err: Error | undefined, m?: JsonRpcMessage) => {
    if (settled) return;
    settled = true;
    if (err) rejectAnswer(err);
    else resolveAnswer(m!);
  };
  let controller: Dispatcher.DispatchController | undefined;
  let stopped: Error | undefined;
  let started = false;
  let reader: BodyReader | undefined;

  /** A message of the answer: the response ends the exchange; the rest is passed on. */
  const take = (m: unknown): void => {
    if (typeof m !== "object" || m === null || Array.isArray(m)) return;
    const msg = m as JsonRpcMessage;
    if (msg.id === message.id && msg.method === undefined && ("result" in msg || "error" in msg)) settle(undefined, msg);
    else if (!settled) onMessage?.(msg);
  };

  /** How the body of an answer with `status` and media `type` is read. */
  function readerFor(status: number, type: string): BodyReader {
    if (status < 200 || status >= 300) {
      let text = "";
      const utf8 = new StringDecoder("utf8");
      return {
        data: (c) => void (text.length < MAX_ERROR_BODY && (text += utf8.write(c))),
        end: () => settle(new ExchangeError(`HTTP ${status}${text ? `: ${errorText(text)}` : ""}`, { status })),
      };
    }
    if (type === "text/event-stream") {
      const utf8 = new StringDecoder("utf8");
      const feed = eventReader((data) => {
        let m: unknown;
        try {
          m = JSON.parse(data);
        } catch {
          return settle(new ExchangeError(`the event stream carried something that is not JSON: ${data.slice(0, 80)}`, { status }));
        }
        take(m);
      });
      return { data: (c) => feed(utf8.write(c)), end: () => settled || settle(new ExchangeError("the event stream ended before the answer", { status })) };
    }
    const chunks: Buffer[] = [];
    return {
      data: (c) => void chunks.push(c),
      end: () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8"));
        } catch {
          return settle(new ExchangeError(`the answer is not JSON (HTTP ${status}, ${type || "no content type"})`, { status }));
        }
        for (const m of Array.isArray(parsed) ? parsed : [parsed]) take(m);
        if (!settled) settle(new ExchangeError("the answer held no response to the request", { status }));
      },
    };
  }

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (stopped) c.abort(stopped);
    },
    onResponseStart(_c, statusCode, responseHeaders) {
      if (statusCode < 200 && statusCode >= 100) return; // informational: the answer is still to come
      started = true;
      const { type, encoding } = contentHeaders(responseHeaders);
      const decoder = encoding && encoding !== "identity" ? DECODERS[encoding] : undefined;
      if (encoding && encoding !== "identity" && !decoder) {
        settle(new ExchangeError(`the answer is encoded as ${encoding}, which is not read`, { status: statusCode }));
        reader = { data: () => undefined, end: () => undefined };
        return;
      }
      const inner = readerFor(statusCode, type);
      reader = decoder ? decoding(decoder(), inner, (err) => settle(new ExchangeError(`the answer broke off: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }))) : inner;
    },
    onResponseData(_c, chunk) {
      reader?.data(chunk);
    },
    onResponseEnd() {
      reader?.end();
    },
    onResponseError(_c, err) {
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      settle(stopped ?? new ExchangeError(started ? `the answer broke off: ${code}` : `the request failed: ${code}`, { cause: err }));
    },
  };
  poolOf(target).dispatch({ path: target.path, method: "POST", headers: { ...headers, ...JSON_HEADERS }, body: JSON.stringify(message) }, handler);
  return {
    answer,
    abort(reason) {
      if (settled) return;
      stopped = reason;
      settle(reason);
      controller?.abort(reason);
    },
  };
}

/** POSTs a notification or a response: resolves on a success status (202 is the expected one), rejects otherwise. */
export function send(target: Endpoint, headers: Readonly<Record<string, string>>, message: JsonRpcMessage): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let status = 0;
    poolOf(target).dispatch(
      { path: target.path, method: "POST", headers: { ...headers, ...JSON_HEADERS }, body: JSON.stringify(message) },
      {
        // undici takes a handler for this API by its onRequestStart.
        onRequestStart: () => undefined,
        onResponseStart: (_c, statusCode) => void (status = statusCode),
        onResponseData: () => undefined,
        onResponseEnd: () => (status >= 200 && status < 300 ? resolve() : reject(new ExchangeError(`HTTP ${status}`, { status }))),
        onResponseError: (_c, err) => reject(new ExchangeError(`the request failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err })),
      },
    );
  });
}
