/**
 * Infers a resource model from a spec by convention: which component schemas are stored
 * resources, which path parameters identify them, and what each operation does to them
 * (list, create, read, update, delete, an action on one item, a singleton, or something custom).
 */
import { deref, refName, type LoadedSpec, type Schema, type SpecOperation } from "./spec.js";
import { flatten, typeOf } from "./synth.js";

/** A stored resource type (one collection), named after its component schema. */
export interface Resource {
  name: string;
  /** Properties across allOf parts and oneOf variants. */
  properties: Record<string, unknown>;
  idField: string;
  versioned: boolean;
  statusField?: string;
  statusValues?: string[];
}

/** How a response schema carries resources. */
export type Shape =
  | { kind: "resource"; resource: string }
  | { kind: "list"; resource: string; arrayProp?: string }
  | { kind: "wrapped"; resource: string; prop: string }
  | { kind: "other" };

/** A path parameter that links a nested item to its parent. */
export interface ParentLink {
  param: string;
  /** Field on the child holding the parent id (`__<param>` when the schema has none). */
  field: string;
  resource?: string;
}

export type OpKind = "list" | "create" | "read" | "update" | "replace" | "delete" | "action" | "singleton-read" | "singleton-write" | "custom";

/** What the engine does for one operation. */
export interface OpPlan {
  op: SpecOperation;
  kind: OpKind;
  resource?: string;
  /** Path parameter carrying the item id (read/update/delete/action). */
  idParam?: string;
  parents: ParentLink[];
  /** Last literal path segment (the verb of an action, `stats`, `search`...). */
  verb?: string;
  response: Shape;
  /** JSON media type of the success response, if any. */
  responseMedia?: { mediaType: string; schema?: Schema };
  /** Literal path words, e.g. ['projects', 'tasks'] (used to find related collections). */
  words: string[];
}

/** Lower snake_case of a name (`WikiPage` → `wiki_page`, `time-entries` → `time_entries`). */
export function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[-\s.]+/g, "_")
    .toLowerCase();
}

/** Naive singular of an English plural (`entries` → `entry`, `statuses` → `status`). */
export function singular(word: string): string {
  if (/ies$/.test(word)) return word.replace(/ies$/, "y");
  if (/(ss|us|x|ch|sh)es$/.test(word)) return word.replace(/es$/, "");
  if (/s$/.test(word) && !/(ss|us)$/.test(word)) return word.replace(/s$/, "");
  return word;
}

const ID_NAMES = ["id", "uuid", "key", "slug"];

/** Collects properties of a schema across allOf and oneOf/anyOf variants. */
export function propertiesOf(doc: Schema, schema: unknown, depth = 0): Record<string, unknown> {
  const s = flatten(doc, schema);
  const props: Record<string, unknown> = { ...((s.properties as Record<string, unknown>) ?? {}) };
  const variants = (s.oneOf ?? s.anyOf) as unknown[] | undefined;
  if (variants && depth < 3) for (const v of variants) for (const [k, p] of Object.entries(propertiesOf(doc, v, depth + 1))) if (!(k in props)) props[k] = p;
  return props;
}

function jsonMedia(content: { mediaType: string; schema?: Schema }[]) {
  return content.find((m) => /json/.test(m.mediaType)) ?? undefined;
}

