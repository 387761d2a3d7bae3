/**
 * Reads a generated API folder without executing TypeScript: the manifest, then each module
 * file's JSON array (the text between the tools marker and the final `;`).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Manifest, ToolDescriptor } from "./descriptor.js";
import { TOOLS_MARKER } from "./emit.js";

/** One loaded API: its manifest and every tool, in module then name order. */
export interface GeneratedApi {
  readonly manifest: Manifest;
  readonly tools: readonly ToolDescriptor[];
}

/** Loads `generated/<api>/`; throws an Error naming the file when it is not generator output. */
export async function loadGenerated(dir: string): Promise<GeneratedApi> {
  const manifestPath = path.join(dir, "manifest.json");
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Manifest;
  } catch (err) {
    throw new Error(`${manifestPath}: cannot read the manifest (${(err as Error).message})`);
  }
  if (!Array.isArray(manifest.modules)) throw new Error(`${manifestPath}: no modules list`);
  // Read all at once (a large API has dozens of module files; one at a time, each waits its turn
  // on the I/O threads), parsed in the manifest's order.
  const files = manifest.modules.map((m) => path.join(dir, m.file));
  const texts = await Promise.all(files.map((file) => readFile(file, "utf8")));
  const tools: ToolDescriptor[] = [];
  texts.forEach((text, i) => tools.push(...parseModuleFile(text, files[i]!)));
  return { manifest, tools };
}

/** Extracts the tool array from a module file's text. */
export function parseModuleFile(text: string, file: string): ToolDescriptor[] {
  const start = text.indexOf(TOOLS_MARKER);
  const end = text.lastIndexOf(";");
  if (start === -1 || end < start) throw new Error(`${file}: not a generated module file (no tools array)`);
  const json = text.slice(start + TOOLS_MARKER.length, end);
  try {
    return JSON.parse(json) as ToolDescriptor[];
  } catch (err) {
    throw new Error(`${file}: the tools array is not valid JSON (${(err as Error).message})`);
  }
}
