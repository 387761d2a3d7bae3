/**
 * get_api_types' declarations: from `api-types.json`, written at codegen time beside the
 * generated tools, while it matches the loaded tools; built from the tools themselves otherwise
 * (a registry built in memory, or a hot reload the file has not caught up with).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { buildApiTypes, renderApiTypes, type ApiTypesFile } from "../../codegen/api-types.js";

const cache = new WeakMap<readonly ToolDescriptor[], ApiTypesFile>();

function load(generatedDir: string, tools: readonly ToolDescriptor[]): ApiTypesFile {
  const cached = cache.get(tools);
  if (cached) return cached;
  let file: ApiTypesFile | undefined;
  try {
    const read = JSON.parse(readFileSync(join(generatedDir, "api-types.json"), "utf8")) as ApiTypesFile;
    const names = Object.keys(read.tools);
    if (names.length === tools.length && tools.every((t) => read.tools[t.name]?.module === t.module)) file = read;
  } catch {
    file = undefined;
  }
  file ??= buildApiTypes(tools);
  cache.set(tools, file);
  return file;
}

/** The declarations of `modules`, listing only tools in `scope`. */
export function apiTypesFor(generatedDir: string, tools: readonly ToolDescriptor[], modules: readonly string[], scope: ReadonlySet<string>): string {
  return renderApiTypes(load(generatedDir, tools), modules, (name) => scope.has(name));
}
