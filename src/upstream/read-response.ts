/**
 * Turns an upstream HTTP response into a tool result: JSON → structuredContent + text,
 * text → text, images/audio → image/audio content, other binaries → an embedded resource,
 * multipart answers → one content block per part,
 * event streams relayed live as progress. Bodies over the cap are truncated with a note.
 * Nothing the upstream sends can make this throw, except an abort of the read itself.
 */
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import type { ContentBlock, ProgressSink, ToolResult } from "../context.js";
import { GatewayError, toToolResult } from "../errors.js";
import type { UpstreamResponse } from "./node-fetch.js";

/**
 * How far a request got: `not_sent` (refused, unresolvable, timed out or cancelled before the whole
 * request was written: safe to retry), `sent` (fully written, then no answer: the upstream may have
 * acted on it), `answered` (a status line came back).
 */
export type UpstreamDelivery = "not_sent" | "sent" | "answered";

/** What the upstream answered, raw and as a tool result. */
export interface UpstreamOutcome {
  /** Always `answered` on an outcome; failures carry theirs in the GatewayError (see `deliveryOf`). */
  readonly delivery: "answered";
  readonly status: number;
  /** Response headers, lower-case names. */
  readonly headers: Record<string, string>;
  /** Parsed JSON, a string for textual bodies, bytes otherwise; undefined when empty. */
  readonly body: unknown;
  /** True when the body exceeded the cap and was cut. */
  readonly truncated: boolean;
  /** The tool result to return (an error result when `error` is set). */
  readonly result: ToolResult;
  /** Set for 3xx/4xx/5xx answers: `upstream_error` or the retryable `upstream_unavailable`. */
  readonly error?: GatewayError;
}

export interface ReadOptions {
  readonly maxBytes: number;
  readonly url: string;
  readonly progress?: ProgressSink;
}

const isJson = (mt: string) => /^application\/([\w.+-]+\+)?json$/.test(mt) || mt.endsWith("+json");
const isText = (mt: string) =>
  mt.startsWith("text/") || /^application\/(.*\+)?(xml|yaml|x-yaml|javascript|x-www-form-urlencoded|graphql|csv)$/.test(mt);

/** Reads at most `max` bytes; the rest of the body is cancelled rather than buffered. */
async function readCapped(res: UpstreamResponse, max: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!res.body) return { bytes: new Uint8Array(0), truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > max) {
      chunks.push(value.subarray(0, max - size));
      size = max;
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  // A small body arrives in one chunk: use it as it is rather than copy it.
  const one = chunks.length === 1 && !truncated ? chunks[0]! : undefined;
  return { bytes: one ? asBuffer(one) : Buffer.concat(chunks), truncated };
}

/** A Buffer over the same memory (Buffer.from(uint8Array) would copy it). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function headersOf(res: UpstreamResponse): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The most useful sentence in an error body. */
function upstreamMessage(body: unknown): string {
  if (typeof body === "string") return body.trim().slice(0, 500);
  if (isPlainObject(body)) {
    const err = body.error;
    for (const candidate of [body.message, isPlainObject(err) ? err.message : err, body.detail, body.title, body.error_description]) {
      if (typeof candidate === "string" && candidate.trim()) return candidate.trim().slice(0, 500);
    }
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      const first = body.errors[0];
      const m = isPlainObject(first) ? first.message ?? first.detail : first;
      if (typeof m === "string") return m.slice(0, 500);
    }
    return JSON.stringify(body).slice(0, 500);
  }
  return "";
}

