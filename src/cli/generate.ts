/**
 * `countersign generate [--spec FILE] [--out DIR] [--config FILE] [--check] [--strict] [--allow-remote-refs]`
 *
 * Exit codes: 0 written (or up to date with --check), 1 stale output with --check or a write
 * failure, 2 unreadable or non-OpenAPI spec, bad config, bad usage, or with --strict any warning
 * (nothing written). Problems inside operations are warnings on stderr, not failures.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { loadConfig, ConfigError } from "../../codegen/config.js";
import { apiNameOf, generate } from "../../codegen/generate.js";
import { staleFiles, writeAtomically } from "../../codegen/output.js";

const DEFAULT_SPEC = "openapi/workspace.yaml";
const DEFAULT_CONFIG = "openapi/countersign.yaml";

const USAGE = `usage: countersign generate [--spec FILE] [--out DIR] [--config FILE] [--check] [--strict] [--allow-remote-refs]

  --spec FILE           OpenAPI 3.0/3.1 or Swagger 2.0, JSON or YAML (env COUNTERSIGN_SPEC; default ${DEFAULT_SPEC})
  --out DIR             output folder (env COUNTERSIGN_OUT; default generated/<spec base name>)
  --config FILE         generator config (env COUNTERSIGN_GENERATE_CONFIG; default ${DEFAULT_CONFIG} if present)
  --check               regenerate in memory; exit 1 and list stale files if the output differs
  --strict              any warning (a relaxed schema, an invalid operation) fails: exit 2, nothing written
  --allow-remote-refs   fetch http(s) $refs (off by default)
`;

interface Args {
  spec?: string;
  out?: string;
  config?: string;
  check: boolean;
  strict: boolean;
  allowRemoteRefs: boolean;
  help: boolean;
}

function parseArgs(argv: string[]): Args | string {
  const args: Args = { check: false, strict: false, allowRemoteRefs: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case "--spec":
      case "--out":
      case "--config": {
        const v = value();
        if (!v) return `${flag} needs a value`;
        args[flag.slice(2) as "spec" | "out" | "config"] = v;
        break;
      }
      case "--check":
        args.check = true;
        break;
      case "--strict":
        args.strict = true;
        break;
      case "--allow-remote-refs":
        args.allowRemoteRefs = true;
        break;
      case "-h":
      case "--help":
        args.help = true;
        break;
      default:
        return `unknown argument ${JSON.stringify(a)}`;
    }
  }
  return args;
}

/** A path as written in headers: relative to the working directory, `/`-separated, never absolute. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), path.resolve(p));
  if (rel === "" ) return ".";
  if (rel.startsWith("..") || path.isAbsolute(rel)) return path.basename(p);
  return rel.split(path.sep).join("/");
}

/** Runs the command; resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (typeof parsed === "string") {
    process.stderr.write(`countersign generate: ${parsed}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const env = process.env;
  const configPath = parsed.config ?? env.COUNTERSIGN_GENERATE_CONFIG ?? DEFAULT_CONFIG;
  const configExplicit = parsed.config !== undefined || env.COUNTERSIGN_GENERATE_CONFIG !== undefined;
  let config;
  try {
    config = await loadConfig(configPath, shown(configPath), configExplicit);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`countersign generate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const spec = parsed.spec ?? env.COUNTERSIGN_SPEC ?? config.spec ?? DEFAULT_SPEC;
  const api = apiNameOf(spec);
  const defaultOut = path.join("generated", api);
  const out = parsed.out ?? env.COUNTERSIGN_OUT ?? config.out ?? defaultOut;

  const command = [
    "countersign generate",
    `--spec ${shown(spec)}`,
    ...(path.resolve(out) !== path.resolve(defaultOut) ? [`--out ${shown(out)}`] : []),
    ...(configExplicit && path.resolve(configPath) !== path.resolve(DEFAULT_CONFIG) ? [`--config ${shown(configPath)}`] : []),
    ...(parsed.allowRemoteRefs || config.allowRemoteRefs ? ["--allow-remote-refs"] : []),
  ].join(" ");

  const outcome = await generate({
    specPath: spec,
    command,
    api,
    rules: config.rules,
    allowRemoteRefs: parsed.allowRemoteRefs || config.allowRemoteRefs === true,
  });
  if (!outcome.ok) {
    process.stderr.write(`countersign generate: ${shown(spec)}: ${outcome.error}\n`);
    return 2;
  }
  const s = outcome.summary;
  for (const w of s.warnings) process.stderr.write(`countersign generate: warning: ${w.pointer ? `${w.pointer}: ` : ""}${w.problem}\n`);
  if (parsed.strict && s.warnings.length > 0) {
    process.stderr.write(`countersign generate --strict: ${shown(spec)} has ${s.warnings.length} warning${s.warnings.length === 1 ? "" : "s"}; nothing written\n`);
    return 2;
  }
  if (parsed.check) {
    const stale = existsSync(out) ? await staleFiles(out, outcome.files) : [`${shown(out)} (missing)`];
    if (stale.length > 0) {
      process.stderr.write(`countersign generate --check: ${shown(out)} is stale; run \`${command}\`\n${stale.map((f) => `  ${f}\n`).join("")}`);
      return 1;
    }
    process.stdout.write(`${shown(out)} is up to date (${s.tools} tools, spec sha256 ${s.sha256.slice(0, 12)})\n`);
    return 0;
  }
  try {
    await writeAtomically(out, outcome.files);
  } catch (err) {
    process.stderr.write(`countersign generate: cannot write ${shown(out)}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`${shown(out)}: ${s.tools} tools in ${s.modules} modules, ${s.excluded} excluded (spec sha256 ${s.sha256.slice(0, 12)})\n`);
  for (const n of s.notes) process.stdout.write(`  note: ${n}\n`);
  return 0;
}
