/**
 * The MCP Inspector's tool-schema portability lint (`mcp-inspector --cli --method tools/list
 * --strict`, @modelcontextprotocol/inspector 2.12.0, core/json/schemaLint.ts), re-implemented rule
 * for rule because that CLI needs Node >= 22.19 and this project runs on Node 20, plus the rules
 * the `strict` profile promises on top (issue 8). Each finding names its rule.
 */

type Obj = Record<string, unknown>;

export interface Finding {
  readonly rule: string;
  readonly severity: "error" | "warning";
  readonly path: string;
}

// The Inspector's keyword tables (same members, same meaning).
const BOOLEAN_VALUED = new Set(["additionalProperties", "unevaluatedProperties", "additionalItems", "unevaluatedItems"]);
const SUBSCHEMA = ["items", "contains", "not", "propertyNames", "if", "then", "else", "additionalProperties", "unevaluatedProperties", "additionalItems", "unevaluatedItems", "contentSchema"];
const SUBSCHEMA_ARRAYS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const SUBSCHEMA_MAPS = ["properties", "patternProperties", "dependentSchemas", "dependencies", "$defs", "definitions"];
const CONSTRAINING = new Set([
  "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
  "pattern", "format", "contentMediaType", "contentEncoding", "contentSchema", "maxItems", "minItems", "uniqueItems", "maxContains",
  "minContains", "maxProperties", "minProperties", "required", "dependentRequired", "allOf", "anyOf", "oneOf", "not", "items",
  "prefixItems", "contains", "additionalItems", "unevaluatedItems", "properties", "patternProperties", "additionalProperties",
  "unevaluatedProperties", "propertyNames", "dependentSchemas", "dependencies", "$ref", "$dynamicRef", "$recursiveRef",
]);
const JSON_TYPES = new Set(["null", "boolean", "object", "array", "number", "string", "integer"]);

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function children(node: Obj, path: string, visit: (child: unknown, path: string, keyword: string) => void): void {
  for (const k of SUBSCHEMA_MAPS) if (isObj(node[k])) for (const [n, s] of Object.entries(node[k] as Obj)) visit(s, `${path}.${k}.${n}`, k);
  for (const k of SUBSCHEMA_ARRAYS) if (Array.isArray(node[k])) (node[k] as unknown[]).forEach((s, i) => visit(s, `${path}.${k}[${i}]`, k));
  for (const k of SUBSCHEMA) {
    if (!(k in node)) continue;
    if (k === "items" && Array.isArray(node[k])) (node[k] as unknown[]).forEach((s, i) => visit(s, `${path}.items[${i}]`, k));
    else visit(node[k], `${path}.${k}`, k);
  }
}

/** The Inspector's four rules: boolean-schema (error), type-union, remote-ref, untyped-schema (warnings). */
export function inspectorLint(schema: unknown, name = "inputSchema"): Finding[] {
  const findings: Finding[] = [];
  const walk = (node: unknown, path: string, keyword: string | undefined, depth: number): void => {
    if (depth > 64) return;
    if (typeof node === "boolean") {
      if (keyword === undefined || !BOOLEAN_VALUED.has(keyword)) findings.push({ rule: "boolean-schema", severity: "error", path });
      return;
    }
    if (!isObj(node)) return;
    const type = node.type;
    if (Array.isArray(type) && type.length > 0 && type.every((t) => typeof t === "string" && JSON_TYPES.has(t)) && new Set(type).size === type.length) {
      findings.push({ rule: "type-union", severity: "warning", path });
    }
    if (typeof node.$ref === "string" && node.$ref !== "" && !node.$ref.startsWith("#")) findings.push({ rule: "remote-ref", severity: "warning", path });
    const constrains = Object.keys(node).some((k) => CONSTRAINING.has(k)) || ("if" in node && ("then" in node || "else" in node));
    if (!constrains && keyword !== "not") findings.push({ rule: "untyped-schema", severity: "warning", path });
    children(node, path, (c, p, k) => walk(c, p, k, depth + 1));
  };
  walk(schema, name, undefined, 0);
  return findings;
}

/** What the `strict` profile promises beyond the Inspector: none of the constructs strict clients reject. */
export function strictProfileLint(schema: unknown, name = "inputSchema"): Finding[] {
  const findings: Finding[] = [];
  if (isObj(schema)) {
    for (const k of ["oneOf", "anyOf", "allOf"]) if (k in schema) findings.push({ rule: `top-level-${k}`, severity: "error", path: name });
    if (schema.type !== "object") findings.push({ rule: "top-level-not-object", severity: "error", path: name });
  }
  const walk = (node: unknown, path: string, depth: number): void => {
    if (depth > 64 || !isObj(node)) return;
    if (Array.isArray(node.type)) findings.push({ rule: "type-array", severity: "error", path });
    if ("$ref" in node) findings.push({ rule: "ref", severity: "error", path });
    if ("$defs" in node || "definitions" in node) findings.push({ rule: "defs", severity: "error", path });
    if ("format" in node) findings.push({ rule: "format", severity: "error", path });
    if ("allOf" in node) findings.push({ rule: "allOf", severity: "error", path });
    if ("oneOf" in node) findings.push({ rule: "oneOf", severity: "error", path });
    children(node, path, (c, p) => walk(c, p, depth + 1));
  };
  walk(schema, name, 0);
  return findings;
}
