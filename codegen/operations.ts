/**
 * A loaded spec → ToolDescriptors: names, modules and exclusions across all operations. Each
 * OpenAPI object has its own transform under `transform/` (Paths, Operation, Parameter, Request
 * Body, Media Type, Responses, Security, Servers), each citing its section of the spec.
 */
import type { Approval, ToolDescriptor } from "./descriptor.js";
import type { LoadedSpec } from "./load-spec.js";
import { isObject } from "./load-spec.js";
import { TOOL_NAME, claim, moduleName, nameFromRoute, snakeCase, fitName } from "./naming.js";
import { createResolver } from "./resolver.js";
import { evaluateRules, type Rule } from "./rules.js";
import { createSchemaTranslator } from "./schema.js";
import { SpecError } from "./spec-error.js";
import { firstSentence } from "./text.js";
import { addWarning, compareWarnings, type SpecWarning } from "./warnings.js";
import { cmp, type Obj, type RawOperation } from "./transform/context.js";
import { approvalFor, buildTool, explicitExclusion, moduleFor, operationMediaTypes, taskFor } from "./transform/operation.js";
import { collectOperations } from "./transform/paths.js";
import { collectOAuthPaths } from "./transform/security.js";
import { keywordsOf } from "./keywords.js";

const RESERVED_FILES = new Set(["index", "types", "manifest", "upstream"]);

/** One excluded operation, as listed in the manifest. */
export interface ExcludedOperation {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  readonly reason: string;
}

/** One module: its tools share a file. */
export interface ModuleInfo {
  readonly name: string;
  readonly description: string;
  readonly file: string;
}

/** A worked-around problem and the tools it touched (none when the part was dropped or its operation excluded). */
export interface BuildWarning extends SpecWarning {
  readonly tools: readonly string[];
}

export interface BuildResult {
  readonly tools: readonly ToolDescriptor[];
  readonly excluded: readonly ExcludedOperation[];
  readonly modules: readonly ModuleInfo[];
  /** Sorted by pointer; empty for a spec without problems. */
  readonly warnings: readonly BuildWarning[];
}

