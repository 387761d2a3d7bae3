/**
 * The `fetch` an HTTP MCP backend's transport sends with (src/upstream/mcp-backend.ts): node:http(s)
 * with keep-alive agents instead of Node's WHATWG fetch, for the same reason as the OpenAPI
 * upstream's client (src/upstream/node-fetch.ts): undici's Request, Headers and web streams cost
 * more CPU than the call itself, and there is one POST per tool call.
 *
 * It answers what the SDK's Streamable HTTP transport reads of a Response: `ok`, `status`,
 * `statusText`, `url`, `headers` (a real Headers), `text()`, `json()`, `arrayBuffer()`, and `body`
 * as a web stream for event streams (turned into one only when read). The body is decoded
 * (gzip, deflate, br) like fetch's. Redirects are answered, not followed (the transport's
 * redirect policy decides). A network failure rejects with a TypeError whose `cause` is the system
 * error, like fetch's; `signal` aborts the request or the body being read, and its listener is
 * removed once the exchange ends (fetch leaves it until a garbage collection, so a transport's
 * lifelong signal would gather one per call).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });
export const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = { gzip: createGunzip, "x-gzip": createGunzip, deflate: createInflate, br: createBrotliDecompress };

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException("This operation was aborted", "AbortError");
}

/** The request headers as a plain object, whatever form `init.headers` has. */
function plainHeaders(init: RequestInit | undefined): Record<string, string> {
  // As fetch would send them (fetch says `node` as its user agent; some front ends refuse none).
  const out: Record<string, string> = { accept: "*/*", "accept-encoding": "gzip, deflate, br", "user-agent": "countersign" };
  const h = init?.headers;
  if (!h) return out;
  if (h instanceof Headers) h.forEach((value, name) => (out[name] = value));
  else if (Array.isArray(h)) for (const [name, value] of h as [string, string][]) out[name.toLowerCase()] = value;
  else for (const [name, value] of Object.entries(h)) out[name.toLowerCase()] = value;
  return out;
}

function bodyOf(init: RequestInit | undefined): string | Uint8Array | undefined {
  const b = init?.body;
  if (b === undefined || b === null) return undefined;
  if (typeof b === "string" || b instanceof Uint8Array) return b;
  throw new TypeError("mcpFetch: only string and byte bodies are sent");
}

/** A Response over a node:http answer; the body is read once, as text or as a web stream. */
function answer(url: string, res: IncomingMessage, done: () => void): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const encoding = res.headers["content-encoding"]?.trim().toLowerCase();
  const decoder = encoding ? DECODERS[encoding] : undefined;
  let stream: Readable = res;
  if (decoder) {
    const decoded = decoder() as unknown as Readable;
    res.on("error", (err) => decoded.destroy(err));
    stream = res.pipe(decoded as unknown as NodeJS.WritableStream) as unknown as Readable;
  }
  stream.once("end", done);
  stream.once("close", done);
  let used = false;
  const take = () => {
    if (used) throw new TypeError("Body is unusable: Body has already been read");
    used = true;
    return stream;
  };
  const bytes = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of take()) chunks.push(c as Buffer);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  };
  const status = res.statusCode ?? 0;
  let body: ReadableStream<Uint8Array> | undefined;
  const response = {
    ok: status >= 200 && status < 300,
    status,
    statusText: res.statusMessage ?? "",
    url,
    type: "basic",
    redirected: false,
    headers,
    get bodyUsed() {
      return used;
    },
    get body() {
      body ??= Readable.toWeb(take()) as ReadableStream<Uint8Array>;
      return body;
    },
    text: async () => (await bytes()).toString("utf8"),
    json: async () => JSON.parse((await bytes()).toString("utf8")) as unknown,
    arrayBuffer: async () => {
      const b = await bytes();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    },
  };
  return response as unknown as Response;
}

/** See the file comment. */
export function mcpFetch(input: string | URL, init?: RequestInit): Promise<Response> {
  const target = typeof input === "string" ? new URL(input) : input;
  const tls = target.protocol === "https:";
  if (!tls && target.protocol !== "http:") return Promise.reject(new TypeError(`fetch failed: unsupported protocol ${target.protocol}`));
  const signal = init?.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  let body: string | Uint8Array | undefined;
  try {
    body = bodyOf(init);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const headers = plainHeaders(init);
  if (body !== undefined) headers["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength);
  return new Promise<Response>((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(target, { method: init?.method ?? "GET", headers, agent: tls ? httpsAgent : httpAgent });
    let res: IncomingMessage | undefined;
    const onAbort = () => {
      const err = abortError(signal!);
      req.destroy(err);
      res?.destroy(err);
    };
    let ended = false;
    const done = () => {
      if (ended) return;
      ended = true;
      signal?.removeEventListener("abort", onAbort);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    req.once("response", (r) => {
      res = r;
      resolve(answer(target.href, r, done));
    });
    req.once("error", (err) => {
      done();
      reject(signal?.aborted ? abortError(signal) : new TypeError("fetch failed", { cause: err }));
    });
    req.end(body);
  });
}
