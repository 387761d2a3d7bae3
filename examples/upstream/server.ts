/**
 * The sample upstream's HTTP layer (node:http): routing by the spec's paths, its own bearer-token
 * check, body parsing (JSON, form, multipart, raw), request validation, Idempotency-Key replay,
 * and writing JSON, binary and server-sent-event replies.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createEngine, HttpProblem, type Engine, type Handler, type OpRequest, type Reply, type UploadedFile } from "./engine.js";
import { createHandlers, fixupWorkspaceSeed, recordAuditEvent } from "./handlers.js";
import { seedStore } from "./seed.js";
import { loadSpec, type LoadedSpec, type SpecOperation } from "./spec.js";
import { createStore, type Store } from "./store.js";
import { createValidator, rawParam, type Problem, type Validator } from "./validate.js";

/** Options of `startUpstream`. */
export interface UpstreamOptions {
  /** Path to the OpenAPI file, or an already loaded spec. */
  spec: string | LoadedSpec;
  port?: number;
  host?: string;
  /** Where collections, uploads and idempotency keys are kept. */
  dataDir: string;
  /** The bearer token callers must present. */
  token: string;
  /** Seed of the demo data (default 42). */
  seed?: number;
  /** Log one line per request to stderr. */
  log?: boolean;
  /** fsync every write (default true); tests that make hundreds of writes may turn it off. */
  durable?: boolean;
}

/** A running sample upstream. */
export interface RunningUpstream {
  /** Origin, e.g. `http://127.0.0.1:4010` (the spec's base path is joined by clients). */
  url: string;
  /** Origin plus the spec's base path, e.g. `http://127.0.0.1:4010/v1`. */
  baseUrl: string;
  engine: Engine;
  /** The request validator (tests reuse it to check responses against the same compiled spec). */
  validator: Validator;
  close(): Promise<void>;
}

const MAX_BODY = 20 * 1024 * 1024;
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

interface Route {
  op: SpecOperation;
  regex: RegExp;
  names: string[];
  literals: number;
}

function compileRoutes(spec: LoadedSpec): Route[] {
  const routes = spec.operations.map((op) => {
    const names: string[] = [];
    const parts = op.path.split("/").filter(Boolean);
    const pattern = parts
      .map((seg) =>
        seg.replace(/\{([^}]+)\}|[^{]+/g, (m, name?: string) => {
          if (name) {
            names.push(name);
            return "([^/]+)";
          }
          return m.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        }),
      )
      .join("/");
    return { op, regex: new RegExp(`^/${pattern}/?$`), names, literals: parts.filter((p) => !p.includes("{")).length };
  });
  // Literal segments win over parameters: /users/me before /users/{user_id}.
  return routes.sort((a, b) => b.literals - a.literals || a.names.length - b.names.length);
}

