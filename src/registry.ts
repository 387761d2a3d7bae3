/**
 * The registry: the generated tools of one API, indexed by name and grouped by module.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Manifest, ToolDescriptor } from "../codegen/descriptor.js";
import { GatewayError } from "./errors.js";

/** One module of the API, with its tools in listing order. */
export interface RegistryModule {
  readonly name: string;
  readonly description: string;
  readonly tools: readonly ToolDescriptor[];
}

/** The loaded tools of one API. */
export interface Registry {
  /** Every descriptor loaded, excluded ones included (policy refuses those at call time). */
  readonly tools: readonly ToolDescriptor[];
  get(name: string): ToolDescriptor | undefined;
  readonly modules: readonly RegistryModule[];
  readonly manifest?: Manifest;
}

/** Indexes descriptors; duplicate names are a generator bug and fail loudly. */
export function createRegistry(descriptors: readonly ToolDescriptor[], manifest?: Manifest): Registry {
  const byName = new Map<string, ToolDescriptor>();
  const byModule = new Map<string, ToolDescriptor[]>();
  for (const tool of descriptors) {
    if (byName.has(tool.name)) throw new GatewayError("internal", `registry: duplicate tool name '${tool.name}'`);
    byName.set(tool.name, tool);
    const list = byModule.get(tool.module) ?? [];
    list.push(tool);
    byModule.set(tool.module, list);
  }
  const described = new Map((manifest?.modules ?? []).map((m) => [m.name, m.description]));
  const modules: RegistryModule[] = [...byModule.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, tools]) => Object.freeze({ name, description: described.get(name) ?? "", tools: Object.freeze(tools) }));
  return Object.freeze({
    tools: Object.freeze([...descriptors]),
    get: (name: string) => byName.get(name),
    modules: Object.freeze(modules),
    manifest,
  });
}

/** Extracts the JSON array from a generated module file (`export const tools ... = [...];`) without executing it. */
function parseModuleFile(file: string, text: string): ToolDescriptor[] {
  const match = /export const tools[^=]*=\s*/.exec(text);
  if (!match) throw new GatewayError("internal", `registry: ${file} has no 'export const tools = ...'`);
  const rest = text.slice(match.index + match[0].length).trimEnd().replace(/;$/, "");
  try {
    return JSON.parse(rest) as ToolDescriptor[];
  } catch (err) {
    throw new GatewayError("internal", `registry: ${file}: tools array is not JSON (${(err as Error).message})`);
  }
}

/** Loads `generated/<api>/`: the manifest and every module file it names. */
export async function loadRegistry(dir: string): Promise<Registry> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Manifest;
  } catch (err) {
    throw new GatewayError("internal", `registry: cannot read ${join(dir, "manifest.json")} (${(err as Error).message}); run 'countersign generate' first`);
  }
  const files = await Promise.all(
    manifest.modules.map(async (m) => parseModuleFile(m.file, await readFile(join(dir, m.file), "utf8"))),
  );
  return createRegistry(files.flat(), manifest);
}
