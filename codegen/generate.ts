/**
 * The generator: spec file → the complete text of `generated/<api>/`, in memory. Writing and
 * `--check` are separate (output.ts) so a failed run never touches the old output.
 */
import path from "node:path";
import { ConfigError } from "./config.js";
import { emitCore, emitTypes, emitUpstream, headerLine } from "./emit.js";
import { buildApiTypes, emitApiTypes } from "./api-types.js";
import { isObject, loadSpec } from "./load-spec.js";
import { buildTools, type BuildWarning } from "./operations.js";
import { DEFAULT_RULES, type Rule } from "./rules.js";
import { SpecError } from "./spec-error.js";
import { startUpstreamTypes } from "./upstream-types.js";

export interface GenerateRequest {
  /** Spec file (JSON or YAML, optionally .gz). */
  readonly specPath: string;
  /** Header command line, with repo-relative paths. */
  readonly command: string;
  /** API name; defaults to the spec file's base name. */
  readonly api?: string;
  readonly rules?: readonly Rule[];
  readonly allowRemoteRefs?: boolean;
  /** Run openapi-typescript for upstream.d.ts (default true). */
  readonly upstreamTypes?: boolean;
}

/** Counts for the CLI's summary line. */
export interface GenerateSummary {
  readonly api: string;
  readonly sha256: string;
  readonly tools: number;
  readonly modules: number;
  readonly excluded: number;
  readonly notes: readonly string[];
  /** Problems worked around instead of failing, sorted by pointer (`--strict` makes them fatal). */
  readonly warnings: readonly BuildWarning[];
}

export type GenerateOutcome =
  | { readonly ok: true; readonly files: ReadonlyMap<string, string>; readonly summary: GenerateSummary }
  | { readonly ok: false; readonly error: string; readonly pointer?: string };

/** `openapi/workspace.yaml` → `workspace`. */
export function apiNameOf(specPath: string): string {
  const base = path.basename(specPath).replace(/\.gz$/i, "").replace(/\.(ya?ml|json)$/i, "");
  return base.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "api";
}

/** Generates every output file; bad specs come back as `{ ok: false }` with the pointer. */
export async function generate(req: GenerateRequest): Promise<GenerateOutcome> {
  try {
    const spec = await loadSpec(req.specPath, { allowRemoteRefs: req.allowRemoteRefs ?? false });
    // Types print on a worker thread while the tools are built.
    const converted = spec.sourceVersion.startsWith("swagger");
    const pendingTypes = req.upstreamTypes === false ? undefined : startUpstreamTypes({ ...(converted ? { root: spec.root } : { specPath: req.specPath }), singleDocument: spec.documents.size === 1 });
    let build;
    try {
      build = buildTools(spec, req.rules ?? DEFAULT_RULES);
    } catch (err) {
      pendingTypes?.cancel();
      throw err;
    }
    const info = isObject(spec.root.info) ? spec.root.info : {};
    const api = req.api ?? apiNameOf(req.specPath);
    const notes: string[] = [];
    if (converted) notes.push(`converted from ${spec.sourceVersion} with swagger2openapi; pointers refer to the converted document`);
    let upstreamText: string;
    if (!pendingTypes) {
      upstreamText = emitUpstream(spec.sha256, req.command, { ok: false, reason: "upstream types were not requested" });
      notes.push("upstream.d.ts: not requested");
    } else {
      const types = await pendingTypes.result;
      upstreamText = emitUpstream(spec.sha256, req.command, types);
      if (!types.ok) notes.push(`upstream.d.ts: ${types.reason}`);
    }
    const files = emitCore({
      api,
      title: typeof info.title === "string" ? info.title : api,
      version: typeof info.version === "string" ? info.version : String(info.version ?? ""),
      sha256: spec.sha256,
      command: req.command,
      build,
      notes,
    });
    files.set("types.ts", emitTypes(spec.sha256, req.command));
    files.set("upstream.d.ts", upstreamText);
    // run_code's typed client, for get_api_types.
    files.set("api-types.json", emitApiTypes(headerLine(spec.sha256, req.command), buildApiTypes(build.tools)));
    const sorted = new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      ok: true,
      files: sorted,
      summary: { api, sha256: spec.sha256, tools: build.tools.length, modules: build.modules.length, excluded: build.excluded.length, notes, warnings: build.warnings },
    };
  } catch (err) {
    if (err instanceof SpecError) return { ok: false, error: err.message, pointer: err.pointer };
    if (err instanceof ConfigError) return { ok: false, error: err.message };
    throw err;
  }
}