function problemBody(status: number, title: string, detail?: string, errors?: { pointer: string; message: string }[]) {
  return {
    type: status === 400 ? "https://workspace.example.com/problems/validation" : "about:blank",
    title,
    status,
    ...(detail ? { detail } : {}),
    ...(errors && errors.length ? { errors } : {}),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpProblem(413, "Payload Too Large", `request bodies are limited to ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
}

/** Drops Idempotency-Key entries older than their 24-hour lifetime. */
function pruneIdempotency(store: Store): void {
  const now = Date.now();
  for (const rec of store.all("_idempotency")) {
    if (now - Date.parse(String(rec.created_at)) > IDEMPOTENCY_TTL_MS && typeof rec.key_id === "string") store.delete("_idempotency", rec.key_id);
  }
  store.commit();
}

/** Starts the sample upstream; resolves once it listens. */
export async function startUpstream(options: UpstreamOptions): Promise<RunningUpstream> {
  if (!options.token) throw new Error("startUpstream: token is required");
  if (!options.dataDir) throw new Error("startUpstream: dataDir is required");
  const spec = typeof options.spec === "string" ? await loadSpec(options.spec) : options.spec;
  const store = createStore(options.dataDir, { durable: options.durable });
  const engine = createEngine(spec, store, { seed: options.seed });
  // The per-operation handlers are written for the bundled workspace spec; other specs get the generic engine.
  const isWorkspace = (spec.doc.info as { title?: string } | undefined)?.title === "Workspace API";
  if (seedStore(engine) && isWorkspace) fixupWorkspaceSeed(engine);
  pruneIdempotency(store);
  const validator = createValidator(spec);
  const handlers: Record<string, Handler> = isWorkspace ? createHandlers() : {};
  const routes = compileRoutes(spec);
  const inflight = new Map<string, Promise<void>>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    let path = url.pathname;
    if (spec.basePath && (path === spec.basePath || path.startsWith(`${spec.basePath}/`))) path = path.slice(spec.basePath.length) || "/";
    const method = (req.method ?? "GET").toUpperCase();
    const candidates = routes.filter((r) => r.regex.test(path));
    const route = candidates.find((r) => r.op.method === method);
    if (!route) {
      if (candidates.length > 0) {
        res.setHeader("Allow", [...new Set(candidates.map((c) => c.op.method))].join(", "));
        return send(res, { status: 405, body: problemBody(405, "Method Not Allowed", `${method} is not allowed on ${url.pathname}`) }, true);
      }
      return send(res, { status: 404, body: problemBody(404, "Not Found", `no operation matches ${method} ${url.pathname}`) }, true);
    }
    const op = route.op;
    const auth = req.headers.authorization ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    const token = m?.[1]?.trim() ?? "";
    if (op.secured && (!token || !sameSecret(token, options.token))) {
      res.setHeader("WWW-Authenticate", `Bearer realm="workspace"${token ? ', error="invalid_token"' : ""}`);
      return send(res, { status: 401, body: problemBody(401, "Unauthorized", token ? "the bearer token is not valid" : "send Authorization: Bearer <token>") }, true);
    }

    const match = route.regex.exec(path)!;
    const problems: Problem[] = [];
    const pathParams: Record<string, string> = {};
    route.names.forEach((n, i) => (pathParams[n] = decodeURIComponent(match[i + 1])));
    const query: Record<string, unknown> = {};
    const headers: Record<string, unknown> = {};
    const cookies = parseCookies(req.headers.cookie);
    for (const param of op.parameters) {
      const raw = param.in === "path" ? pathParams[param.name] : rawParam(spec.doc, param, url.searchParams, req.headers, cookies);
      if (raw === undefined) {
        if (param.required) problems.push({ in: param.in === "cookie" ? "header" : param.in, name: param.name, message: `missing required ${param.in} parameter '${param.name}'` });
        continue;
      }
      const checked = validator.checkParam(param, raw);
      problems.push(...checked.problems);
      if (param.in === "query") query[param.name] = checked.value;
      else if (param.in === "header") headers[param.name.toLowerCase()] = checked.value;
      else if (param.in === "path") pathParams[param.name] = String(checked.value);
    }
    // Headers the engine honours even when an operation does not declare them.
    for (const h of ["if-match", "idempotency-key", "accept"]) if (headers[h] === undefined && req.headers[h] !== undefined) headers[h] = req.headers[h];

    let body: unknown;
    const files: Record<string, UploadedFile> = {};
    const raw = method === "GET" || method === "HEAD" ? Buffer.alloc(0) : await readBody(req);
    if (op.requestBody) {
      const ctype = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
      if (raw.length === 0) {
        if (op.requestBody.required) problems.push({ in: "body", name: "/", message: "a request body is required" });
      } else {
        const media =
          op.requestBody.content.find((c) => c.mediaType.toLowerCase() === ctype) ??
          op.requestBody.content.find((c) => c.mediaType.endsWith("/*") && ctype.startsWith(c.mediaType.slice(0, -1))) ??
          (ctype === "" ? op.requestBody.content[0] : undefined);
        if (!media) {
          return send(res, { status: 415, body: problemBody(415, "Unsupported Media Type", `send one of: ${op.requestBody.content.map((c) => c.mediaType).join(", ")}`) }, true);
        }
        let coerce = false;
        if (/json/.test(media.mediaType)) {
          try {
            body = JSON.parse(raw.toString("utf8"));
          } catch (err) {
            return send(res, { status: 400, body: problemBody(400, "Bad Request", `the body is not valid JSON: ${(err as Error).message}`, [{ pointer: "/body", message: "invalid JSON" }]) }, true);
          }
        } else if (media.mediaType === "multipart/form-data") {
          const form = await new Request("http://upstream.local/", { method: "POST", headers: { "content-type": String(req.headers["content-type"]) }, body: new Uint8Array(raw) }).formData().catch(() => undefined);
          if (!form) return send(res, { status: 400, body: problemBody(400, "Bad Request", "the multipart body could not be parsed", [{ pointer: "/body", message: "invalid multipart/form-data" }]) }, true);
          const fields: Record<string, unknown> = {};
          for (const [k, v] of form) {
            if (typeof v === "string") fields[k] = v;
            else {
              files[k] = { filename: v.name || k, contentType: v.type || "application/octet-stream", bytes: Buffer.from(await v.arrayBuffer()) };
              fields[k] = v.name || k;
            }
          }
          body = fields;
          coerce = true;
        } else if (media.mediaType === "application/x-www-form-urlencoded") {
          body = Object.fromEntries(new URLSearchParams(raw.toString("utf8")));
          coerce = true;
        } else {
          body = raw;
        }
        if (media.schemaPointer && !Buffer.isBuffer(body)) problems.push(...validator.checkBody(media.schemaPointer, body, coerce));
      }
    }
    if (problems.length > 0) {
      const errors = problems.map((p) => ({ pointer: p.in === "body" ? `/body${p.name === "/" ? "" : p.name}` : `/${p.in}/${p.name}`, message: p.message }));
      return send(res, { status: 400, body: problemBody(400, "Request validation failed", `${problems.length} problem(s) with the request`, errors) }, true);
    }

    const opReq: OpRequest = { op, plan: engine.model.plans.get(op.operationId)!, pathParams, query, headers, body, files, token };
    const run = async (): Promise<Reply> => {
      const handler = handlers[op.operationId];
      try {
        const reply = handler ? await handler(opReq, engine, () => engine.generic(opReq)) : await engine.generic(opReq);
        if (isWorkspace) recordAuditEvent(engine, opReq, reply);
        store.commit();
        return reply;
      } catch (err) {
        store.commit();
        if (err instanceof HttpProblem) return { status: err.status, body: problemBody(err.status, err.title, err.detail, err.errors) };
        throw err;
      }
    };

    const key = method !== "GET" && method !== "HEAD" ? (headers["idempotency-key"] as string | undefined) : undefined;
    if (!key) return send(res, await run(), false);
    const keyId = createHash("sha256").update(`${token}\n${key}`).digest("hex");
    const fingerprint = createHash("sha256").update(`${method} ${path}\n`).update(raw).digest("hex");
    // A concurrent request with the same key waits for the first one, then replays it.
    while (inflight.has(keyId)) await inflight.get(keyId);
    let saved = store.get("_idempotency", keyId);
    // Keys are kept for 24 hours (the spec's promise); after that the key is free again.
    if (saved && Date.now() - Date.parse(String(saved.created_at)) > IDEMPOTENCY_TTL_MS) {
      store.delete("_idempotency", keyId);
      saved = undefined;
    }
    if (saved) {
      if (saved.fingerprint !== fingerprint) {
        return send(res, { status: 422, body: problemBody(422, "Idempotency-Key reused", "this Idempotency-Key was already used with a different request; use a new key") }, true);
      }
      res.setHeader("Idempotent-Replayed", "true");
      return send(res, saved.reply as Reply, Number((saved.reply as Reply).status) >= 400);
    }
    let done!: () => void;
    inflight.set(keyId, new Promise<void>((r) => (done = r)));
    try {
      const reply = await run();
      if (reply.status < 500 && !reply.events && !reply.raw) {
        store.put("_idempotency", keyId, { key_id: keyId, fingerprint, created_at: new Date().toISOString(), reply });
        store.commit();
      }
      return send(res, reply, reply.status >= 400);
    } finally {
      inflight.delete(keyId);
      done();
    }
  }

  function send(res: ServerResponse, reply: Reply, problem: boolean): void {
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    if (reply.events) {
      res.writeHead(reply.status, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
      void (async () => {
        let n = 0;
        for await (const ev of reply.events!) {
          if (res.destroyed) break;
          res.write(`id: ${++n}\n${ev.event ? `event: ${ev.event}\n` : ""}data: ${ev.data}\n\n`);
        }
        res.end();
      })().catch(() => res.destroy());
      return;
    }
    if (reply.raw) {
      res.writeHead(reply.status, { "Content-Type": reply.raw.contentType, "Content-Length": reply.raw.bytes.length });
      res.end(reply.raw.bytes);
      return;
    }
    if (reply.body === undefined || reply.status === 204) {
      res.writeHead(reply.status);
      res.end();
      return;
    }
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { "Content-Type": problem ? "application/problem+json" : "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  }

  const server = createServer((req, res) => {
    const started = Date.now();
    handle(req, res)
      .catch((err: unknown) => {
        if (err instanceof HttpProblem) return send(res, { status: err.status, body: problemBody(err.status, err.title, err.detail, err.errors) }, true);
        process.stderr.write(`upstream: ${req.method} ${req.url} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
        if (!res.headersSent) send(res, { status: 500, body: problemBody(500, "Internal Server Error", "the sample upstream failed; see its log") }, true);
        else res.destroy();
      })
      .finally(() => {
        if (options.log) res.once("finish", () => process.stderr.write(`upstream: ${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms\n`));
      });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const origin = `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
  return {
    url: origin,
    baseUrl: `${origin}${spec.basePath}`,
    engine,
    validator,
    close: () =>
      new Promise<void>((resolve) => {
        store.commit();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
