/**
 * `countersign config`: the configuration a gateway started here would run with, each value with
 * where it came from (flag, variable, config file, default). Secrets are masked.
 */
import { parseArgs } from "node:util";
import { loadConfigWithSources, type Config } from "../config.js";
import { operatorMessage } from "../errors.js";
import { SETTINGS } from "../config/settings.js";
import { configFlagHelp, configFlags, configOptions, configUsage } from "./flags.js";

const USAGE = `usage: countersign config ${configUsage("serve")} [--json]

Prints the configuration \`countersign serve\` would start with here (the same flags, variables and
config file), one setting a line with where its value came from. Secrets are masked.

${configFlagHelp("serve", [["--json", "one JSON object: { key: { value, source } }"]])}`;

const SECRET = new Set(["secretKey", "upstream.token", "redis.url", "http.metricsToken"]);

function valueAt(config: Config, path: string): unknown {
  let node: unknown = config;
  for (const part of path.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

function shown(key: string, value: unknown): unknown {
  if (value === undefined) return undefined;
  // A secret written into the file is shown as ***; one read from a variable keeps the variable's name.
  if (key === "upstreams") return JSON.parse(JSON.stringify(value, (k, v: unknown) => (k === "value" ? "***" : v)));
  if (!SECRET.has(key)) return value;
  if (key === "redis.url" && typeof value === "string") return value.replace(/\/\/([^@/]*)@/, "//***@");
  return "***";
}

/** Prints the resolved configuration; exit 1 when it does not resolve (the message names the key). */
export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...configOptions("serve"), json: { type: "boolean" } }, strict: true }));
  } catch (err) {
    process.stderr.write(`countersign config: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { json: _json, ...flags } = configFlags(values);
  let resolved;
  try {
    resolved = loadConfigWithSources(flags);
  } catch (err) {
    process.stderr.write(`countersign config: ${operatorMessage(err)}\n`);
    return 1;
  }
  const rows: [string, unknown, string][] = [];
  for (const s of SETTINGS) {
    const value = shown(s.key, s.type === "tiers" ? resolved.config.rateLimits.tiers : valueAt(resolved.config, s.into ?? s.key));
    const source = resolved.sources[s.key] ?? "unset";
    // Config keeps a few durations in seconds; shown in the unit of the setting's name.
    rows.push([s.key, s.divisor !== undefined && typeof value === "number" ? value * s.divisor : value, source]);
  }
  if (values.json) {
    process.stdout.write(JSON.stringify(Object.fromEntries(rows.map(([k, value, source]) => [k, { value: value ?? null, source }]))) + "\n");
    return 0;
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, value, source] of rows) {
    const text = value === undefined ? "(unset)" : typeof value === "string" ? value : JSON.stringify(value);
    process.stdout.write(`${k.padEnd(width)}  ${text}${source === "default" || source === "unset" ? "" : `   (${source})`}\n`);
  }
  return 0;
}
