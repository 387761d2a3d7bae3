/**
 * Small helpers for writing the Workspace API description compactly. The checked-in artifact
 * is openapi/workspace.yaml; this kit only saves typing the same CRUD shapes two hundred times.
 */

const ref = (kind, name) => ({ $ref: `#/components/${kind}/${name}` });

/** A `$ref` to a component schema. */
export const schemaRef = (name) => ref("schemas", name);
/** A `$ref` to a component parameter. */
export const paramRef = (name) => ref("parameters", name);

// ---------------------------------------------------------------- schema shorthands

/** A string property. */
export const str = (description, extra = {}) => ({ type: "string", description, ...extra });
/** A UUID property. */
export const uuid = (description, extra = {}) => ({ type: "string", format: "uuid", description, ...extra });
/** A date-time property. */
export const dateTime = (description, extra = {}) => ({ type: "string", format: "date-time", description, ...extra });
/** A calendar date property. */
export const date = (description, extra = {}) => ({ type: "string", format: "date", description, ...extra });
/** An email property. */
export const email = (description, extra = {}) => ({ type: "string", format: "email", description, ...extra });
/** A URI property. */
export const uri = (description, extra = {}) => ({ type: "string", format: "uri", description, ...extra });
/** An integer property. */
export const int = (description, extra = {}) => ({ type: "integer", description, ...extra });
/** A number property. */
export const num = (description, extra = {}) => ({ type: "number", description, ...extra });
/** A boolean property. */
export const bool = (description, extra = {}) => ({ type: "boolean", description, ...extra });
/** A string enum property. */
export const oneOfValues = (values, description, extra = {}) => ({ type: "string", enum: values, description, ...extra });
/** An array property. */
export const list = (items, description, extra = {}) => ({ type: "array", items, description, ...extra });
/** A free-form object property. */
export const obj = (description, extra = {}) => ({ type: "object", description, ...extra });

/** Makes a schema nullable the OpenAPI 3.1 way (a type array), or with anyOf for a `$ref`. */
export function nullable(schema) {
  if (schema.$ref) return { anyOf: [schema, { type: "null" }] };
  const enumWithNull = schema.enum ? { enum: [...schema.enum, null] } : {};
  return { ...schema, type: [schema.type, "null"], ...enumWithNull };
}

/** Marks a schema as server-managed: shown in responses, dropped from request bodies. */
export const readOnly = (schema) => ({ ...schema, readOnly: true });

// ---------------------------------------------------------------- the document being built

const ERROR_RESPONSES = {
  400: "ValidationError",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  412: "PreconditionFailed",
  429: "TooManyRequests",
};

const pascal = (snake) => snake.split(/[_-]/).map((w) => w[0].toUpperCase() + w.slice(1)).join("");
const article = (noun) => (/^[aeiou]/i.test(noun) ? "an" : "a");

/** Creates an empty document builder. */
export function createSpec() {
  const paths = {};
  const tags = [];
  const schemas = {};
  const parameters = {};
  const operationIds = new Set();

  /** Declares a module (tag). */
  function tag(name, description, extensions = {}) {
    tags.push({ name, description, ...extensions });
  }

  /** Adds a component schema. */
  function schema(name, definition) {
    if (schemas[name]) throw new Error(`schema ${name} defined twice`);
    schemas[name] = definition;
    return schemaRef(name);
  }

  /** Adds a component parameter. */
  function parameter(name, definition) {
    if (parameters[name]) throw new Error(`parameter ${name} defined twice`);
    parameters[name] = definition;
    return paramRef(name);
  }

  /** Declares the path parameter `{name}` once, as a shared component. */
  function pathParam(name, description, schemaDef) {
    return parameter(pascal(name), { name, in: "path", required: true, description, schema: schemaDef });
  }

  function ensurePathParams(path) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const name of names) {
      if (!parameters[pascal(name)]) {
        const noun = name.replace(/_id$/, "").replace(/_/g, " ");
        pathParam(name, `ID of the ${noun}.`, { type: "string", format: "uuid" });
      }
    }
    return names.map((n) => paramRef(pascal(n)));
  }

  /**
   * Adds one operation. `responses` holds the success responses; error responses are added
   * from `errors` plus 401 always, 404 when the path has parameters, 400 when input is taken.
   */
  function operation(method, path, o) {
    if (operationIds.has(o.id)) throw new Error(`operationId ${o.id} used twice`);
    operationIds.add(o.id);
    if (!paths[path]) {
      const pathParams = ensurePathParams(path);
      paths[path] = pathParams.length ? { parameters: pathParams } : {};
    }
    if (paths[path][method]) throw new Error(`${method.toUpperCase()} ${path} defined twice`);
    const codes = new Set([401, ...(o.errors ?? [])]);
    if (path.includes("{")) codes.add(404);
    if (o.body || (o.params ?? []).some((p) => p.$ref !== paramRef("IdempotencyKey").$ref)) codes.add(400);
    const responses = { ...o.responses };
    for (const code of [...codes].sort()) responses[code] = ref("responses", ERROR_RESPONSES[code]);
    const definition = {
      tags: [o.tag],
      summary: o.summary,
      ...(o.description ? { description: o.description } : {}),
      operationId: o.id,
      ...(o.params?.length ? { parameters: o.params } : {}),
      ...(o.body ? { requestBody: o.body } : {}),
      responses,
      ...(o.extensions ?? {}),
    };
    paths[path][method] = definition;
    return definition;
  }

  return { tag, schema, parameter, pathParam, operation, paths, tags, schemas, parameters, operationIds };
}

// ---------------------------------------------------------------- request and response shorthands

/** A required JSON request body. */
export const jsonBody = (schema, description) => ({
  required: true,
  ...(description ? { description } : {}),
  content: { "application/json": { schema } },
});