function retryAfter(headers: Record<string, string>): number | undefined {
  const v = headers["retry-after"];
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Maps a non-2xx answer to the gateway's error: 5xx/408/429 are retryable, other 4xx are the caller's to fix. */
function statusError(status: number, statusText: string, headers: Record<string, string>, body: unknown): GatewayError {
  const msg = upstreamMessage(body);
  const label = `${status}${statusText ? ` ${statusText}` : ""}`;
  const details: Record<string, unknown> = { upstream_status: status };
  if (body !== undefined && !(body instanceof Uint8Array)) details.upstream_body = typeof body === "string" ? body.slice(0, 2000) : body;
  const retry = retryAfter(headers);
  if (status >= 500) {
    return new GatewayError("upstream_unavailable", `Upstream unavailable (HTTP ${label})${msg ? `: ${msg}` : ""}`, { details, retryAfterSeconds: retry });
  }
  if (status >= 300 && status < 400) {
    if (headers.location) details.location = headers.location;
    return new GatewayError("upstream_error", `Upstream answered with a redirect (HTTP ${label}) that the gateway does not follow`, { details });
  }
  return new GatewayError("upstream_error", `Upstream answered HTTP ${label}${msg ? `: ${msg}` : ""}`, {
    details,
    retryable: status === 408 || status === 429,
    retryAfterSeconds: status === 429 ? retry : undefined,
  });
}

function truncationNote(max: number): ContentBlock {
  return { type: "text", text: `[truncated: the upstream response exceeded ${max} bytes; only the first ${max} bytes are shown]` };
}

/** One part of a multipart response as a content block (JSON and text parts become text). */
function partBlock(mt: string, bytes: Uint8Array, uri: string): ContentBlock {
  if (isJson(mt) || isText(mt) || mt === "") return { type: "text", text: Buffer.from(bytes).toString("utf8") };
  const data = Buffer.from(bytes).toString("base64");
  if (mt.startsWith("image/")) return { type: "image", data, mimeType: mt };
  if (mt.startsWith("audio/")) return { type: "audio", data, mimeType: mt };
  return { type: "resource", resource: { uri, mimeType: mt, blob: data } };
}

/** Splits a multipart body (RFC 2046) into its parts' media types and bytes; malformed parts are skipped. */
function multipartParts(bytes: Uint8Array, boundary: string): { mediaType: string; body: Uint8Array }[] {
  const buf = Buffer.from(bytes);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { mediaType: string; body: Uint8Array }[] = [];
  let at = buf.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (buf.subarray(start, start + 2).toString() === "--") break;
    const next = buf.indexOf(delimiter, start);
    if (next === -1) break;
    const part = buf.subarray(start, next);
    const split = part.indexOf("\r\n\r\n");
    if (split !== -1) {
      const head = part.subarray(0, split).toString("latin1");
      const ct = /^content-type:\s*([^;\r\n]+)/im.exec(head)?.[1]?.trim().toLowerCase() ?? "text/plain";
      let body = part.subarray(split + 4);
      if (body.subarray(-2).toString() === "\r\n") body = body.subarray(0, -2);
      parts.push({ mediaType: ct, body });
    }
    at = next;
  }
  return parts;
}

/** Builds the success result for a fully (or cap-) read body. */
function successResult(tool: ToolDescriptor, mt: string, bytes: Uint8Array, truncated: boolean, opts: ReadOptions & { contentType: string }, status: number): { body: unknown; result: ToolResult } {
  if (bytes.byteLength === 0) {
    return { body: undefined, result: { content: [{ type: "text", text: `Upstream answered HTTP ${status} with no content.` }] } };
  }
  const note = truncated ? [truncationNote(opts.maxBytes)] : [];
  if (isJson(mt) || (mt === "" && /^\s*[[{]/.test(asBuffer(bytes.subarray(0, 64)).toString("utf8")))) {
    const text = asBuffer(bytes).toString("utf8");
    const parsed = truncated ? ({ ok: false } as const) : tryJson(text);
    if (parsed.ok) {
      const result: ToolResult = { content: [{ type: "text", text: JSON.stringify(parsed.value) }] };
      if (tool.outputSchema && isPlainObject(parsed.value)) result.structuredContent = parsed.value;
      return { body: parsed.value, result };
    }
    return { body: text, result: { content: [{ type: "text", text }, ...note] } };
  }
  if (isText(mt) || mt === "") {
    const text = asBuffer(bytes).toString("utf8");
    return { body: text, result: { content: [{ type: "text", text }, ...note] } };
  }
  const boundary = /^multipart\//.test(mt) ? /boundary="?([^";]+)"?/i.exec(opts.contentType)?.[1] : undefined;
  if (boundary && !truncated) {
    const parts = multipartParts(bytes, boundary);
    if (parts.length > 0) {
      return { body: parts, result: { content: parts.map((p, i) => partBlock(p.mediaType, p.body, `${opts.url}#part-${i + 1}`)) } };
    }
  }
  const kind = mt.startsWith("image/") ? "image" : mt.startsWith("audio/") ? "audio" : undefined;
  if (kind && !truncated) {
    return { body: bytes, result: { content: [{ type: kind, data: Buffer.from(bytes).toString("base64"), mimeType: mt }] } };
  }
  if (kind) {
    return { body: bytes, result: { content: [{ type: "text", text: `[the upstream ${kind} (${mt}) exceeded ${opts.maxBytes} bytes and is not shown]` }] } };
  }
  return {
    body: bytes,
    result: { content: [{ type: "resource", resource: { uri: opts.url, mimeType: mt || "application/octet-stream", blob: Buffer.from(bytes).toString("base64") } }, ...note] },
  };
}

/** One server-sent event. */
interface SseEvent {
  event?: string;
  id?: string;
  data: string;
}

function parseEvent(block: string): SseEvent | undefined {
  const data: string[] = [];
  const ev: SseEvent = { data: "" };
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i === -1 ? line : line.slice(0, i);
    const value = i === -1 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "event") ev.event = value;
    else if (field === "id") ev.id = value;
  }
  if (data.length === 0) return undefined;
  ev.data = data.join("\n");
  return ev;
}

