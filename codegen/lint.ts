/**
 * `countersign lint`: what agents will see of a spec, and what to fix in it. Built from the same
 * generator run as `generate` (nothing is written): the tools and modules, names that had to be
 * shortened or de-duplicated, prose that is missing, what was relaxed or excluded and why, and
 * which tool schemas cost the most context.
 */
import type { ToolDescriptor } from "./descriptor.js";
import { isObject, loadSpec } from "./load-spec.js";
import { TOOL_NAME, fitName, snakeCase } from "./naming.js";
import { buildTools, type BuildWarning, type ExcludedOperation } from "./operations.js";
import { createResolver } from "./resolver.js";
import type { Rule } from "./rules.js";
import { SpecError } from "./spec-error.js";

type Obj = Record<string, unknown>;

/** How many of the largest tool schemas the report lists. */
export const LARGEST = 10;
/** Tokens are approximated as characters / 4 of the tool's JSON as listed to a client (name, description, input schema). */
export const CHARS_PER_TOKEN = 4;
/** A module larger than this is suggested for splitting with `x-mcp-module`. */
export const LARGE_MODULE = 60;

/** One tool whose name is not the operationId in snake_case. */
export interface NameNote {
  readonly tool: string;
  readonly operationId?: string;
  readonly kind: "shortened" | "collided" | "from-route";
  /** The name the operationId (or route) gave before shortening or de-duplication. */
  readonly wanted: string;
}

/** Everything `countersign lint` reports, as JSON (`--json`) or Markdown. */
export interface LintReport {
  readonly api: string;
  readonly title: string;
  readonly version: string;
  readonly specSha256: string;
  readonly counts: {
    readonly tools: number;
    readonly modules: number;
    readonly excluded: number;
    readonly writes: number;
    readonly sensitive: number;
    readonly deletes: number;
    readonly readOnly: number;
  };
  readonly modules: readonly { readonly name: string; readonly tools: number; readonly from: "x-mcp-module" | "tag" | "path" }[];
  readonly names: readonly NameNote[];
  /** Tools whose operation has neither summary nor description. */
  readonly withoutDescription: readonly string[];
  /** Parameters (not body properties) without a description, by tool. */
  readonly parametersWithoutDescription: readonly { readonly tool: string; readonly parameters: readonly string[] }[];
  /** Problems worked around (relaxed schemas, dropped parts, invalid operations). */
  readonly warnings: readonly BuildWarning[];
  readonly excluded: readonly ExcludedOperation[];
  /** The largest tools by approximate token cost (JSON characters / 4). */
  readonly largest: readonly { readonly tool: string; readonly approxTokens: number }[];
  /** Approximate token cost of listing every tool. */
  readonly approxTokensAll: number;
  readonly suggestions: readonly string[];
  /** What `--strict` fails on: warnings, invalid operations, shortened or collided names, operations without prose. */
  readonly problems: number;
}

