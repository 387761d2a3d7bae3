/**
 * What tracing plugs into when it is on, without the OpenTelemetry SDK loaded when it is off: the
 * switch (the standard OTEL_* variables), the fields pino adds to each line and the wrapper around
 * an upstream request. src/telemetry/sdk.ts fills the hooks in; everything else only reads them.
 */
import type { UpstreamResponse } from "../upstream/node-fetch.js";

/** Tracing is on when an OTLP exporter is asked for (OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint), and not disabled. */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === "none") return false;
  return exporter === "otlp" || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Sends one upstream request inside a client span, with `traceparent` added to `headers`. */
export type AroundUpstream = (method: string, url: string, headers: Record<string, string>, send: () => Promise<UpstreamResponse>) => Promise<UpstreamResponse>;

export interface TelemetryHooks {
  /** The trace and span ids of the active span, for a log line. */
  logFields?: () => Record<string, string>;
  aroundUpstream?: AroundUpstream;
}

/** Empty while tracing is off. */
export const hooks: TelemetryHooks = {};
