/**
 * `countersign lint [--spec FILE] [--config FILE] [--json] [--strict] [--allow-remote-refs]`
 *
 * What agents will see of a spec and what to fix in it, without writing anything. Markdown on
 * stdout by default, JSON with --json. Exit codes: 0 reported, 1 problems with --strict,
 * 2 unreadable or non-OpenAPI spec, bad config or bad usage.
 */
import { loadConfig, ConfigError } from "../../codegen/config.js";
import { apiNameOf } from "../../codegen/generate.js";
import { lintSpec, renderMarkdown } from "../../codegen/lint.js";
import { SpecError } from "../../codegen/spec-error.js";

const DEFAULT_SPEC = "openapi/workspace.yaml";
const DEFAULT_CONFIG = "openapi/countersign.yaml";

const USAGE = `usage: countersign lint [--spec FILE] [--config FILE] [--json] [--strict] [--allow-remote-refs]

  --spec FILE           OpenAPI 3.0/3.1 or Swagger 2.0, JSON or YAML (env COUNTERSIGN_SPEC; default ${DEFAULT_SPEC})
  --config FILE         generator config, for its exclusion rules (default ${DEFAULT_CONFIG} if present)
  --json                the report as JSON instead of Markdown
  --strict              exit 1 when there are problems (spec warnings, shortened or collided names, operations without prose)
  --allow-remote-refs   fetch http(s) $refs (off by default)
`;

interface Args {
  spec?: string;
  config?: string;
  json: boolean;
  strict: boolean;
  allowRemoteRefs: boolean;
  help: boolean;
}

function parseArgs(argv: string[]): Args | string {
  const args: Args = { json: false, strict: false, allowRemoteRefs: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    switch (flag) {
      case "--spec":
      case "--config": {
        const v = inline ?? argv[++i];
        if (!v) return `${flag} needs a value`;
        args[flag.slice(2) as "spec" | "config"] = v;
        break;
      }
      case "--json":
        args.json = true;
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

/** Runs the command; resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (typeof parsed === "string") {
    process.stderr.write(`countersign lint: ${parsed}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const configPath = parsed.config ?? process.env.COUNTERSIGN_GENERATE_CONFIG ?? DEFAULT_CONFIG;
  const configExplicit = parsed.config !== undefined || process.env.COUNTERSIGN_GENERATE_CONFIG !== undefined;
  try {
    const config = await loadConfig(configPath, configPath, configExplicit);
    const spec = parsed.spec ?? process.env.COUNTERSIGN_SPEC ?? config.spec ?? DEFAULT_SPEC;
    const report = await lintSpec(spec, apiNameOf(spec), config.rules, parsed.allowRemoteRefs || config.allowRemoteRefs === true);
    process.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report));
    return parsed.strict && report.problems > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof SpecError || err instanceof ConfigError) {
      process.stderr.write(`countersign lint: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