/** Builds the model for a spec. */
export function createModel(spec: LoadedSpec) {
  const doc = spec.doc;
  const components = ((doc.components as Schema | undefined)?.schemas ?? {}) as Record<string, unknown>;
  const candidates = new Map<string, Resource>();
  // Schemas without an id become resources only when they are clearly collection members:
  // listed somewhere, or created at a path whose items can be deleted (memberships, assignments).
  const linkish = new Set<string>();
  for (const op of spec.operations) {
    const schema = op.success.content.find((m) => /json/.test(m.mediaType))?.schema;
    if (!schema) continue;
    const s = flatten(doc, schema);
    const data = s.properties ? deref(doc, (s.properties as Schema).data) : undefined;
    const item = refName(data?.items) ?? refName(s.items);
    if (item) linkish.add(item);
    const direct = refName(schema);
    if (direct && op.method === "POST" && op.success.status === 201 && spec.operations.some((o) => o.method === "DELETE" && o.path.startsWith(`${op.path}/{`))) linkish.add(direct);
  }

  function candidate(name: string): Resource | undefined {
    if (candidates.has(name)) return candidates.get(name);
    if (!(name in components)) return undefined;
    const props = propertiesOf(doc, { $ref: `#/components/schemas/${name}` });
    // Link records without an id of their own (a team membership) are stored under a hidden one.
    const idField = ID_NAMES.find((k) => k in props) ?? (Object.keys(props).length > 0 && linkish.has(name) ? "__id" : undefined);
    if (!idField) return undefined;
    const statusField = ["status", "state"].find((k) => k in props && Array.isArray(flatten(doc, props[k]).enum));
    const res: Resource = {
      name,
      properties: props,
      idField,
      versioned: "version" in props && ["integer", "number", "string"].includes(typeOf(flatten(doc, props.version)) ?? ""),
      statusField,
      statusValues: statusField ? (flatten(doc, props[statusField]).enum as string[]) : undefined,
    };
    candidates.set(name, res);
    return res;
  }

  /** How a schema carries a resource. */
  function shapeOf(schema: unknown): Shape {
    if (!schema) return { kind: "other" };
    const direct = refName(schema);
    if (direct && candidate(direct)) return { kind: "resource", resource: direct };
    const s = flatten(doc, schema);
    if (typeOf(s) === "array") {
      const item = refName(s.items);
      if (item && candidate(item)) return { kind: "list", resource: item };
      return { kind: "other" };
    }
    const props = (s.properties ?? {}) as Record<string, unknown>;
    for (const key of ["data", "items", "results", "records", "entries", ...Object.keys(props)]) {
      const p = props[key];
      if (!p) continue;
      const ps = deref(doc, p);
      if (typeOf(ps) === "array") {
        const item = refName(ps.items) ?? refName((flatten(doc, p).items as Schema) ?? {});
        if (item && candidate(item)) return { kind: "list", resource: item, arrayProp: key };
      }
    }
    for (const key of Object.keys(props)) {
      const name = refName(props[key]);
      if (name && candidate(name) && (["data", "item", "result"].includes(key) || key === snake(name))) return { kind: "wrapped", resource: name, prop: key };
    }
    return { kind: "other" };
  }

  const segs = (path: string) => path.split("/").filter(Boolean);
  const isParam = (seg: string) => /^\{.+\}$/.test(seg);
  const paramName = (seg: string) => seg.slice(1, -1);

  // Pass 1: resources that some operation returns, and which path literal / param names they go by.
  const resources = new Map<string, Resource>();
  const literalResource = new Map<string, string>();
  const paramResource = new Map<string, string>();
  const shapes = new Map<SpecOperation, Shape>();
  for (const op of spec.operations) {
    const media = jsonMedia(op.success.content);
    const shape = shapeOf(media?.schema);
    shapes.set(op, shape);
    if (shape.kind === "other") continue;
    const res = candidate(shape.resource)!;
    resources.set(res.name, res);
    const parts = segs(op.path);
    const last = parts[parts.length - 1];
    if (!last) continue;
    if (isParam(last) && op.method !== "POST") {
      if (!paramResource.has(paramName(last))) paramResource.set(paramName(last), res.name);
      const prev = parts[parts.length - 2];
      if (prev && !isParam(prev) && !literalResource.has(prev)) literalResource.set(prev, res.name);
    } else if (!isParam(last) && shape.kind === "list" && !literalResource.has(last)) literalResource.set(last, res.name);
  }
  // Request bodies of creates name resources too (a POST that answers 202 with a job, say).
  for (const op of spec.operations) {
    const parts = segs(op.path);
    const last = parts[parts.length - 1];
    if (last && !isParam(last) && !literalResource.has(last)) {
      const guess = [...resources.values()].find((r) => snake(r.name) === singular(snake(last)) || snake(r.name).endsWith(`_${singular(snake(last))}`));
      if (guess) literalResource.set(last, guess.name);
    }
  }

  /** Resources listed or created at each collection path (`/teams/{team_id}/members` → TeamMember). */
  const collectionResource = new Map<string, string>();
  for (const op of spec.operations) {
    const shape = shapes.get(op)!;
    const last = segs(op.path).pop() ?? "";
    if (isParam(last) || shape.kind === "other") continue;
    if ((op.method === "GET" && shape.kind === "list") || (op.method === "POST" && shape.kind !== "list" && op.success.status === 201)) {
      if (!collectionResource.has(op.path)) collectionResource.set(op.path, shape.resource);
    }
  }

  /** The resource a path parameter identifies. */
  function resourceOfParam(path: string, param: string): string | undefined {
    const parts = segs(path);
    const at = parts.indexOf(`{${param}}`);
    const collection = `/${parts.slice(0, at).join("/")}`;
    if (collectionResource.has(collection)) return collectionResource.get(collection);
    const prev = at > 0 ? parts[at - 1] : undefined;
    if (prev && !isParam(prev) && literalResource.has(prev)) return literalResource.get(prev);
    return paramResource.get(param);
  }

  function linkField(res: Resource | undefined, param: string, path: string): string {
    if (!res) return `__${param}`;
    if (param in res.properties && param !== res.idField) return param;
    const norm = (s: string) => s.replace(/[_-]/g, "").toLowerCase();
    const hit = Object.keys(res.properties).find((k) => norm(k) === norm(param) && k !== res.idField);
    if (hit) return hit;
    const parent = resourceOfParam(path, param);
    if (parent) {
      const guess = `${snake(parent)}_id`;
      const tail = Object.keys(res.properties).find((k) => k === guess || (k.endsWith("_id") && guess.endsWith(`_${k}`)));
      if (tail) return tail;
    }
    return `__${param}`;
  }

  // Pass 2: plan each operation.
  const plans = new Map<string, OpPlan>();
  for (const op of spec.operations) {
    const parts = segs(op.path);
    const last = parts[parts.length - 1] ?? "";
    const words = parts.filter((p) => !isParam(p));
    const params = parts.filter(isParam).map(paramName);
    const shape = shapes.get(op)!;
    const media = jsonMedia(op.success.content);
    const base = { op, response: shape, responseMedia: media, words, verb: isParam(last) ? undefined : last };
    let plan: OpPlan;
    const special =
      (/^(search|bulk|batch|import|imports|export|exports)$/.test(words[0] ?? "") && (op.method !== "GET" || shape.kind === "other")) ||
      /^(search|suggestions|stats|summary)$/.test(last);
    const streamsOrBytes = op.success.content.length > 0 && !media;
    const sameShapeOps = spec.operations.filter((o) => o.path === op.path);
    const listHere = sameShapeOps.find((o) => o.method === "GET" && shapes.get(o)?.kind === "list");
    if (streamsOrBytes || special) {
      plan = { ...base, kind: "custom", parents: params.map((p) => ({ param: p, field: p, resource: resourceOfParam(op.path, p) })) };
      if (shape.kind !== "other") plan.resource = shape.resource;
    } else if (isParam(last)) {
      const idParam = paramName(last);
      const resource = shape.kind !== "other" && shape.kind !== "list" ? shape.resource : resourceOfParam(op.path, idParam);
      const res = resource ? resources.get(resource) : undefined;
      const parents = params.slice(0, -1).map((p) => ({ param: p, field: linkField(res, p, op.path), resource: resourceOfParam(op.path, p) }));
      const kind: OpKind = { GET: "read", PATCH: "update", PUT: "replace", DELETE: "delete" }[op.method] as OpKind ?? "action";
      plan = { ...base, kind: resource ? kind : "custom", resource, idParam, parents, verb: undefined };
      if (op.method === "POST" && resource) plan.kind = "action";
    } else {
      const listRes = shape.kind === "list" ? shape.resource : undefined;
      const itemRes = shape.kind === "resource" || shape.kind === "wrapped" ? shape.resource : undefined;
      const prev = parts[parts.length - 2];
      const targetParam = prev && isParam(prev) ? paramName(prev) : undefined;
      const targetRes = targetParam ? resourceOfParam(op.path, targetParam) : undefined;
      if (op.method === "GET" && listRes) {
        const res = resources.get(listRes);
        plan = { ...base, kind: "list", resource: listRes, parents: params.map((p) => ({ param: p, field: linkField(res, p, op.path), resource: resourceOfParam(op.path, p) })) };
      } else if (op.method === "POST" && itemRes && (listHere || itemRes !== targetRes)) {
        const resource = itemRes;
        const res = resources.get(resource);
        plan = { ...base, kind: "create", resource, parents: params.map((p) => ({ param: p, field: linkField(res, p, op.path), resource: resourceOfParam(op.path, p) })) };
      } else if (targetParam && targetRes && op.method !== "GET" && !/bulk|batch/.test(op.path)) {
        const res = resources.get(targetRes);
        plan = {
          ...base,
          kind: "action",
          resource: targetRes,
          idParam: targetParam,
          parents: params.slice(0, -1).map((p) => ({ param: p, field: linkField(res, p, op.path), resource: resourceOfParam(op.path, p) })),
        };
      } else if (!targetParam && itemRes && params.length === 0 && (op.method === "GET" || op.method === "PATCH" || op.method === "PUT") && !/search|stats|summary/.test(last)) {
        plan = { ...base, kind: op.method === "GET" ? "singleton-read" : "singleton-write", resource: itemRes, parents: [] };
      } else {
        plan = { ...base, kind: "custom", parents: params.map((p) => ({ param: p, field: p, resource: resourceOfParam(op.path, p) })) };
        if (shape.kind !== "other") plan.resource = shape.resource;
      }
    }
    plans.set(op.operationId, plan);
  }

  /** Maps a reference field (`assignee_id`, `page_ids`) to the resource it points at. */
  function referenceTarget(field: string): string | undefined {
    const m = /^(.*?)_?(id|ids|Id|Ids)$/.exec(field);
    if (!m || !m[1]) return undefined;
    const baseName = snake(m[1]).replace(/_$/, "");
    if (paramResource.has(`${baseName}_id`)) return paramResource.get(`${baseName}_id`);
    const people = /^(assignee|owner|author|creator|created_by|updated_by|reporter|requester|member|user|actor|recipient|sender|approver|reviewer|manager|lead|invited_by|assigned_to|uploaded_by|mentioned_user|participant|watcher|follower)$/;
    const names = [...resources.keys()];
    if (people.test(baseName)) return names.find((n) => n === "User") ?? names.find((n) => /user|member/i.test(n));
    return (
      names.find((n) => snake(n) === baseName) ??
      names.find((n) => snake(n).endsWith(`_${baseName}`)) ??
      names.find((n) => baseName.endsWith(`_${snake(n)}`))
    );
  }

  /** Finds the collection a path word names (`tasks` → Task, `time-entries` → TimeEntry). */
  function resourceOfWord(word: string): string | undefined {
    const w = singular(snake(word));
    const names = [...resources.keys()];
    return literalResource.get(word) ?? names.find((n) => snake(n) === w) ?? names.find((n) => snake(n).endsWith(`_${w}`));
  }

  return { resources, plans, shapeOf, referenceTarget, resourceOfWord, paramResource, literalResource };
}

export type Model = ReturnType<typeof createModel>;