/** Relays each upstream event as progress while collecting them for the final result. */
async function relayEventStream(tool: ToolDescriptor, res: UpstreamResponse, opts: ReadOptions): Promise<{ body: unknown; truncated: boolean; result: ToolResult }> {
  const events: SseEvent[] = [];
  let size = 0;
  let truncated = false;
  let buffer = "";
  const decoder = new TextDecoder();
  const take = (block: string) => {
    const ev = parseEvent(block);
    if (!ev) return;
    opts.progress?.(ev.data.slice(0, 1000), events.length + 1);
    if (size + ev.data.length > opts.maxBytes) {
      truncated = true;
      return;
    }
    size += ev.data.length;
    events.push(ev);
  };
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let m: RegExpExecArray | null;
      while ((m = /\r\n\r\n|\n\n|\r\r/.exec(buffer))) {
        take(buffer.slice(0, m.index));
        buffer = buffer.slice(m.index + m[0].length);
      }
      if (buffer.length > opts.maxBytes) {
        // One event larger than the cap: stop reading rather than buffer without end.
        truncated = true;
        await reader.cancel().catch(() => undefined);
        buffer = "";
        break;
      }
    }
    buffer += decoder.decode();
    if (buffer.trim()) take(buffer);
  }
  const lines = events.map((e) => (e.event && e.event !== "message" ? `[${e.event}] ${e.data}` : e.data));
  const content: ContentBlock[] = [{ type: "text", text: lines.join("\n") || "(the upstream stream carried no events)" }];
  if (truncated) content.push(truncationNote(opts.maxBytes));
  const structured = events.map((e) => {
    const parsed = tryJson(e.data);
    return { ...(e.event ? { event: e.event } : {}), ...(e.id ? { id: e.id } : {}), data: parsed.ok ? parsed.value : e.data };
  });
  const result: ToolResult = { content };
  if (!tool.outputSchema) result.structuredContent = { events: structured };
  return { body: structured, truncated, result };
}

/** Reads an upstream response into an outcome. */
export async function readResponse(tool: ToolDescriptor, res: UpstreamResponse, opts: ReadOptions): Promise<UpstreamOutcome> {
  const headers = headersOf(res);
  const mt = (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  const status = res.status;

  if (status >= 200 && status < 300 && mt === "text/event-stream") {
    const { body, truncated, result } = await relayEventStream(tool, res, opts);
    return { delivery: "answered", status, headers, body, truncated, result };
  }
  const { bytes, truncated } = await readCapped(res, opts.maxBytes);
  if (status >= 200 && status < 300) {
    const { body, result } = successResult(tool, mt, bytes, truncated, { ...opts, contentType: headers["content-type"] ?? "" }, status);
    return { delivery: "answered", status, headers, body, truncated, result };
  }
  const text = Buffer.from(bytes).toString("utf8");
  const parsed = isJson(mt) && !truncated ? tryJson(text) : ({ ok: false } as const);
  const body = bytes.byteLength === 0 ? undefined : parsed.ok ? parsed.value : isText(mt) || isJson(mt) || mt === "" ? text : bytes;
  const error = statusError(status, res.statusText, headers, body);
  return { delivery: "answered", status, headers, body, truncated, result: toToolResult(error), error };
}
