/**
 * The generic engine: answers any operation of a spec from its plan (model.ts) against the store,
 * with records synthesized from the spec's schemas. Per-operation handlers (handlers.ts) override
 * or post-process it where an operation's description asks for more than the convention gives.
 */
import { createHash, randomUUID } from "node:crypto";
import type { LoadedSpec, Schema, SpecOperation } from "./spec.js";
import { deref, refName } from "./spec.js";
import type { Store, StoredRecord } from "./store.js";
import { allowsNull, createRng, createSynth, flatten, typeOf, type Rng } from "./synth.js";
import { createModel, singular, snake, type Model, type OpPlan, type Resource } from "./model.js";

/** An HTTP-level failure; the server turns it into problem+json. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: { pointer: string; message: string }[],
  ) {
    super(detail ?? title);
  }
}

/** An uploaded file from a multipart body. */
export interface UploadedFile {
  filename: string;
  contentType: string;
  bytes: Buffer;
}

/** Everything a handler knows about one request. */
export interface OpRequest {
  op: SpecOperation;
  plan: OpPlan;
  pathParams: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: unknown;
  files: Record<string, UploadedFile>;
  /** The bearer token the caller presented. */
  token: string;
}

/** What a handler answers. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** JSON body (omitted for 204). */
  body?: unknown;
  /** Raw bytes with their content type (binary downloads, exports). */
  raw?: { contentType: string; bytes: Buffer };
  /** Server-sent events: each yielded string is one event's data. */
  events?: AsyncIterable<{ event?: string; data: string }>;
}

/** A per-operation handler; `generic` runs the conventional behaviour. */
export type Handler = (req: OpRequest, engine: Engine, generic: () => Promise<Reply>) => Promise<Reply>;

const DONE_LIKE = ["done", "completed", "complete", "closed", "resolved", "fulfilled", "delivered", "approved", "paid"];
const CANCEL_LIKE = ["cancelled", "canceled", "archived", "rejected", "void"];
const PAGING_PARAMS = new Set(["limit", "cursor", "page", "per_page", "page_size", "offset", "sort", "order", "order_by", "q", "query", "search", "expand", "fields", "include"]);

/** Verbs of action endpoints → the state they put an item in. */
const VERB_STATES: Record<string, { status?: string[]; onlyFrom?: string[]; flags?: Record<string, unknown>; stamp?: string; clear?: string[] }> = {
  archive: { status: ["archived"], flags: { archived: true, is_archived: true }, stamp: "archived_at" },
  unarchive: { status: ["active", "open", "todo"], onlyFrom: ["archived", "deleted", "suspended", "deactivated", "inactive", "disabled"], flags: { archived: false, is_archived: false }, clear: ["archived_at"] },
  restore: { status: ["active", "open", "todo", "draft"], onlyFrom: ["archived", "deleted", "suspended", "deactivated", "inactive", "disabled"], flags: { archived: false, is_archived: false, deleted: false }, clear: ["archived_at", "deleted_at"] },
  complete: { status: DONE_LIKE, flags: { completed: true, done: true }, stamp: "completed_at" },
  close: { status: ["closed", "done", "resolved"], stamp: "closed_at" },
  resolve: { status: ["resolved", "done", "closed"], stamp: "resolved_at" },
  reopen: { status: ["open", "todo", "active", "in_progress"], flags: { completed: false, done: false }, clear: ["completed_at", "closed_at", "resolved_at"] },
  start: { status: ["in_progress", "running", "active", "started"], stamp: "started_at" },
  stop: { status: ["stopped", "completed", "paused", "done"], stamp: "stopped_at" },
  pause: { status: ["paused", "on_hold"], flags: { paused: true } },
  resume: { status: ["active", "running", "in_progress"], onlyFrom: ["archived", "deleted", "suspended", "deactivated", "inactive", "disabled", "paused", "on_hold"], flags: { paused: false } },
  publish: { status: ["published", "active", "live"], flags: { published: true }, stamp: "published_at" },
  unpublish: { status: ["draft", "unpublished"], flags: { published: false }, clear: ["published_at"] },
  approve: { status: ["approved", "accepted"], stamp: "approved_at" },
  reject: { status: ["rejected", "declined"], stamp: "rejected_at" },
  cancel: { status: ["cancelled", "canceled", "void"], stamp: "cancelled_at" },
  submit: { status: ["submitted", "pending_approval", "pending", "in_review"], stamp: "submitted_at" },
  activate: { status: ["active", "enabled"], flags: { active: true, enabled: true } },
  deactivate: { status: ["inactive", "disabled", "deactivated", "suspended"], flags: { active: false, enabled: false }, stamp: "deactivated_at" },
  enable: { status: ["active", "enabled"], flags: { enabled: true, active: true } },
  disable: { status: ["disabled", "inactive", "paused"], flags: { enabled: false, active: false } },
  suspend: { status: ["suspended", "inactive", "disabled"], flags: { active: false }, stamp: "suspended_at" },
  reactivate: { status: ["active", "enabled"], onlyFrom: ["archived", "deleted", "suspended", "deactivated", "inactive", "disabled"], flags: { active: true }, clear: ["suspended_at", "deactivated_at"] },
  read: { flags: { read: true, is_read: true }, stamp: "read_at" },
  unread: { flags: { read: false, is_read: false }, clear: ["read_at"] },
  pin: { flags: { pinned: true, is_pinned: true }, stamp: "pinned_at" },
  unpin: { flags: { pinned: false, is_pinned: false }, clear: ["pinned_at"] },
  lock: { flags: { locked: true }, stamp: "locked_at" },
  unlock: { flags: { locked: false }, clear: ["locked_at"] },
  resend: { status: ["pending", "sent"], stamp: "sent_at" },
  send: { status: ["sent", "delivered"], stamp: "sent_at" },
  ship: { status: ["shipped"], stamp: "shipped_at" },
  receive: { status: ["received", "delivered"], stamp: "received_at" },
  fulfill: { status: ["fulfilled", "completed"], stamp: "fulfilled_at" },
  acknowledge: { status: ["acknowledged"], stamp: "acknowledged_at" },
  retry: { status: ["pending", "queued", "running"] },
  test: {},
  rotate: { stamp: "rotated_at" },
};

