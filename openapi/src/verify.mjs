/**
 * Checks the promises the bundled spec makes to the rest of the project (issue: "the bundled
 * sample spec"), so a later edit cannot quietly drop below them. Returns a list of problems.
 */

/** Modules the generator's default rules keep away from agents. */
export const RESTRICTED_MODULES = Object.freeze(["billing", "api-tokens", "calendar-connect", "data-transfer"]);

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** Lists every operation with its method, path and module. */
export function operationsOf(document) {
  const ops = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) ops.push({ method, path, op, module: op["x-mcp-module"] ?? op.tags?.[0] });
    }
  }
  return ops;
}

/** Counts exposed and restricted operations per module. */
export function countModules(document) {
  const perModule = {};
  for (const { module } of operationsOf(document)) perModule[module] = (perModule[module] ?? 0) + 1;
  const exposed = Object.entries(perModule).filter(([m]) => !RESTRICTED_MODULES.includes(m));
  return {
    perModule,
    exposedModules: exposed.length,
    exposedOperations: exposed.reduce((n, [, c]) => n + c, 0),
    restrictedOperations: Object.fromEntries(RESTRICTED_MODULES.map((m) => [m, perModule[m] ?? 0])),
  };
}

/** Returns the problems found; an empty list means the spec keeps its promises. */
export function verify(document) {
  const problems = [];
  const counts = countModules(document);
  if (counts.exposedModules < 35) problems.push(`only ${counts.exposedModules} exposed modules (need at least 35)`);
  if (counts.exposedOperations < 285 || counts.exposedOperations > 300) problems.push(`${counts.exposedOperations} exposed operations (need 285-300)`);
  for (const [m, n] of Object.entries(counts.restrictedOperations)) if (n < 4 || n > 8) problems.push(`restricted module ${m} has ${n} operations (need 4-8)`);

  const tagNames = new Set(document.tags.map((t) => t.name));
  for (const t of document.tags) {
    if (!t.description) problems.push(`tag ${t.name} has no description`);
    if (!/^[a-z][a-z0-9-]*$/.test(t.name)) problems.push(`tag ${t.name} is not lowercase kebab-case`);
  }
  const ids = new Set();
  for (const { method, path, op } of operationsOf(document)) {
    const where = `${method.toUpperCase()} ${path}`;
    if (!/^[a-z][a-zA-Z0-9]*$/.test(op.operationId ?? "")) problems.push(`${where}: operationId ${op.operationId} is not camelCase`);
    if (ids.has(op.operationId)) problems.push(`${where}: operationId ${op.operationId} is used twice`);
    ids.add(op.operationId);
    if (!op.summary || !op.description) problems.push(`${where}: needs a summary and a description`);
    if (!tagNames.has(op.tags?.[0])) problems.push(`${where}: tag ${op.tags?.[0]} is not declared`);
    const codes = Object.keys(op.responses);
    if (method === "delete" && !codes.includes("204")) problems.push(`${where}: DELETE should answer 204`);
    if (method === "post" && codes.includes("201") && !(op.parameters ?? []).some((p) => p.$ref === "#/components/parameters/IdempotencyKey")) {
      problems.push(`${where}: a create should take Idempotency-Key`);
    }
    for (const [code, response] of Object.entries(op.responses)) {
      const json = response.content?.["application/json"];
      if (code.startsWith("2") && json && !json.schema) problems.push(`${where}: ${code} JSON response has no schema`);
    }
  }
  const has = (predicate, what) => {
    if (!operationsOf(document).some(predicate)) problems.push(`missing: ${what}`);
  };
  has(({ op }) => op.requestBody?.content?.["multipart/form-data"]?.encoding, "a multipart upload with an encoding object");
  has(({ op }) => Object.values(op.responses).some((r) => r.content?.["text/event-stream"]), "a text/event-stream response");
  has(({ op }) => op.requestBody?.content?.["application/x-www-form-urlencoded"], "a form-urlencoded request");
  has(({ method, op }) => method === "post" && op["x-mcp-write"] === false, "a POST marked x-mcp-write: false");
  has(({ method, op }) => method === "get" && op["x-mcp-write"] === true, "a GET marked x-mcp-write: true");
  has(({ op }) => (op.parameters ?? []).some((p) => p.$ref === "#/components/parameters/IfMatch"), "an If-Match guarded update");
  for (const name of ["bulk", "roles", "webhooks"]) {
    if (!document.tags.find((t) => t.name === name)?.["x-mcp-sensitive"]) problems.push(`tag ${name} should be x-mcp-sensitive`);
  }
  return problems;
}
