/**
 * The environment variables the gateway knows besides the settings' own (the toolchain's, the
 * commands' inputs), and the lookups over both that the loader and the flag parsers use.
 */
import { GATEWAY, SETTINGS, type ConfigCommand, type Setting } from "./settings.js";

/** Environment variables read outside the resolved `Config`; known, so never refused as typos. */
export interface OtherVariable {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly flag?: string;
  readonly doc: string;
  /** Read by the toolchain (tests, benchmarks, the launcher), not by an operator's gateway. */
  readonly tooling?: boolean;
}

export const OTHER_VARIABLES: readonly OtherVariable[] = [
  { name: "COUNTERSIGN_CONFIG", flag: "config", doc: "the config file (YAML or JSON); relative paths in it are relative to its folder" },
  { name: "COUNTERSIGN_MCP_TOKEN", aliases: ["MCP_TOKEN"], doc: "the agent token for `stdio` and `connect`" },
  { name: "COUNTERSIGN_HEAP_TUNING", doc: "`off` leaves V8's own heap sizing to `stdio` and `serve` (see Memory below); default `on`" },
  { name: "COUNTERSIGN_SPEC", doc: "`generate`: the OpenAPI file (see Generator below)" },
  { name: "COUNTERSIGN_OUT", doc: "`generate`: the output folder" },
  { name: "COUNTERSIGN_GENERATE_CONFIG", doc: "`generate`: its config file" },
  { name: "OTEL_EXPORTER_OTLP_ENDPOINT", aliases: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], doc: "OpenTelemetry: the OTLP/HTTP collector (`http://host:4318`); set, traces and metrics are exported (see docs/observability.md)" },
  { name: "OTEL_TRACES_EXPORTER", doc: "OpenTelemetry: `otlp` turns tracing on (to `http://localhost:4318` unless an endpoint is set), `none` off; default off" },
  { name: "OTEL_SERVICE_NAME", doc: "OpenTelemetry: the service name on spans and metrics (`OTEL_RESOURCE_ATTRIBUTES` adds more); default `countersign`" },
  { name: "OTEL_SDK_DISABLED", doc: "OpenTelemetry: `true` keeps tracing off whatever else is set" },
  { name: "COUNTERSIGN_NO_BUNDLE", doc: "`1` starts `stdio` and `serve` from `dist/` instead of the bundled runtime", tooling: true },
  { name: "COUNTERSIGN_SKIP_BUILD", doc: "`1`: the test suite uses the `dist/` already built", tooling: true },
  { name: "COUNTERSIGN_ORACLE_GITHUB", doc: "`0` skips the GitHub sample of the Prism oracle test", tooling: true },
  { name: "COUNTERSIGN_BENCH_BASE", doc: "a second built checkout the benchmarks compare against", tooling: true },
  { name: "COUNTERSIGN_HEAP_MB", doc: "heap cap used by `bench/memory.js` runs", tooling: true },
  { name: "COUNTERSIGN_PROPERTY_RUNS", doc: "runs per property in the property-based tests", tooling: true },
];

/** The one prefix of the gateway's own environment variables. */
export const ENV_PREFIX = "COUNTERSIGN_";

/** Every environment variable name the gateway or its toolchain knows. */
export function knownEnvNames(): Set<string> {
  const names = new Set<string>();
  for (const s of SETTINGS) {
    if (s.env) names.add(s.env);
    for (const a of s.envAliases ?? []) names.add(a.name);
  }
  for (const v of OTHER_VARIABLES) {
    names.add(v.name);
    for (const a of v.aliases ?? []) names.add(a);
  }
  return names;
}

/** Settings whose flag the command parses. */
export function flagSettings(command: ConfigCommand): Setting[] {
  return SETTINGS.filter((s) => s.flag !== undefined && (s.commands ?? GATEWAY).includes(command));
}