/** Builds the report for one spec; throws SpecError when the spec cannot be read as OpenAPI at all. */
export async function lintSpec(specPath: string, api: string, rules: readonly Rule[], allowRemoteRefs = false): Promise<LintReport> {
  const spec = await loadSpec(specPath, { allowRemoteRefs });
  const build = buildTools(spec, rules);
  const resolver = createResolver(spec);
  const root = spec.root;
  const info = isObject(root.info) ? root.info : {};

  /** The operation object behind a tool, for what the descriptor does not keep (summary, tags). */
  const operationOf = (t: ToolDescriptor): Obj => {
    const paths = isObject(root.paths) ? root.paths : {};
    try {
      const item = resolver.deref(paths[t.binding.path], spec.rootUrl, "#").value;
      const op = isObject(item) ? item[t.binding.method.toLowerCase()] : undefined;
      return isObject(op) ? op : {};
    } catch (err) {
      if (err instanceof SpecError) return {};
      throw err;
    }
  };

  const names: NameNote[] = [];
  const withoutDescription: string[] = [];
  const parametersWithoutDescription: { tool: string; parameters: string[] }[] = [];
  const moduleFrom = new Map<string, "x-mcp-module" | "tag" | "path">();
  for (const t of build.tools) {
    const op = operationOf(t);
    if (typeof op["x-mcp-name"] !== "string" || !TOOL_NAME.test(op["x-mcp-name"])) {
      const wanted = t.operationId !== undefined ? snakeCase(t.operationId) : snakeCase(`${t.binding.method} ${t.binding.path}`);
      if (t.operationId === undefined) names.push({ tool: t.name, kind: "from-route", wanted });
      else if (wanted.length > 64 && t.name === fitName(wanted)) names.push({ tool: t.name, operationId: t.operationId, kind: "shortened", wanted });
      else if (t.name !== wanted) names.push({ tool: t.name, operationId: t.operationId, kind: "collided", wanted });
    }
    const hasText = (v: unknown): boolean => typeof v === "string" && v.trim() !== "";
    if (!hasText(op.summary) && !hasText(op.description)) withoutDescription.push(t.name);
    const props = isObject(t.inputSchema.properties) ? t.inputSchema.properties : {};
    const bare = t.binding.arguments.filter((a) => !hasText((props[a.name] as Obj | undefined)?.description)).map((a) => a.name);
    if (bare.length > 0) parametersWithoutDescription.push({ tool: t.name, parameters: bare });
    if (!moduleFrom.has(t.module)) {
      moduleFrom.set(t.module, op["x-mcp-module"] !== undefined ? "x-mcp-module" : Array.isArray(op.tags) && op.tags.some((x) => typeof x === "string") ? "tag" : "path");
    }
  }

  const cost = (t: ToolDescriptor): number => Math.ceil(JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema }).length / CHARS_PER_TOKEN);
  const costs = build.tools.map((t) => ({ tool: t.name, approxTokens: cost(t) }));
  const largest = [...costs].sort((a, b) => b.approxTokens - a.approxTokens || (a.tool < b.tool ? -1 : 1)).slice(0, LARGEST);
  const modules = build.modules.map((m) => ({ name: m.name, tools: build.tools.filter((t) => t.module === m.name).length, from: moduleFrom.get(m.name) ?? "path" }));

  const suggestions: string[] = [];
  for (const n of names) {
    if (n.kind === "shortened") suggestions.push(`Give ${n.operationId} an \`x-mcp-name\`: its name was cut to 64 characters (${n.tool}).`);
    if (n.kind === "collided") suggestions.push(`Give ${n.operationId} an \`x-mcp-name\`: "${n.wanted}" was taken, so it became ${n.tool}.`);
  }
  const fromRoute = names.filter((n) => n.kind === "from-route");
  if (fromRoute.length > 0) suggestions.push(`Add an operationId or \`x-mcp-name\` to ${fromRoute.length} operation${fromRoute.length === 1 ? "" : "s"} named from their route (${listSome(fromRoute.map((n) => n.tool))}).`);
  for (const m of modules) {
    if (m.from === "path") suggestions.push(`Module ${m.name} comes from a path segment: tag its operations or set \`x-mcp-module\`.`);
    if (m.tools > LARGE_MODULE) suggestions.push(`Module ${m.name} has ${m.tools} tools: split it with \`x-mcp-module\` so agents can load less at once.`);
  }
  if (withoutDescription.length > 0) suggestions.push(`Add a summary to ${withoutDescription.length} operation${withoutDescription.length === 1 ? "" : "s"} (${listSome(withoutDescription)}): agents see only the method and path.`);
  const bareCount = parametersWithoutDescription.reduce((n, p) => n + p.parameters.length, 0);
  if (bareCount > 0) suggestions.push(`Describe ${bareCount} parameter${bareCount === 1 ? "" : "s"} in ${parametersWithoutDescription.length} tool${parametersWithoutDescription.length === 1 ? "" : "s"}.`);
  if (build.warnings.length > 0) suggestions.push(`Fix ${build.warnings.length} spec problem${build.warnings.length === 1 ? "" : "s"} listed under "Relaxed or dropped" (\`countersign generate --strict\` fails on them).`);

  // Invalid operations are among the warnings already.
  const problems = build.warnings.length + names.filter((n) => n.kind !== "from-route").length + withoutDescription.length;
  return {
    api,
    title: typeof info.title === "string" ? info.title : api,
    version: typeof info.version === "string" ? info.version : String(info.version ?? ""),
    specSha256: spec.sha256,
    counts: {
      tools: build.tools.length,
      modules: build.modules.length,
      excluded: build.excluded.length,
      writes: build.tools.filter((t) => t.policy.write).length,
      sensitive: build.tools.filter((t) => t.policy.sensitive).length,
      deletes: build.tools.filter((t) => t.binding.method === "DELETE").length,
      readOnly: build.tools.filter((t) => !t.policy.write).length,
    },
    modules,
    names,
    withoutDescription,
    parametersWithoutDescription,
    warnings: build.warnings,
    excluded: build.excluded,
    largest,
    approxTokensAll: costs.reduce((n, c) => n + c.approxTokens, 0),
    suggestions,
    problems,
  };
}

