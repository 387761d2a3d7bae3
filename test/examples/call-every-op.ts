/**
 * Test helper: calls every operation of a spec against a running sample upstream with valid input
 * built from the spec (ids of existing records for path parameters, synthesized bodies), and
 * checks each answer's status and body against the spec.
 */
import type { RunningUpstream } from "../../examples/upstream/server.js";
import type { SpecOperation } from "../../examples/upstream/spec.js";
import { deref } from "../../examples/upstream/spec.js";
import { createRng, createSynth, flatten, typeOf } from "../../examples/upstream/synth.js";

export interface OpOutcome {
  operationId: string;
  method: string;
  path: string;
  status: number;
  problems: string[];
}

/** Adjusts the generated input of one operation so it is valid in the current state. */
export type Prepare = (input: { pathParams: Record<string, string>; body: unknown; call: (method: string, path: string, body?: unknown) => Promise<Response> }) => Promise<void> | void;

/** Calls each operation once; DELETEs run last so the records other calls use still exist. */
export async function callEveryOperation(up: RunningUpstream, token: string, prepare: Record<string, Prepare> = {}): Promise<OpOutcome[]> {
  const engine = up.engine;
  const spec = engine.spec;
  const doc = spec.doc;
  const validator = up.validator;
  const synth = createSynth(doc, createRng(7), { now: () => new Date() }).synth;
  const model = engine.model;
  const ordered = [...spec.operations].sort((a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"));
  const outcomes: OpOutcome[] = [];
  let n = 0;

  /** An id for a path parameter: an existing record of the resource it names, consistent with its parent. */
  function idFor(op: SpecOperation, param: string, chosen: Record<string, string>): string {
    const plan = model.plans.get(op.operationId)!;
    let resName = param === plan.idParam ? plan.resource : plan.parents.find((p) => p.param === param)?.resource;
    if (!resName) resName = model.paramResource.get(param);
    if (!resName && plan.resource) {
      // A parent key that names no collection (a file key): take it from a record that carries it.
      const res = engine.resource(plan.resource);
      const holder = engine.store.all(res.name).find((r) => typeof r[param] === "string" || typeof r[param] === "number");
      if (holder) return String(holder[param]);
    }
    if (!resName) {
      // A path parameter that names no resource (e.g. an emoji or a key): use an example value.
      const p = op.parameters.find((x) => x.name === param && x.in === "path")!;
      return String(synth(p.schema, { name: param }));
    }
    const res = engine.resource(resName);
    let pool = engine.store.all(res.name);
    // Keep nested ids consistent: the item must belong to the parents already chosen.
    for (const link of plan.parents) {
      if (link.param === param || chosen[link.param] === undefined) continue;
      if (resName === plan.resource || param === plan.idParam) {
        const filtered = pool.filter((r) => r[link.field] === undefined || String(r[link.field]) === chosen[link.param]);
        if (filtered.length > 0) pool = filtered;
      }
    }
    if (op.method === "DELETE" && param === plan.idParam && pool.length > 1) return idValue(res, pool[pool.length - 1], param);
    // Prefer a record that actions can still change (not archived/cancelled).
    const usable = pool.find((r) => r.archived !== true && !["archived", "cancelled", "done"].includes(String(r.status))) ?? pool[0];
    if (!usable) throw new Error(`${op.operationId}: no ${resName} record for {${param}}`);
    return idValue(res, usable, param);
  }

  function idValue(res: { idField: string }, rec: Record<string, unknown>, param: string): string {
    const viaObject = rec[param.replace(/_id$/, "")] as Record<string, unknown> | undefined;
    if (param in rec && param !== res.idField && typeof rec[param] === "string") return String(rec[param]);
    if (res.idField === "__id" && viaObject && typeof viaObject === "object") return String(viaObject.id);
    return String(rec[res.idField] ?? rec.__id);
  }

  /** Points `*_id` fields of a synthesized body at records that exist. */
  function fixRefs(value: unknown, schema: unknown): unknown {
    if (!value || typeof value !== "object" || Array.isArray(value)) return value;
    const props = (flatten(doc, schema).properties ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const target = /_ids?$/.test(k) ? model.referenceTarget(k) : undefined;
      if (!target) continue;
      const pool = engine.store.all(target);
      if (pool.length === 0) continue;
      const res = engine.resource(target);
      const ids = pool.map((r) => String(r[res.idField] ?? r.__id));
      if (Array.isArray(v)) (value as Record<string, unknown>)[k] = v.map((_, i) => ids[(i + 1) % ids.length]);
      else if (typeof v === "string" && typeOf(flatten(doc, props[k])) !== undefined) (value as Record<string, unknown>)[k] = ids[1 % ids.length];
    }
    return value;
  }

  for (const op of ordered) {
    const chosen: Record<string, string> = {};
    for (const m of op.path.matchAll(/\{([^}]+)\}/g)) chosen[m[1]] = idFor(op, m[1], chosen);
    let generated: unknown;
    if (op.requestBody) {
      const media = op.requestBody.content.find((c) => /json/.test(c.mediaType)) ?? op.requestBody.content[0];
      generated = fixRefs(synth(media.schema ?? {}, { request: true, full: true, index: n++ }), media.schema);
    }
    const call = (method: string, p: string, b?: unknown) =>
      fetch(`${up.baseUrl}${p}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: b === undefined ? undefined : JSON.stringify(b) });
    const input = { pathParams: chosen, body: generated, call };
    await prepare[op.operationId]?.(input);
    generated = input.body;
    const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(chosen[name]));
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    const qs = new URLSearchParams();
    for (const p of op.parameters) {
      if (p.in === "path" || !p.required) continue;
      if (p.name.toLowerCase() === "if-match") continue;
      const v = synth(p.schema, { name: p.name });
      if (p.in === "query") qs.set(p.name, Array.isArray(v) ? v.join(",") : String(v));
      else if (p.in === "header") headers[p.name] = String(v);
    }
    if (op.parameters.some((p) => p.name.toLowerCase() === "if-match")) {
      const plan = model.plans.get(op.operationId)!;
      const rec = plan.resource && plan.idParam ? engine.findById(plan.resource, chosen[plan.idParam]) : undefined;
      if (rec?.version !== undefined) headers["if-match"] = `"${String(rec.version)}"`;
    }
    let body: BodyInit | undefined;
    if (op.requestBody) {
      const media = op.requestBody.content.find((c) => /json/.test(c.mediaType)) ?? op.requestBody.content[0];
      const value = generated;
      if (/json/.test(media.mediaType)) {
        body = JSON.stringify(value);
        headers["content-type"] = media.mediaType;
      } else if (media.mediaType === "multipart/form-data") {
        const form = new FormData();
        const props = (flatten(doc, media.schema).properties ?? {}) as Record<string, unknown>;
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          const ps = deref(doc, props[k]);
          if (ps.format === "binary" || ps.contentMediaType || ps.contentEncoding) form.set(k, new Blob([Buffer.from(`file body ${k}`)], { type: "text/plain" }), `${k}.txt`);
          else form.set(k, typeof v === "string" ? v : JSON.stringify(v));
        }
        body = form;
      } else if (media.mediaType === "application/x-www-form-urlencoded") {
        body = new URLSearchParams(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
        headers["content-type"] = media.mediaType;
      } else if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
        body = new Uint8Array(value);
        headers["content-type"] = media.mediaType;
      } else {
        body = new Uint8Array(Buffer.from(JSON.stringify({ sample: true })));
        headers["content-type"] = media.mediaType;
      }
    }
    const url = `${up.baseUrl}${path}${qs.size ? `?${qs}` : ""}`;
    const res = await fetch(url, { method: op.method, headers, body });
    const problems: string[] = [];
    const ctype = (res.headers.get("content-type") ?? "").split(";")[0];
    if (res.status < 200 || res.status >= 300) problems.push(`status ${res.status}: ${await res.text()}`);
    else if (ctype === "text/event-stream") {
      const text = await res.text();
      if (!/^data: /m.test(text)) problems.push("event stream without data events");
    } else if (/json/.test(ctype)) {
      const json = (await res.json()) as unknown;
      const check = validator.checkResponse(op, ctype, json);
      if (!check.ok) problems.push(...check.errors.slice(0, 5).map((e) => `response ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`));
    } else {
      const bytes = await res.arrayBuffer();
      if (res.status !== 204 && op.success.content.length > 0 && bytes.byteLength === 0) problems.push("empty body");
      if (res.status === 204 && op.success.content.length > 0) problems.push("204 but the spec declares a body");
    }
    if (res.status !== op.success.status && !(op.success.status === 200 && res.status === 204 && op.success.content.length === 0)) {
      problems.push(`status ${res.status}, spec says ${op.success.status}`);
    }
    outcomes.push({ operationId: op.operationId, method: op.method, path: op.path, status: res.status, problems });
  }
  return outcomes;
}