/** A JSON success response. */
export const jsonResponse = (description, schema, headers) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { "application/json": { schema } },
});

/** The empty 204 response. */
export const noContent = (description = "Deleted. No content.") => ({ 204: { description } });

/**
 * Adds a conventional resource: its schemas (`X`, `XCreate`, `XUpdate`, `XList`) and the
 * list / create / get / update / delete operations that `ops` names.
 */
export function resource(spec, r) {
  const {
    tag,
    noun,
    plural = `${noun}s`,
    name,
    collection,
    item,
    fields,
    required = [],
    createRequired = required,
    ops = ["list", "create", "get", "update", "delete"],
    filters = [],
    paging = "cursor",
    describe = {},
    summaries = {},
    ids = {},
    versioned = false,
    fieldsSchemaName,
  } = r;

  const writable = Object.fromEntries(Object.entries(fields).filter(([, s]) => !s.readOnly));
  // Server-managed fields (such as the parent ID taken from the path) cannot be required in a request.
  const createRequiredWritable = createRequired.filter((f) => f in writable);
  const ownPart = { type: "object", required, properties: fields };
  const ownRef = fieldsSchemaName ? spec.schema(fieldsSchemaName, { ...ownPart, description: `${pascal(noun)} fields, without the common resource metadata.` }) : ownPart;
  spec.schema(name, {
    type: "object",
    description: r.description,
    allOf: [schemaRef(versioned ? "VersionedResource" : "ResourceBase"), ownRef],
  });
  if (ops.includes("create")) {
    spec.schema(`${name}Create`, {
      type: "object",
      description: `Fields for a new ${noun}.`,
      required: createRequiredWritable,
      properties: writable,
    });
  }
  if (ops.includes("update")) {
    spec.schema(`${name}Update`, {
      type: "object",
      description: `Fields to change on ${article(noun)} ${noun}; omitted fields keep their value.`,
      minProperties: 1,
      properties: writable,
    });
  }
  if (ops.includes("list")) {
    spec.schema(`${name}List`, pageSchema(`A page of ${plural}.`, schemaRef(name), paging));
  }

  const Pascal = name;
  const PluralPascal = pascal(plural.replace(/ /g, "_"));
  const a = article(noun);
  if (ops.includes("list")) {
    spec.operation("get", collection, {
      id: ids.list ?? `list${PluralPascal}`,
      tag,
      summary: summaries.list ?? `List ${plural}`,
      description: describe.list,
      params: [...filters, ...pagingParams(paging)],
      responses: { 200: jsonResponse(`A page of ${plural}.`, schemaRef(`${name}List`)) },
    });
  }
  if (ops.includes("create")) {
    spec.operation("post", collection, {
      id: ids.create ?? `create${Pascal}`,
      tag,
      summary: summaries.create ?? `Create ${a} ${noun}`,
      description: describe.create,
      params: [paramRef("IdempotencyKey")],
      body: jsonBody(schemaRef(`${name}Create`)),
      responses: { 201: jsonResponse(`The created ${noun}.`, schemaRef(name)) },
      errors: [409],
    });
  }
  if (ops.includes("get")) {
    spec.operation("get", item, {
      id: ids.get ?? `get${Pascal}`,
      tag,
      summary: summaries.get ?? `Get ${a} ${noun}`,
      description: describe.get,
      responses: {
        200: jsonResponse(`The ${noun}.`, schemaRef(name), versioned ? { ETag: ref("headers", "ETag") } : undefined),
      },
    });
  }
  if (ops.includes("update")) {
    spec.operation("patch", item, {
      id: ids.update ?? `update${Pascal}`,
      tag,
      summary: summaries.update ?? `Update ${a} ${noun}`,
      description: describe.update,
      params: versioned ? [paramRef("IfMatch")] : [],
      body: jsonBody(schemaRef(`${name}Update`)),
      responses: {
        200: jsonResponse(`The updated ${noun}.`, schemaRef(name), versioned ? { ETag: ref("headers", "ETag") } : undefined),
      },
      errors: versioned ? [412] : [],
    });
  }
  if (ops.includes("delete")) {
    spec.operation("delete", item, {
      id: ids.delete ?? `delete${Pascal}`,
      tag,
      summary: summaries.delete ?? `Delete ${a} ${noun}`,
      description: describe.delete,
      responses: noContent(`The ${noun} was deleted.`),
    });
  }
}

/** The list envelope: `{ data, next_cursor, has_more }` or `{ data, page, per_page, total }`. */
export function pageSchema(description, items, paging = "cursor") {
  if (paging === "page") {
    return {
      type: "object",
      description,
      required: ["data", "page", "per_page", "total"],
      properties: {
        data: { type: "array", items },
        page: { type: "integer", minimum: 1, description: "The page returned (1-based)." },
        per_page: { type: "integer", minimum: 1, maximum: 100, description: "Items per page." },
        total: { type: "integer", minimum: 0, description: "Total number of matching items." },
      },
    };
  }
  return {
    type: "object",
    description,
    required: ["data", "has_more"],
    properties: {
      data: { type: "array", items },
      next_cursor: { type: ["string", "null"], description: "Pass as `cursor` to fetch the next page; null on the last page." },
      has_more: { type: "boolean", description: "Whether more items follow this page." },
    },
  };
}

/** The shared pagination parameters for a paging style. */
export const pagingParams = (paging = "cursor") =>
  paging === "page" ? [paramRef("Page"), paramRef("PerPage")] : [paramRef("Cursor"), paramRef("Limit")];

/** A query parameter. */
export const query = (name, description, schemaDef, extra = {}) => ({ name, in: "query", description, schema: schemaDef, ...extra });