function listSome(items: readonly string[], max = 5): string {
  return items.length <= max ? items.join(", ") : `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}

/** Text for a Markdown table cell: one line, pipes escaped, backticks kept out of code spans. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

/** The report as Markdown: a summary, then one section per finding, empty ones saying so. */
export function renderMarkdown(r: LintReport, listLimit = 50): string {
  const out: string[] = [];
  const c = r.counts;
  const section = (title: string, rows: string[], empty: string, total = rows.length): void => {
    out.push("", `## ${title}`, "");
    if (rows.length === 0) out.push(empty);
    else {
      out.push(...rows.slice(0, listLimit));
      if (total > listLimit) out.push("", `…and ${total - listLimit} more (see \`--json\`).`);
    }
  };
  out.push(`# Lint: ${cell(r.title)} ${cell(r.version)}`, "", `Spec sha256 ${r.specSha256.slice(0, 12)}. ${r.problems === 0 ? "No problems." : `${r.problems} problem${r.problems === 1 ? "" : "s"} (\`--strict\` fails).`}`);
  out.push("", "| tools | modules | excluded | read-only | writes | sensitive | deletes | approx. tokens, all tools |", "|---|---|---|---|---|---|---|---|");
  out.push(`| ${c.tools} | ${c.modules} | ${c.excluded} | ${c.readOnly} | ${c.writes} | ${c.sensitive} | ${c.deletes} | ${r.approxTokensAll} |`);

  section("Modules", ["| module | tools | from |", "|---|---|---|", ...r.modules.map((m) => `| ${code(m.name)} | ${m.tools} | ${m.from} |`)], "No modules.");
  section(
    "Names shortened or collided",
    r.names.filter((n) => n.kind !== "from-route").map((n) => `- ${code(n.tool)} (${n.kind}; ${code(n.operationId ?? "")} wanted ${code(n.wanted)})`),
    "None: every name is its operationId in snake_case.",
  );
  section("Named from the route (no operationId)", r.names.filter((n) => n.kind === "from-route").map((n) => `- ${code(n.tool)}`), "None.");
  section("Operations without summary or description", r.withoutDescription.map((t) => `- ${code(t)}`), "None.");
  section(
    "Parameters without descriptions",
    r.parametersWithoutDescription.map((p) => `- ${code(p.tool)}: ${p.parameters.map(code).join(", ")}`),
    "None.",
  );
  section(
    "Relaxed or dropped (spec problems worked around)",
    r.warnings.map((w) => `- ${code(w.pointer)}: ${cell(w.problem)}${w.tools.length > 0 ? ` — ${w.tools.length === 1 ? "tool" : "tools"} ${listSome(w.tools.map(code))}` : ""}`),
    "None.",
  );
  section("Excluded operations", r.excluded.map((e) => `- ${e.method} ${code(e.path)} (${code(e.operationId)}): ${cell(e.reason)}`), "None.");
  section(
    `Largest tool schemas (approx. tokens = JSON characters / ${CHARS_PER_TOKEN})`,
    ["| tool | approx. tokens |", "|---|---|", ...r.largest.map((l) => `| ${code(l.tool)} | ${l.approxTokens} |`)],
    "No tools.",
  );
  section("Suggestions", r.suggestions.map((s) => `- ${s}`), "None.");
  return `${out.join("\n")}\n`;
}
