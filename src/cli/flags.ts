/**
 * The configuration flags each command parses, taken from the settings table
 * (src/config/settings.ts), so a flag the docs list is a flag the command takes.
 */
import type { ConfigCommand, Setting } from "../config/settings.js";
import { flagSettings } from "../config/variables.js";

type Option = { type: "string" | "boolean"; short?: string };

/** parseArgs options for the command's configuration flags, plus `--config` and `--help`. */
export function configOptions(command: ConfigCommand): Record<string, Option> {
  const options: Record<string, Option> = { config: { type: "string" }, help: { type: "boolean", short: "h" } };
  for (const s of flagSettings(command)) options[s.flag!] = { type: s.type === "bool" && !s.flagTakesValue ? "boolean" : "string" };
  return options;
}

function placeholder(s: Setting): string {
  if (s.placeholder) return ` ${s.placeholder}`;
  if (s.type === "bool") return "";
  if (s.type === "enum") return ` ${(s.values ?? []).join("|")}`;
  if (s.type === "list") return " a,b";
  if (s.type === "int") return " N";
  if (s.type === "path") return " DIR";
  if (s.type === "url") return " URL";
  return " VALUE";
}

/** `[--port N] [--host VALUE] …` for the command's configuration flags. */
export function configUsage(command: ConfigCommand): string {
  return [...flagSettings(command).map((s) => `[--${s.flag}${placeholder(s)}]`), "[--config FILE]"].join(" ");
}

/** One line per flag: the flag, its variable and the config key it sets (or what it does, for `extra`, the command's own flags). */
export function configFlagHelp(command: ConfigCommand, extra: readonly (readonly [string, string])[] = []): string {
  const rows: (readonly [string, string, string])[] = flagSettings(command).map((s) => [`--${s.flag}${placeholder(s)}`, s.env ?? "", s.key] as const);
  rows.push(["--config FILE", "COUNTERSIGN_CONFIG", "the config file (YAML or JSON)"]);
  for (const [flag, doc] of extra) rows.push([flag, "", doc]);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([flag, env, key]) => `  ${flag.padEnd(w0)}  ${env.padEnd(w1)}  ${key}`).join("\n") + "\n";
}

/** Picks the configuration flags out of parsed values, for loadConfig. */
export function configFlags(values: Record<string, unknown>): Record<string, string | boolean | undefined> {
  const out: Record<string, string | boolean | undefined> = {};
  for (const [k, v] of Object.entries(values)) if (typeof v === "string" || typeof v === "boolean") out[k] = v;
  return out;
}
