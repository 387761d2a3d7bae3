/**
 * Compact TypeScript declarations of the `api` object a run_code script sees: one function per
 * tool, grouped by module, argument and result types from the tools' JSON Schemas (descriptions
 * left out, except the tool's one line). Written at codegen time to `api-types.json`; describe_tool
 * shows one tool's signature from the same function.
 */
import type { JsonSchema, ToolDescriptor } from "./descriptor.js";

/** `api-types.json`: each tool's declaration, and each module's shared types. */
export interface ApiTypesFile {
  readonly tools: Readonly<Record<string, { readonly module: string; readonly declaration: string; readonly uses: readonly string[] }>>;
  /** Named types (`$defs`) by module, each declared once. */
  readonly types: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

const MAX_DEPTH = 8;
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function key(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

function typeName(ref: string): string {
  return (ref.split("/").pop() ?? "Unknown").replace(/[^A-Za-z0-9_]/g, "_").replace(/^[0-9]/, "_$&");
}

/** Renders a schema as a TypeScript type; `$ref`s to `$defs` become named types, recorded in `refs`. */
function render(schema: JsonSchema | undefined, defs: Record<string, JsonSchema>, refs: Set<string>, depth: number): string {
  if (schema === undefined || schema === true) return "unknown";
  if (schema === false) return "never";
  if (depth > MAX_DEPTH) return "unknown";
  const s = schema;
  const next = (x: unknown) => render(x as JsonSchema, defs, refs, depth + 1);
  if (typeof s.$ref === "string") {
    const name = typeName(s.$ref);
    if (s.$ref.startsWith("#/$defs/") && defs[s.$ref.slice(8)] !== undefined) {
      refs.add(s.$ref.slice(8));
      return name;
    }
    return "unknown";
  }
  if ("const" in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  for (const [word, join] of [["oneOf", " | "], ["anyOf", " | "], ["allOf", " & "]] as const) {
    if (Array.isArray(s[word])) return (s[word] as unknown[]).map((x) => wrap(next(x))).join(join);
  }
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === "string" ? [s.type] : s.properties ? ["object"] : [];
  if (types.length === 0) return "unknown";
  return types.map((t) => {
    switch (t) {
      case "string":
        return "string";
      case "integer":
      case "number":
        return "number";
      case "boolean":
        return "boolean";
      case "null":
        return "null";
      case "array":
        return `${wrap(next(s.items))}[]`;
      case "object": {
        const props = (s.properties ?? {}) as Record<string, unknown>;
        const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
        const fields = Object.entries(props).map(([name, sub]) => `${key(name)}${required.has(name) ? "" : "?"}: ${next(sub)}`);
        const extra = s.additionalProperties;
        if (extra !== undefined && extra !== false && fields.length === 0) return `Record<string, ${extra === true ? "unknown" : next(extra)}>`;
        return fields.length === 0 ? "Record<string, unknown>" : `{ ${fields.join("; ")} }`;
      }
      default:
        return "unknown";
    }
  }).join(" | ");
}

function wrap(t: string): string {
  return /[|&]/.test(t) && !/^\{.*\}$/.test(t) ? `(${t})` : t;
}

/** One tool's declaration: `/** line *\/ name(args): Promise<Result>;`, and the named types it uses. */
export function toolDeclaration(tool: ToolDescriptor): { declaration: string; uses: string[]; types: Record<string, string> } {
  const refs = new Set<string>();
  const input = tool.inputSchema as Record<string, unknown>;
  const inDefs = (input.$defs ?? {}) as Record<string, JsonSchema>;
  const args = render(input, inDefs, refs, 0);
  const optional = !(Array.isArray(input.required) && input.required.length > 0);
  const output = tool.outputSchema as Record<string, unknown> | undefined;
  const outDefs = (output?.$defs ?? {}) as Record<string, JsonSchema>;
  const result = tool.policy.write ? "Pending" : output ? render(output, outDefs, refs, 0) : "unknown";
  const defs = { ...outDefs, ...inDefs };
  const types: Record<string, string> = {};
  // Named types may refer to further named types.
  const queue = [...refs];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (types[typeName(name)] !== undefined) continue;
    const inner = new Set<string>();
    types[typeName(name)] = render(defs[name], defs, inner, 1);
    for (const r of inner) if (!refs.has(r)) (refs.add(r), queue.push(r));
  }
  const note = tool.policy.write ? " Write: sends nothing, joins the run's change set." : "";
  const line = tool.description.replace(/\*\//g, "* /").split("\n")[0]!.trim();
  const declaration = `/** ${line}${note && !/[.!?]$/.test(line) ? "." : ""}${note} */\n${tool.name}(args${optional ? "?" : ""}: ${args}): Promise<${result}>;`;
  return { declaration, uses: Object.keys(types).sort(), types };
}

/** The api-types.json of a set of tools. */
export function buildApiTypes(tools: readonly ToolDescriptor[]): ApiTypesFile {
  const out: Record<string, { module: string; declaration: string; uses: string[] }> = {};
  const types: Record<string, Record<string, string>> = {};
  for (const t of tools) {
    const d = toolDeclaration(t);
    out[t.name] = { module: t.module, declaration: d.declaration, uses: d.uses };
    const mine = (types[t.module] ??= {});
    for (const [name, text] of Object.entries(d.types)) mine[name] ??= text;
  }
  return { tools: out, types };
}

/** api-types.json's text: its first line names the spec and the command, as every generated file's does. */
export function emitApiTypes(header: string, file: ApiTypesFile): string {
  return `{"generated": ${JSON.stringify(header.replace(/^\/\/ /, ""))},\n"tools": ${JSON.stringify(file.tools, null, 1)},\n"types": ${JSON.stringify(file.types, null, 1)}}\n`;
}

/** The placeholder a write answers inside a script. */
export const PENDING_TYPE = "/** A write's placeholder: any other field (w.id) is a reference to its future result. */\ntype Pending = { pending: true; ref: string; preview: unknown; [field: string]: any };";

/** Renders the declarations of the given modules, with only the tools in `allowed`. */
export function renderApiTypes(file: ApiTypesFile, modules: readonly string[], allowed: (name: string) => boolean): string {
  const parts = [PENDING_TYPE];
  for (const m of modules) {
    const tools = Object.entries(file.tools).filter(([name, t]) => t.module === m && allowed(name));
    const used = new Set(tools.flatMap(([, t]) => t.uses));
    const named = Object.entries(file.types[m] ?? {}).filter(([n]) => used.has(n)).map(([n, text]) => `  type ${n} = ${text};`);
    const fns = tools.map(([, t]) => t.declaration.split("\n").map((l) => `  ${l.startsWith("/**") ? l : `function ${l}`}`).join("\n"));
    parts.push(`declare namespace api.${m} {\n${[...named, ...fns].join("\n")}\n}`);
  }
  return parts.join("\n");
}