/** Builds every tool (and exclusion) of a loaded spec. */
export function buildTools(spec: LoadedSpec, rules: readonly Rule[]): BuildResult {
  const resolver = createResolver(spec);
  const schemas = createSchemaTranslator(resolver, spec.dialect, spec.rootUrl);
  const root = spec.root;
  const tagObjects = collectTags(root);
  const oauthPaths = collectOAuthPaths(root, resolver, spec.rootUrl);

  const warnings = new Map<string, { w: SpecWarning; tools: Set<string> }>();
  const record = (list: readonly SpecWarning[], tool?: string): void => {
    for (const w of list) {
      const key = `${w.pointer}\u0000${w.problem}`;
      const entry = warnings.get(key) ?? { w, tools: new Set<string>() };
      if (tool !== undefined) entry.tools.add(tool);
      warnings.set(key, entry);
    }
  };
  const excluded: ExcludedOperation[] = [];
  /** No sane tool can be made: the operation is listed as excluded, and the problem is a warning. */
  const invalid = (method: string, path: string, operationId: string | undefined, problem: SpecWarning, also: readonly SpecWarning[] = []): void => {
    excluded.push({ operationId: operationId ?? nameFromRoute(method, path), method, path, reason: `invalid: ${problem.problem} (${problem.pointer})` });
    record([...also, { pointer: problem.pointer, problem: `${problem.problem}; the operation was excluded` }]);
  };

  const specWarnings: SpecWarning[] = [...(spec.warnings ?? [])];
  const collected = collectOperations(root, resolver, spec.rootUrl, specWarnings);
  for (const bad of collected.invalid) invalid(bad.method, bad.path, undefined, bad.problem);
  const included: { raw: RawOperation; module: string; sensitive: boolean; approval?: Approval; task?: "required"; base: string; explicit: boolean; warnings: SpecWarning[] }[] = [];

  for (const raw of collected.operations) {
    const { op, at } = raw;
    const method = raw.method.toUpperCase();
    const operationId = typeof op.operationId === "string" && op.operationId !== "" ? op.operationId : undefined;
    const opWarnings: SpecWarning[] = [];
    const tags = Array.isArray(op.tags) ? op.tags.filter((t): t is string => typeof t === "string") : [];
    const reason = explicitExclusion(raw, tags, tagObjects);
    const mediaTypes = operationMediaTypes(raw, resolver);
    const verdict = evaluateRules(rules, { method, path: raw.path, operationId, tags, mediaTypes, oauthEndpoint: oauthPaths.has(raw.path) });
    const optIn = op["x-mcp-exclude"] === false;
    const why = reason ?? (!optIn && verdict.exclude ? `${verdict.exclude.reason} (rule ${verdict.exclude.id})` : undefined);
    if (why !== undefined) {
      excluded.push({ operationId: operationId ?? nameFromRoute(method, raw.path), method, path: raw.path, reason: why });
      continue;
    }
    let mcpName = op["x-mcp-name"];
    if (mcpName !== undefined && (typeof mcpName !== "string" || !TOOL_NAME.test(mcpName))) {
      addWarning(opWarnings, { pointer: `${at}/x-mcp-name`, problem: "must be a string matching [a-z0-9_]{1,64}; ignored" });
      mcpName = undefined;
    }
    const sensitive =
      op["x-mcp-sensitive"] === true || tags.some((t) => tagObjects.get(t)?.["x-mcp-sensitive"] === true) || (op["x-mcp-sensitive"] !== false && verdict.sensitive !== undefined);
    const base = typeof mcpName === "string" ? mcpName : derivedName(raw);
    const approval = approvalFor(raw, tags, tagObjects, opWarnings) ?? verdict.approval?.approval;
    const task = taskFor(raw, opWarnings);
    included.push({ raw, module: moduleFor(raw, tags, opWarnings), sensitive, ...(approval ? { approval } : {}), ...(task ? { task } : {}), base, explicit: typeof mcpName === "string", warnings: opWarnings });
  }

  // Names: explicit x-mcp-name first (a repeated one falls back to the derived name), then derived names in path order.
  const taken = new Set<string>();
  const names = new Map<(typeof included)[number], string>();
  for (const inc of included) {
    if (!inc.explicit) continue;
    if (taken.has(inc.base)) {
      addWarning(inc.warnings, { pointer: `${inc.raw.at}/x-mcp-name`, problem: `tool name ${JSON.stringify(inc.base)} is used twice; the operationId's name is used instead` });
      inc.explicit = false;
      inc.base = derivedName(inc.raw);
      continue;
    }
    taken.add(inc.base);
    names.set(inc, inc.base);
  }
  for (const inc of included) if (!inc.explicit) names.set(inc, claim(inc.base, taken));

  const ctx = { spec, resolver, schemas };
  const tools: ToolDescriptor[] = [];
  for (const inc of included) {
    const method = inc.raw.method.toUpperCase();
    const operationId = typeof inc.raw.op.operationId === "string" && inc.raw.op.operationId !== "" ? inc.raw.op.operationId : undefined;
    try {
      const built = buildTool(inc.raw, names.get(inc)!, inc.module, inc.sensitive, ctx, inc.warnings);
      const keywords = keywordsOf(inc.raw, tagObjects, root.tags, inc.warnings);
      // Only a write has a pending action to approve.
      const approved = inc.approval && built.policy.write ? { ...built, policy: { ...built.policy, approval: inc.approval } } : built;
      const tasked = inc.task ? { ...approved, policy: { ...approved.policy, task: inc.task } } : approved;
      const tool = keywords.length > 0 ? { ...tasked, keywords } : tasked;
      tools.push(tool);
      record(inc.warnings, tool.name);
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      invalid(method, inc.raw.path, operationId, { pointer: err.pointer, problem: err.problem }, inc.warnings);
    }
  }
  record(specWarnings);
  tools.sort((a, b) => cmp(a.name, b.name));
  excluded.sort((a, b) => cmp(a.path, b.path) || cmp(a.method, b.method));

  const moduleNames = [...new Set(tools.map((t) => t.module))].sort(cmp);
  const modules = moduleNames.map((name) => ({
    name,
    description: moduleDescription(name, root, tagObjects),
    file: `${RESERVED_FILES.has(name) ? `${name}_tools` : name}.ts`,
  }));
  const sortedWarnings = [...warnings.values()]
    .map(({ w, tools: names }) => ({ pointer: w.pointer, problem: w.problem, tools: [...names].sort(cmp) }))
    .sort(compareWarnings);
  return { tools, excluded, modules, warnings: sortedWarnings };
}

/** The name an operation gets without `x-mcp-name`. */
function derivedName(raw: RawOperation): string {
  const method = raw.method.toUpperCase();
  const operationId = typeof raw.op.operationId === "string" && raw.op.operationId !== "" ? raw.op.operationId : undefined;
  return operationId ? fitName(snakeCase(operationId) || nameFromRoute(method, raw.path)) : nameFromRoute(method, raw.path);
}

/** Tag Objects (§4.8.22) by name; the first of a repeated name wins. */
function collectTags(root: Obj): Map<string, Obj> {
  const tags = new Map<string, Obj>();
  if (Array.isArray(root.tags)) for (const t of root.tags) if (isObject(t) && typeof t.name === "string" && !tags.has(t.name)) tags.set(t.name, t);
  return tags;
}

function moduleDescription(name: string, root: Obj, tags: Map<string, Obj>): string {
  for (const [tagName, t] of tags) {
    if (moduleName(tagName) !== name) continue;
    if (typeof t.description === "string" && t.description.trim()) return firstSentence(t.description);
    return tagName;
  }
  const info = isObject(root.info) ? root.info : {};
  return `Operations of ${typeof info.title === "string" ? info.title : "the API"} under ${name}`;
}