/** Creates the engine for a spec and a store. */
export function createEngine(spec: LoadedSpec, store: Store, options: { seed?: number; now?: () => Date } = {}) {
  const doc = spec.doc;
  const model: Model = createModel(spec);
  const now = options.now ?? (() => new Date());
  const rng: Rng = createRng(options.seed ?? 42);
  const synthesizer = createSynth(doc, rng, { now });
  const { synth } = synthesizer;

  /** While seeding, ids come from the seeded random source so the demo data is reproducible. */
  const mode = { seeding: false };
  const stamp = () => now().toISOString().replace(/\.\d{3}Z$/, "Z");

  function resource(name: string): Resource {
    const r = model.resources.get(name);
    if (!r) throw new Error(`no resource ${name}`);
    return r;
  }

  /** Removes engine-internal fields (`__x`) from a record. */
  function publicView(rec: StoredRecord): StoredRecord {
    const out: StoredRecord = {};
    for (const [k, v] of Object.entries(rec)) if (!k.startsWith("__")) out[k] = v;
    return out;
  }

  function idOf(res: Resource, rec: StoredRecord): string {
    return String(rec[res.idField] ?? rec.__id);
  }

  function newId(res: Resource): string {
    const idSchema = res.properties[res.idField] ? flatten(doc, res.properties[res.idField]) : { type: "string", format: "uuid" };
    if (idSchema.format === "uuid" || res.idField === "__id") return mode.seeding ? String(synth({ type: "string", format: "uuid" })) : randomUUID();
    if (typeOf(idSchema) === "integer" || typeOf(idSchema) === "number") {
      return String(store.all(res.name).reduce((max, r) => Math.max(max, Number(r[res.idField]) || 0), 0) + 1);
    }
    // Readable ids (`comm_12`) from the schema, made unique against what is stored.
    for (let n = store.all(res.name).length + 1; ; n++) {
      const id = String(synth(idSchema, { name: res.idField, resource: res.name, index: n }));
      if (!store.get(res.name, id)) return id;
      if (n > store.all(res.name).length + 50) return `${id}-${randomUUID().slice(0, 8)}`;
    }
  }

  /** Fills reference fields (`*_id`, `*_ids`, summary objects) from records that exist. */
  function linkReferences(res: Resource, rec: StoredRecord, index: number, only?: Set<string>): void {
    for (const [field, propSchema] of Object.entries(res.properties)) {
      if (only && !only.has(field)) continue;
      if (field === res.idField) continue;
      const ps = flatten(doc, propSchema);
      const type = typeOf(ps);
      if (/^parent(_[a-z]+)?_id$/.test(field) && field in rec) {
        // Seeded trees stay flat; a dangling parent would be worse than none.
        if (allowsNull(ps)) rec[field] = null;
        continue;
      }
      if (/_ids?$|Ids?$/.test(field)) {
        const target = model.referenceTarget(field);
        if (!target || target === res.name && type !== "array") continue;
        const pool = store.all(target);
        if (pool.length === 0) continue;
        const tres = resource(target);
        if (type === "array") {
          if (!(field in rec)) continue;
          const n = Math.min(pool.length, Math.max((ps.minItems as number) ?? 0, (rec[field] as unknown[] | undefined)?.length ?? 1));
          const numeric = ["integer", "number"].includes(typeOf(flatten(doc, ps.items)) ?? "");
          rec[field] = Array.from({ length: n }, (_, k) => idOf(tres, pool[(index + k) % pool.length])).map((v) => (numeric ? Number(v) : v));
        } else if (rec[field] !== null && (field in rec || (ps.format === "uuid" && rec[field] !== undefined))) {
          rec[field] = asFieldType(res, field, idOf(tres, pool[index % pool.length]));
        }
      } else if ((type === "object" || Array.isArray(ps.anyOf)) && rec[field] && typeof rec[field] === "object" && !Array.isArray(rec[field])) {
        const name = refName(propSchema) ?? refName((deref(doc, propSchema).anyOf as unknown[] | undefined)?.[0]);
        const base = name?.replace(/(Summary|Ref|Reference|Info)$/, "");
        const target = base && base !== name && model.resources.has(base) ? base : model.referenceTarget(`${field}_id`);
        if (!target) continue;
        const pool = store.all(target);
        if (pool.length === 0) continue;
        rec[field] = projectOnto(propSchema, pool[index % pool.length]);
      }
    }
  }

  /** Recomputes read-only `<children>_count` fields from the records that point at each record. */
  function recount(): void {
    for (const res of model.resources.values()) {
      for (const field of Object.keys(res.properties)) {
        const m = /^(.*)_count$/.exec(field);
        if (!m || typeOf(flatten(doc, res.properties[field])) !== "integer") continue;
        const child = model.resourceOfWord(m[1]);
        if (!child || child === res.name) continue;
        const children = store.all(child);
        for (const rec of store.all(res.name)) {
          const id = idOf(res, rec);
          rec[field] = children.filter((c) => Object.values(c).some((v) => v === id || (Array.isArray(v) && v.includes(id)))).length;
          store.put(res.name, id, rec);
        }
      }
    }
  }

  /** Copies the fields of `source` that `schema` declares (a summary view of a record). */
  function projectOnto(schema: unknown, source: StoredRecord): StoredRecord {
    let s = flatten(doc, schema);
    const variants = s.anyOf as unknown[] | undefined;
    if (variants) s = flatten(doc, variants.find((v) => deref(doc, v).type !== "null") ?? {});
    const props = (s.properties ?? {}) as Record<string, unknown>;
    const base = synth(s, { full: false }) as StoredRecord;
    for (const k of Object.keys(props)) if (k in source && source[k] !== undefined) base[k] = source[k];
    return base;
  }

  /** Synthesizes a complete new record of a resource. */
  function blankRecord(res: Resource, index: number): StoredRecord {
    const rec = synth({ $ref: `#/components/schemas/${res.name}` }, { resource: res.name, index, full: true }) as StoredRecord;
    const id = newId(res);
    if (res.idField === "__id") rec.__id = id;
    else rec[res.idField] = asFieldType(res, res.idField, id);
    if ("version" in res.properties) rec.version = 1;
    for (const f of ["created_at", "updated_at"]) if (f in res.properties) rec[f] = stamp();
    if (res.statusField && res.statusValues) {
      const choices = res.statusValues.filter((v) => v !== null);
      const def = flatten(doc, res.properties[res.statusField]).default;
      rec[res.statusField] = def ?? choices[0];
    }
    for (const [k, p] of Object.entries(res.properties)) {
      const ps = flatten(doc, p);
      if (/_at$/.test(k) && allowsNull(ps) && !/created|updated|due|start/.test(k)) rec[k] = null;
      if (/^(archived|deleted|is_archived|is_deleted|locked|pinned)$/.test(k) && typeOf(ps) === "boolean") rec[k] = false;
      if (/_count$/.test(k) && typeOf(ps) === "integer") rec[k] = 0;
    }
    return rec;
  }

  /** A path-parameter string as the type the record's field has (integer ids stay numbers). */
  function asFieldType(res: Resource, field: string, value: string): unknown {
    const ps = res.properties[field] ? flatten(doc, res.properties[field]) : undefined;
    const t = ps ? typeOf(ps) : undefined;
    if ((t === "integer" || t === "number") && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
    return value;
  }

  /** Applies request fields to a record: only declared properties (or all when the schema is open). */
  function applyFields(res: Resource, rec: StoredRecord, fields: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(fields)) {
      if (k === res.idField || k === "version") continue;
      if (k in res.properties) {
        const ps = deref(doc, res.properties[k]);
        if (ps.readOnly === true) continue;
        rec[k] = v;
      } else {
        // `user_id` in a request fills a `user` summary object on the record.
        const m = /^(.*)_id$/.exec(k);
        if (m && m[1] in res.properties && typeof v === "string") {
          const target = model.referenceTarget(k);
          const found = target ? findById(target, v) : undefined;
          if (found) rec[m[1]] = projectOnto(res.properties[m[1]], found);
          else rec[`__${k}`] = v;
        }
      }
    }
  }

  function findById(resourceName: string, id: string): StoredRecord | undefined {
    const res = resource(resourceName);
    return store.get(res.name, id) ?? store.all(res.name).find((r) => String(r[res.idField]) === id);
  }

  /** Finds the item a request addresses (by id param, or by a field named like the param) under its path parents. */
  function findItem(req: OpRequest, resName: string, idParam: string): StoredRecord {
    const res = resource(resName);
    const value = req.pathParams[idParam];
    const underParents = (r: StoredRecord) =>
      req.plan.parents.every((p) => p.param === idParam || r[p.field] === undefined || String(r[p.field]) === req.pathParams[p.param]);
    let rec = store.get(res.name, value);
    if (rec && !underParents(rec)) rec = undefined;
    if (!rec) {
      const viaField = idParam in res.properties && idParam !== res.idField ? idParam : undefined;
      const viaObject = idParam.replace(/_id$/, "");
      rec = store.all(res.name).find(
        (r) =>
          underParents(r) &&
          ((viaField && String(r[viaField]) === value) ||
            (r[viaObject] && typeof r[viaObject] === "object" && String((r[viaObject] as StoredRecord).id) === value) ||
            r[`__${idParam}`] === value ||
            String(r[res.idField]) === value),
      );
    }
    if (!rec) throw new HttpProblem(404, "Not Found", `${res.name} '${value}' does not exist`);
    return rec;
  }

  /** Ensures every parent in the path exists (404 otherwise). */
  function checkParents(req: OpRequest): void {
    for (const p of req.plan.parents) {
      if (!p.resource || p.param === req.plan.idParam) continue;
      if (!findById(p.resource, req.pathParams[p.param])) {
        const res = resource(p.resource);
        const byField = store.all(res.name).some((r) => String(r[res.idField]) === req.pathParams[p.param]);
        if (!byField) throw new HttpProblem(404, "Not Found", `${p.resource} '${req.pathParams[p.param]}' does not exist`);
      }
    }
  }

  function etagOf(rec: StoredRecord): string | undefined {
    return rec.version !== undefined ? `"${String(rec.version)}"` : undefined;
  }

  /** Enforces If-Match on a versioned record (412 on mismatch). */
  function checkIfMatch(req: OpRequest, rec: StoredRecord): void {
    const header = req.headers["if-match"];
    if (header === undefined || rec.version === undefined) return;
    const wanted = String(header)
      .split(",")
      .map((t) => t.trim().replace(/^W\//, ""));
    if (wanted.includes("*")) return;
    if (!wanted.includes(etagOf(rec)!) && !wanted.includes(String(rec.version))) {
      throw new HttpProblem(412, "Precondition Failed", `If-Match ${String(header)} does not match the current version ${etagOf(rec)}; re-read the resource and retry`);
    }
  }

  /** Saves a changed record: bumps the version and updated_at. */
  function touch(res: Resource, rec: StoredRecord): void {
    if (typeof rec.version === "number") rec.version += 1;
    if ("updated_at" in res.properties) rec.updated_at = stamp();
    store.put(res.name, idOf(res, rec), rec);
  }

  function versionHeaders(rec: StoredRecord): Record<string, string> {
    const etag = etagOf(rec);
    return etag ? { ETag: etag } : {};
  }

  /** Shapes a response for one record according to the plan's response shape. */
  function itemReply(plan: OpPlan, rec: StoredRecord, status?: number): Reply {
    const st = status ?? plan.op.success.status;
    if (st === 204 || !plan.responseMedia) return { status: st === 200 && !plan.responseMedia ? 204 : st, headers: versionHeaders(rec) };
    const shape = plan.response;
    let body: unknown;
    if (shape.kind === "resource") body = publicView(rec);
    else if (shape.kind === "wrapped") {
      body = synth(plan.responseMedia.schema, {});
      (body as StoredRecord)[shape.prop] = publicView(rec);
    } else body = overlay(synth(plan.responseMedia.schema, { full: true }), rec, plan.responseMedia.schema);
    return { status: st, headers: versionHeaders(rec), body };
  }

  /** Copies fields of a record onto a synthesized value where names and types agree. */
  function overlay(value: unknown, rec: StoredRecord, schema: unknown): unknown {
    if (!value || typeof value !== "object" || Array.isArray(value)) return value;
    const props = (flatten(doc, schema).properties ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(props)) {
      const v = rec[k];
      if (v === undefined) continue;
      const cur = (value as StoredRecord)[k];
      const ps = flatten(doc, props[k]);
      const ok = cur === undefined ? typeOf(ps) === (Array.isArray(v) ? "array" : v === null ? "null" : typeof v === "number" ? typeOf(ps) : typeof v) : typeof cur === typeof v && Array.isArray(cur) === Array.isArray(v);
      if (ok && (!Array.isArray(ps.enum) || ps.enum.includes(v))) (value as StoredRecord)[k] = v;
    }
    return value;
  }

  // ---------------------------------------------------------------- lists

  /** Items of a collection that match the path parents and the query filters. */
  function filterItems(req: OpRequest, resName: string): StoredRecord[] {
    const res = resource(resName);
    let items = store.all(res.name);
    for (const p of req.plan.parents) {
      const v = req.pathParams[p.param];
      items = items.filter((r) => String(r[p.field]) === v || (Array.isArray(r[p.field]) && (r[p.field] as unknown[]).includes(v)));
    }
    for (const [name, value] of Object.entries(req.query)) {
      if (value === undefined || PAGING_PARAMS.has(name)) continue;
      items = items.filter((r) => matchesFilter(res, r, name, value));
    }
    const q = req.query.q ?? req.query.query ?? req.query.search;
    if (typeof q === "string" && q.trim()) {
      const needle = q.toLowerCase();
      // Nested summaries count too (a member's user name, a comment's author).
      const text = (v: unknown): string => (typeof v === "string" ? v : v && typeof v === "object" ? Object.values(v).map(text).join(" ") : "");
      items = items.filter((r) => text(publicView(r)).toLowerCase().includes(needle));
    }
    // Archived items stay out of default lists unless asked for (status=archived / include_archived).
    if (res.properties.archived !== undefined && req.query.status !== "archived" && req.query.include_archived !== true && req.query.archived === undefined) {
      items = items.filter((r) => r.archived !== true);
    }
    const sort = (req.query.sort ?? req.query.order_by) as string | undefined;
    if (typeof sort === "string") {
      const desc = sort.startsWith("-") || /:desc$/.test(sort);
      const key = sort.replace(/^[-+]/, "").replace(/:(asc|desc)$/, "");
      const rank = (v: unknown) => (key === "priority" && res.properties.priority ? (flatten(doc, res.properties.priority).enum as unknown[]).indexOf(v) : v);
      items = [...items].sort((a, b) => {
        const x = rank(a[key]) as string | number;
        const y = rank(b[key]) as string | number;
        if (x === y) return 0;
        if (x === undefined || x === null) return 1;
        if (y === undefined || y === null) return -1;
        return (x < y ? -1 : 1) * (desc ? -1 : 1);
      });
    }
    return items;
  }

  function matchesFilter(res: Resource, r: StoredRecord, name: string, value: unknown): boolean {
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    const field = name in res.properties ? name : `${name}s` in res.properties ? `${name}s` : undefined;
    if (field) {
      const v = r[field];
      if (Array.isArray(v)) return values.some((x) => v.map(String).includes(x));
      if (v === null || v === undefined) return values.includes("none") || values.includes("null");
      if (v && typeof v === "object") return values.includes(String((v as StoredRecord).id));
      return values.includes(String(v));
    }
    const ref = `${name.replace(/_id$/, "")}`;
    if (r[ref] && typeof r[ref] === "object") return values.includes(String((r[ref] as StoredRecord).id));
    const range = /^(.*?)_?(before|after|from|to|since|until|min|max)$/.exec(name);
    if (range) {
      const [, prefix, dir] = range;
      const key = [prefix, `${prefix}_date`, `${prefix}_at`, "date", "created_at", "started_at", "occurred_at"].find((k) => k && k in res.properties);
      if (!key) return true;
      const v = r[key];
      if (v === null || v === undefined) return false;
      const cmp = String(v).slice(0, String(value).length);
      return ["before", "to", "until", "max"].includes(dir) ? cmp <= String(value) : cmp >= String(value);
    }
    if (name === "overdue" && "due_date" in res.properties) {
      const today = stamp().slice(0, 10);
      const over = r.due_date != null && String(r.due_date) < today && !isClosed(res, r);
      return value === true || value === "true" ? over : !over;
    }
    if (/^(include_|is_)/.test(name)) return true;
    if (`__${name}` in r) return values.includes(String(r[`__${name}`]));
    return true;
  }

  /** Whether a record's status counts as finished (done/cancelled...). */
  function isClosed(res: Resource, r: StoredRecord): boolean {
    if (!res.statusField) return r.completed === true || r.done === true;
    return DONE_LIKE.includes(String(r[res.statusField])) || CANCEL_LIKE.includes(String(r[res.statusField]));
  }

  function decodeCursor(c: unknown): number {
    if (typeof c !== "string" || !c) return 0;
    const n = Number(Buffer.from(c, "base64url").toString("utf8").replace(/^o:/, ""));
    if (!Number.isInteger(n) || n < 0) throw new HttpProblem(400, "Bad Request", "cursor is not valid", [{ pointer: "/query/cursor", message: "not a cursor this API issued" }]);
    return n;
  }

  /** Paginates and wraps items in the operation's list envelope. */
  function listReply(req: OpRequest, items: StoredRecord[], schema?: unknown): Reply {
    const plan = req.plan;
    const limit = Number(req.query.limit ?? req.query.per_page ?? req.query.page_size ?? 25);
    const page = req.query.page !== undefined ? Number(req.query.page) : undefined;
    const offset = page !== undefined ? (page - 1) * limit : req.query.offset !== undefined ? Number(req.query.offset) : decodeCursor(req.query.cursor);
    const slice = items.slice(offset, offset + limit).map(publicView);
    const hasMore = offset + limit < items.length;
    const meta = {
      has_more: hasMore,
      next_cursor: hasMore ? Buffer.from(`o:${offset + limit}`).toString("base64url") : null,
      total: items.length,
      page: page ?? Math.floor(offset / limit) + 1,
      per_page: limit,
      offset,
    };
    const respSchema = schema ?? plan.responseMedia?.schema;
    const s = flatten(doc, respSchema);
    if (typeOf(s) === "array") return { status: plan.op.success.status, body: slice };
    const shape = plan.response.kind === "list" ? plan.response : model.shapeOf(respSchema);
    const body = synth(respSchema, {}) as StoredRecord;
    const arrayProp = shape.kind === "list" ? (shape.arrayProp ?? "data") : "data";
    body[arrayProp] = slice;
    fillMeta(body, s, meta);
    return { status: plan.op.success.status, body };
  }

  function fillMeta(obj: StoredRecord, schema: Schema, meta: Record<string, unknown>, depth = 0): void {
    const props = (schema.properties ?? {}) as Record<string, unknown>;
    for (const [k, p] of Object.entries(props)) {
      const ps = flatten(doc, p);
      const key = k.toLowerCase().replace(/[^a-z]/g, "");
      const pick = (v: unknown) => {
        if (v === null && !allowsNull(ps)) {
          if ((schema.required as string[] | undefined)?.includes(k)) obj[k] = "";
          else delete obj[k];
        } else obj[k] = v;
      };
      if (key === "hasmore") pick(meta.has_more);
      else if (key === "nextcursor" || key === "cursor" || key === "next") pick(meta.next_cursor);
      else if (["total", "totalcount", "count", "totalitems", "totalresults"].includes(key) && typeOf(ps) === "integer") pick(meta.total);
      else if (key === "page" && typeOf(ps) === "integer") pick(meta.page);
      else if (["perpage", "pagesize", "limit"].includes(key)) pick(meta.per_page);
      else if (key === "offset") pick(meta.offset);
      else if (key === "totalpages") pick(Math.max(1, Math.ceil(Number(meta.total) / Number(meta.per_page))));
      else if (typeOf(ps) === "object" && depth < 2 && /meta|pagination|page|paging/.test(key)) {
        if (!obj[k] || typeof obj[k] !== "object") obj[k] = {};
        fillMeta(obj[k] as StoredRecord, ps, meta, depth + 1);
      }
    }
  }

  // ---------------------------------------------------------------- generic operations

  function bodyObject(req: OpRequest): Record<string, unknown> {
    return req.body && typeof req.body === "object" && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
  }

  /** Creates a record of a resource from request fields and path parents. */
  function createRecord(resName: string, fields: Record<string, unknown>, links: Record<string, string> = {}): StoredRecord {
    const res = resource(resName);
    const index = store.all(res.name).length;
    const rec = blankRecord(res, index);
    linkReferences(res, rec, index);
    // What the client did not send takes the schema's default or an empty value, not invented data.
    for (const [k, p] of Object.entries(res.properties)) {
      const ps = flatten(doc, p);
      if (ps.readOnly === true || k === res.idField || k === "version") continue;
      const t = typeOf(ps);
      if (ps.default !== undefined) rec[k] = structuredClone(ps.default);
      else if (allowsNull(ps) || (Array.isArray(ps.anyOf) && (ps.anyOf as Schema[]).some((v) => deref(doc, v).type === "null"))) rec[k] = null;
      else if (t === "array" && !ps.minItems) rec[k] = [];
      else if (t === "object" && !ps.required && !ps.minProperties && (ps.additionalProperties !== undefined || !ps.properties)) rec[k] = {};
      else if (t === "boolean") rec[k] = false;
    }
    for (const [field, value] of Object.entries(links)) {
      if (field in res.properties && typeOf(flatten(doc, res.properties[field])) === "object") {
        const target = model.referenceTarget(`${field}_id`);
        const found = target ? findById(target, value) : undefined;
        if (found) rec[field] = projectOnto(res.properties[field], found);
      } else rec[field] = asFieldType(res, field, value);
    }
    applyFields(res, rec, fields);
    if (res.statusField && fields[res.statusField] !== undefined) rec[res.statusField] = fields[res.statusField];
    store.put(res.name, idOf(res, rec), rec);
    return rec;
  }

  function parentLinks(req: OpRequest): Record<string, string> {
    const links: Record<string, string> = {};
    for (const p of req.plan.parents) links[p.field] = req.pathParams[p.param];
    return links;
  }

  /** Removes a record and the records nested under it. */
  function removeRecord(resName: string, rec: StoredRecord, seen = new Set<string>()): void {
    const res = resource(resName);
    const id = idOf(res, rec);
    if (seen.has(`${resName}:${id}`)) return;
    seen.add(`${resName}:${id}`);
    store.delete(res.name, id);
    for (const plan of model.plans.values()) {
      if (plan.kind !== "list" || !plan.resource || plan.resource === resName) continue;
      const link = plan.parents.find((p) => p.resource === resName);
      if (!link) continue;
      for (const child of store.all(plan.resource)) if (String(child[link.field]) === id) removeRecord(plan.resource, child, seen);
    }
    // References elsewhere: owned children (`project_id` on a task) go too, optional links are cleared,
    // and ids are taken out of lists (`label_ids`), so nothing points at a record that is gone.
    const ownField = `${snake(resName)}_id`;
    for (const other of model.resources.values()) {
      for (const [field, p] of Object.entries(other.properties)) {
        if (!/_ids?$/.test(field) || model.referenceTarget(field) !== resName) continue;
        const ps = flatten(doc, p);
        for (const rec of store.all(other.name)) {
          const v = rec[field];
          if (Array.isArray(v) && v.includes(id)) {
            rec[field] = v.filter((x) => x !== id);
            store.put(other.name, idOf(other, rec), rec);
          } else if (v === id) {
            if (allowsNull(ps)) {
              rec[field] = null;
              store.put(other.name, idOf(other, rec), rec);
            } else if (field === ownField && other.name !== resName) removeRecord(other.name, rec, seen);
          }
        }
      }
    }
  }

  /** Applies an action verb (archive, complete, move...) to a record. */
  function applyVerb(res: Resource, rec: StoredRecord, verb: string, body: Record<string, unknown>): void {
    const key = verb.replace(/^mark[-_]?(as[-_]?)?/, "").replace(/-/g, "_");
    const rule = VERB_STATES[key];
    const fromOk = !rule?.onlyFrom || !res.statusField || rule.onlyFrom.includes(String(rec[res.statusField]));
    if (rule?.status && res.statusField && res.statusValues && fromOk) {
      const wanted = typeof body.status === "string" && res.statusValues.includes(body.status) ? body.status : rule.status.find((s) => res.statusValues!.includes(s));
      if (wanted) rec[res.statusField] = wanted;
    }
    for (const [flag, value] of Object.entries(rule?.flags ?? {})) if (flag in res.properties) rec[flag] = value;
    if (rule?.stamp && rule.stamp in res.properties) rec[rule.stamp] = stamp();
    for (const f of rule?.clear ?? []) if (f in res.properties) rec[f] = allowsNull(flatten(doc, res.properties[f])) ? null : rec[f];
    applyFields(res, rec, body);
  }

  /** The conventional behaviour of an operation. */
  async function generic(req: OpRequest): Promise<Reply> {
    const plan = req.plan;
    const res = plan.resource ? model.resources.get(plan.resource) : undefined;
    switch (plan.kind) {
      case "list": {
        checkParents(req);
        return listReply(req, filterItems(req, plan.resource!));
      }
      case "create": {
        checkParents(req);
        const fields = bodyObject(req);
        for (const [k, f] of Object.entries(req.files)) fields[k] = f.filename;
        const rec = createRecord(plan.resource!, fields, parentLinks(req));
        const file = Object.values(req.files)[0];
        if (file) attachFile(res!, rec, file);
        return itemReply(plan, rec, plan.op.success.status);
      }
      case "read": {
        const rec = findItem(req, plan.resource!, plan.idParam!);
        return itemReply(plan, rec);
      }
      case "update":
      case "replace": {
        const rec = findItem(req, plan.resource!, plan.idParam!);
        checkIfMatch(req, rec);
        applyFields(res!, rec, bodyObject(req));
        touch(res!, rec);
        return itemReply(plan, rec);
      }
      case "delete": {
        const rec = findItem(req, plan.resource!, plan.idParam!);
        checkIfMatch(req, rec);
        removeRecord(plan.resource!, rec);
        return plan.responseMedia ? itemReply(plan, rec) : { status: plan.op.success.status };
      }
      case "action": {
        const rec = findItem(req, plan.resource!, plan.idParam!);
        checkIfMatch(req, rec);
        const verb = plan.verb ?? "";
        if (/^(duplicate|copy|clone)$/.test(verb)) {
          const copy = createRecord(plan.resource!, { ...publicView(rec), ...bodyObject(req) });
          for (const [k, v] of Object.entries(rec)) if (k.startsWith("__")) copy[k] = v;
          for (const p of plan.parents) copy[p.field] = rec[p.field];
          store.put(res!.name, idOf(res!, copy), copy);
          return itemReply(plan, copy, plan.op.success.status);
        }
        if (plan.op.method === "DELETE") {
          // DELETE /x/{id}/verb undoes the verb (e.g. unpin, unstar).
          applyVerb(res!, rec, `un${verb}`, {});
        } else applyVerb(res!, rec, verb, bodyObject(req));
        touch(res!, rec);
        return itemReply(plan, rec);
      }
      case "singleton-read":
      case "singleton-write": {
        const rec = singleton(req);
        if (plan.kind === "singleton-write") {
          const r = resource(plan.resource!);
          checkIfMatch(req, rec);
          applyFields(r, rec, bodyObject(req));
          touch(r, rec);
        }
        return itemReply(plan, rec);
      }
      default:
        return custom(req);
    }
  }

  /** Stores an uploaded file's bytes under the record's id and fills its file metadata fields. */
  function attachFile(res: Resource, rec: StoredRecord, file: UploadedFile): void {
    const id = idOf(res, rec);
    store.put("_blobs", id, { filename: file.filename, content_type: file.contentType, size: file.bytes.length, base64: file.bytes.toString("base64") });
    const set = (names: string[], value: unknown) => {
      for (const n of names) if (n in res.properties) rec[n] = value;
    };
    set(["filename", "file_name", "name"], file.filename);
    set(["size", "size_bytes", "byte_size", "bytes"], file.bytes.length);
    set(["content_type", "mime_type", "media_type"], file.contentType);
    set(["checksum", "sha256"], createHash("sha256").update(file.bytes).digest("hex"));
    store.put(res.name, id, rec);
  }

  /** Streams an answer as server-sent events: a few text deltas, then a final event. */
  function streamReply(req: OpRequest, answer: string, final: Record<string, unknown>, delayMs = 40): Reply {
    const words = answer.split(/(?<=\s)/);
    const chunks: string[] = [];
    for (let i = 0; i < words.length; i += 4) chunks.push(words.slice(i, i + 4).join(""));
    async function* events() {
      for (const [i, text] of chunks.entries()) {
        await new Promise((r) => setTimeout(r, delayMs));
        yield { event: "delta", data: JSON.stringify({ type: "delta", index: i, text }) };
      }
      await new Promise((r) => setTimeout(r, delayMs));
      yield { event: "done", data: JSON.stringify({ type: "done", ...final }) };
    }
    return { status: req.op.success.status, events: events() };
  }

  /** A singleton record (`/users/me`, `/organization/settings`): an existing record, or one created on first use. */
  function singleton(req: OpRequest): StoredRecord {
    const plan = req.plan;
    const res = resource(plan.resource!);
    const key = `__singleton:${plan.op.path}`;
    const existing = store.all(res.name).find((r) => r.__singleton === key);
    if (existing) return existing;
    if (/(^|\/)me($|\/)/.test(plan.op.path) && store.all(res.name).length > 0) return store.all(res.name)[0];
    const rec = blankRecord(res, 0);
    linkReferences(res, rec, 0);
    rec.__singleton = key;
    store.put(res.name, idOf(res, rec), rec);
    return rec;
  }

  // ---------------------------------------------------------------- custom operations

  /** Collections related to an operation: named by its path words, or children of its path parent. */
  function relatedResources(req: OpRequest): { res: Resource; items: StoredRecord[] }[] {
    const plan = req.plan;
    const out: { res: Resource; items: StoredRecord[] }[] = [];
    const words = [...plan.words].reverse();
    const parentParam = plan.parents[plan.parents.length - 1];
    const parentRes = parentParam?.resource;
    const parentId = parentParam ? req.pathParams[parentParam.param] : undefined;
    const scoped = (res: Resource) => {
      let items = store.all(res.name);
      if (parentRes && parentId) {
        const field = `${snake(parentRes)}_id`;
        const link = [parentParam.param, field].find((f) => f in res.properties) ?? (res.name === parentRes ? res.idField : undefined);
        if (link) items = items.filter((r) => String(r[link]) === parentId || (Array.isArray(r[link]) && (r[link] as unknown[]).includes(parentId)));
      }
      for (const [name, value] of Object.entries(req.query)) {
        if (value === undefined || PAGING_PARAMS.has(name)) continue;
        items = items.filter((r) => matchesFilter(res, r, name, value));
      }
      return items;
    };
    for (const w of words) {
      const name = model.resourceOfWord(w);
      if (name && name !== parentRes && !out.some((o) => o.res.name === name)) out.push({ res: resource(name), items: scoped(resource(name)) });
    }
    if (parentRes) {
      for (const res of model.resources.values()) {
        if (out.some((o) => o.res.name === res.name)) continue;
        if (parentParam.param in res.properties || `${snake(parentRes)}_id` in res.properties) out.push({ res, items: scoped(res) });
      }
      out.sort((a, b) => Number(!!b.res.statusField) - Number(!!a.res.statusField));
    }
    return out;
  }

  /** Fills numeric fields of a synthesized report from counts over related records. */
  function fillCounts(value: unknown, schema: unknown, related: { res: Resource; items: StoredRecord[] }[], depth = 0): unknown {
    const s = flatten(doc, schema);
    if (!value || typeof value !== "object" || Array.isArray(value) || depth > 3) return value;
    const obj = value as StoredRecord;
    const main = related[0];
    const props = (s.properties ?? {}) as Record<string, unknown>;
    const today = stamp().slice(0, 10);
    for (const [k, p] of Object.entries(props)) {
      const ps = flatten(doc, p);
      const t = typeOf(ps);
      const name = k.toLowerCase();
      if (!main) break;
      const { res, items } = main;
      const max = typeof ps.maximum === "number" ? ps.maximum : Infinity;
      const clamp = (n: number) => Math.max(typeof ps.minimum === "number" ? ps.minimum : -Infinity, Math.min(max, n));
      if (t === "integer" || t === "number") {
        const statusHit = res.statusValues?.find((v) => name === v || name === `${v}_count` || name.startsWith(`${v}_`));
        const other = related.find((r) => name.includes(snake(r.res.name)) || name.includes(singular(snake(r.res.name))));
        let n: number | undefined;
        if (/percent|rate|ratio|progress/.test(name)) {
          const done = items.filter((r) => res.statusField && DONE_LIKE.includes(String(r[res.statusField]))).length;
          const all = items.filter((r) => !res.statusField || !CANCEL_LIKE.includes(String(r[res.statusField]))).length;
          const ratio = all === 0 ? 0 : done / all;
          n = max <= 1 ? Math.round(ratio * 1000) / 1000 : Math.round(ratio * 1000) / 10;
        } else if (/overdue/.test(name)) n = items.filter((r) => r.due_date != null && String(r.due_date) < today && !isClosed(res, r)).length;
        else if (/unassigned/.test(name)) n = items.filter((r) => !isClosed(res, r) && (r.assignee_id == null && (!Array.isArray(r.assignee_ids) || r.assignee_ids.length === 0))).length;
        else if (/completed|done|closed|resolved/.test(name)) n = items.filter((r) => res.statusField && DONE_LIKE.includes(String(r[res.statusField]))).length;
        else if (/open|active|pending|remaining/.test(name) && !statusHit) n = items.filter((r) => !isClosed(res, r)).length;
        else if (statusHit && res.statusField) n = items.filter((r) => r[res.statusField!] === statusHit).length;
        else if (/hours|minutes|seconds|duration|amount|value|quantity|sum/.test(name)) {
          const src = related.find((r) => Object.keys(r.res.properties).some((f) => /minutes|hours|seconds|duration|quantity|amount/.test(f)));
          if (src) {
            const f = Object.keys(src.res.properties).find((x) => /minutes|hours|seconds|duration|quantity|amount/.test(x))!;
            let total = src.items.reduce((acc, r) => acc + (typeof r[f] === "number" ? (r[f] as number) : 0), 0);
            if (/hours/.test(name) && /minutes/.test(f)) total = total / 60;
            if (/minutes/.test(name) && /seconds/.test(f)) total = total / 60;
            n = t === "integer" ? Math.round(total) : Math.round(total * 100) / 100;
          }
        } else if (other && other !== main) n = other.items.length;
        else if (/total|count|^n_|number/.test(name) || name === snake(res.name) + "s") n = items.filter((r) => !res.statusField || !/^total/.test(name) || String(r[res.statusField]) !== "cancelled" || !res.statusValues?.includes("cancelled")).length;
        if (n !== undefined) obj[k] = t === "integer" ? clamp(Math.round(n)) : clamp(n);
      } else if (t === "object" && /^by_|_by_|breakdown|counts|per_/.test(name) && ps.additionalProperties) {
        const field = name.replace(/^.*by_/, "").replace(/^counts?$/, res.statusField ?? "status");
        const key = [field, `${field}_id`, `${field}_ids`].find((f) => f in res.properties) ?? res.statusField;
        if (!key) continue;
        const counts: Record<string, number> = {};
        const open = /priority/.test(field) && /open/.test(String(ps.description ?? ""));
        for (const r of items) {
          if (open && isClosed(res, r)) continue;
          const vs = Array.isArray(r[key]) ? (r[key] as unknown[]) : [r[key]];
          for (const v of vs) if (v !== undefined && v !== null) counts[String(v)] = (counts[String(v)] ?? 0) + 1;
        }
        obj[k] = counts;
      } else if (t === "object" && obj[k]) {
        fillCounts(obj[k], p, related, depth + 1);
      }
    }
    return obj;
  }

  /** Bulk operations: apply the change to each id (or each item) in the body and report per item. */
  function bulk(req: OpRequest): Reply {
    const plan = req.plan;
    const body = bodyObject(req);
    const resName = plan.resource ?? [...plan.words].reverse().map((w) => model.resourceOfWord(w)).find(Boolean);
    if (!resName) return synthReply(req);
    const res = resource(resName);
    const deleting = /delete|remove|destroy/i.test(plan.op.operationId + plan.op.path);
    const entries: { id: string; changes: Record<string, unknown> }[] = [];
    const idList = Object.entries(body).find(([k, v]) => /ids$/.test(k) && Array.isArray(v))?.[1] as string[] | undefined;
    const changes = (Object.entries(body).find(([k, v]) => /^(changes|patch|update|updates|fields|set|data)$/.test(k) && v && typeof v === "object" && !Array.isArray(v))?.[1] ?? {}) as Record<string, unknown>;
    const rest = Object.fromEntries(Object.entries(body).filter(([k, v]) => !/ids$/.test(k) && v !== changes && !Array.isArray(v)));
    if (idList) for (const id of idList) entries.push({ id, changes: { ...rest, ...changes } });
    const list = Object.values(body).find((v) => Array.isArray(v) && v.length > 0 && typeof v[0] === "object") as Record<string, unknown>[] | undefined;
    if (list)
      for (const it of list) {
        const id = String(it.id ?? it[`${snake(res.name)}_id`] ?? "");
        const inner = (it.changes ?? it.patch ?? it.fields) as Record<string, unknown> | undefined;
        const { id: _i, ...own } = it;
        entries.push({ id, changes: inner ?? own });
      }
    const results: { id: string; ok: boolean; error: string | null; record?: StoredRecord }[] = [];
    const verb = /move/i.test(plan.op.operationId) ? "move" : /archive/i.test(plan.op.operationId) ? "archive" : /complete/i.test(plan.op.operationId) ? "complete" : /assign/i.test(plan.op.operationId) ? "assign" : "";
    for (const e of entries) {
      const rec = findById(res.name, e.id);
      if (!rec) {
        results.push({ id: e.id, ok: false, error: `${res.name} '${e.id}' does not exist` });
        continue;
      }
      if (deleting) removeRecord(res.name, rec);
      else {
        if (verb) applyVerb(res, rec, verb, e.changes);
        else applyFields(res, rec, e.changes);
        if (Array.isArray(e.changes.add_label_ids) && Array.isArray(rec.label_ids)) rec.label_ids = [...new Set([...(rec.label_ids as string[]), ...(e.changes.add_label_ids as string[])])];
        if (Array.isArray(e.changes.assignee_ids) && verb === "assign") rec.assignee_ids = e.changes.assignee_ids;
        touch(res, rec);
      }
      results.push({ id: e.id, ok: true, error: null, record: rec });
    }
    const succeeded = results.filter((r) => r.ok).length;
    const failed = results.length - succeeded;
    const schema = plan.responseMedia?.schema;
    const out = synth(schema, { full: false }) as StoredRecord;
    const props = (flatten(doc, schema).properties ?? {}) as Record<string, unknown>;
    for (const [k, p] of Object.entries(props)) {
      const n = k.toLowerCase();
      if (/^(succeeded|updated|deleted|processed|count|affected|success_count|moved|archived|created)$/.test(n)) out[k] = succeeded;
      else if (/^(failed|failure_count|errors_count)$/.test(n)) out[k] = failed;
      else if (n === "status" && Array.isArray(flatten(doc, p).enum)) {
        const en = flatten(doc, p).enum as string[];
        out[k] = failed === 0 ? en.find((x) => /complete|success|done|ok/.test(x)) ?? en[0] : succeeded === 0 ? en.find((x) => /fail/.test(x)) ?? en[0] : en.find((x) => /partial/.test(x)) ?? en[0];
      } else if (n === "results") {
        const itemSchema = flatten(doc, flatten(doc, p).items);
        const ip = (itemSchema.properties ?? {}) as Record<string, unknown>;
        out[k] = results.map((r) => {
          const row: StoredRecord = {};
          if ("id" in ip) row.id = r.id;
          if ("ok" in ip) row.ok = r.ok;
          if ("error" in ip) row.error = r.error;
          if ("status" in ip) row.status = r.ok ? "ok" : "failed";
          return row;
        });
      } else if (/^(data|items|tasks)$/.test(n) && typeOf(flatten(doc, p)) === "array") out[k] = results.filter((r) => r.record && !deleting).map((r) => publicView(r.record!));
    }
    if ("job_id" in props) {
      const job: StoredRecord = { id: String(out.job_id), kind: "bulk", operation: plan.op.operationId, result: out, created_at: stamp() };
      store.put("_bulk_jobs", String(out.job_id), job);
    }
    return { status: plan.op.success.status, body: out };
  }

  /** Answers from the response schema (what a fallback op returns), with counts filled in. */
  function synthReply(req: OpRequest): Reply {
    const plan = req.plan;
    const status = plan.op.success.status;
    if (!plan.responseMedia) {
      const media = plan.op.success.content[0];
      if (media && !/json/.test(media.mediaType)) return { status, raw: { contentType: media.mediaType, bytes: Buffer.from(JSON.stringify(exportAll())) } };
      return { status };
    }
    const related = relatedResources(req);
    const schema = plan.responseMedia.schema;
    const value = synth(schema, { full: true });
    return { status, body: fillCounts(value, schema, related) };
  }

  function exportAll(): Record<string, unknown[]> {
    const out: Record<string, unknown[]> = {};
    for (const name of model.resources.keys()) out[name] = store.all(name).map(publicView);
    return out;
  }

  /** Operations that fit no convention: bulk ops, reports, searches, uploads and downloads. */
  async function custom(req: OpRequest): Promise<Reply> {
    const plan = req.plan;
    if (/bulk|batch/i.test(plan.op.path + plan.op.operationId) && plan.op.method !== "GET") return bulk(req);
    const media = plan.op.success.content[0];
    if (plan.op.success.content.some((m) => m.mediaType === "text/event-stream")) {
      const counts = [...model.resources.keys()].slice(0, 3).map((n) => `${store.all(n).length} ${snake(n).replace(/_/g, " ")} records`);
      const msg = JSON.stringify(bodyObject(req).message ?? bodyObject(req).content ?? "");
      return streamReply(req, `You asked ${msg}. This workspace currently holds ${counts.join(", ")}. Ask me about a project or a task.`, { finish_reason: "stop" });
    }
    if (media && !/json/.test(media.mediaType)) {
      // A download: the bytes of an uploaded file when the path names one, else an export of the store.
      for (const p of plan.parents) {
        const blob = store.get("_blobs", req.pathParams[p.param]);
        if (blob) return { status: plan.op.success.status, raw: { contentType: String(blob.content_type ?? media.mediaType), bytes: Buffer.from(String(blob.base64), "base64") } };
      }
      return { status: plan.op.success.status, raw: { contentType: media.mediaType, bytes: Buffer.from(JSON.stringify(exportAll(), null, 2)) } };
    }
    if (plan.parents.length === 0 && ["GET", "PUT", "PATCH"].includes(plan.op.method) && plan.responseMedia) {
      // Settings-like documents (`/notification-preferences`): one stored object per path.
      const key = plan.op.path;
      let current = store.get("_singletons", key)?.value as StoredRecord | undefined;
      const fresh = !current;
      if (!current) current = synth(plan.responseMedia.schema, { full: true }) as StoredRecord;
      if (plan.op.method !== "GET" && current && typeof current === "object") {
        const changes = bodyObject(req);
        for (const [k, v] of Object.entries(changes)) {
          const prev = current[k];
          current[k] = v && typeof v === "object" && !Array.isArray(v) && prev && typeof prev === "object" && !Array.isArray(prev) ? { ...(prev as StoredRecord), ...(v as StoredRecord) } : v;
        }
        if ("updated_at" in current) current.updated_at = stamp();
      }
      if (fresh || plan.op.method !== "GET") store.put("_singletons", key, { value: current });
      return { status: plan.op.success.status, body: current };
    }
    if (plan.response.kind === "list") {
      // A list in an unusual place (a search, a report): filter by the path parents the items carry.
      const listed = resource(plan.response.resource);
      const parents = plan.parents.filter((p) => p.field in listed.properties);
      return listReply({ ...req, plan: { ...plan, parents } }, filterItems({ ...req, plan: { ...plan, parents } }, listed.name));
    }
    return synthReply(req);
  }

  return {
    mode,
    spec,
    model,
    store,
    synth,
    rng,
    now,
    stamp,
    generic,
    resource,
    publicView,
    idOf,
    findById,
    findItem,
    checkIfMatch,
    checkParents,
    touch,
    itemReply,
    listReply,
    filterItems,
    createRecord,
    removeRecord,
    applyFields,
    applyVerb,
    linkReferences,
    projectOnto,
    blankRecord,
    fillCounts,
    relatedResources,
    synthReply,
    bulk,
    exportAll,
    attachFile,
    streamReply,
    recount,
    asFieldType,
    isClosed,
    versionHeaders,
  };
}

export type Engine = ReturnType<typeof createEngine>;
