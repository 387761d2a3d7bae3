/**
 * Traces and metrics over OTLP/HTTP, following the MCP semantic conventions. Loaded (with the
 * OpenTelemetry SDK) only when tracing is configured (src/telemetry/hooks.ts); the exporters read
 * the standard OTEL_* variables themselves (endpoint, headers, timeouts, batch delays).
 */
import { context, metrics, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Histogram, type Span, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { CallContext, Stage } from "../context.js";
import { toGatewayError } from "../errors.js";
import type { CallRequest } from "../gateway.js";
import { hooks } from "./hooks.js";

/** What the composition root uses while tracing is on. */
export interface Telemetry {
  /** The same stages, each in a child span of the call's. */
  wrapStages<S extends object>(stages: S): S;
  /** Runs one tools/call in a server span and records its duration. */
  call(req: CallRequest, ctx: CallContext, run: () => Promise<void>): Promise<void>;
  /** Flushes what is buffered. */
  shutdown(): Promise<void>;
}

const SCOPE = "countersign";

let started: Telemetry | undefined;

/** Starts tracing once per process (the context manager and propagator are process-wide). */
export function startTelemetry(): Telemetry {
  started ??= start();
  return started;
}

function start(): Telemetry {
  const resource = resourceFromAttributes({ "service.name": "countersign" }).merge(detectResources({ detectors: [envDetector] }));
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  const interval = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000;
  const meterProvider = new MeterProvider({ resource, readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: interval })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  const tracer = tracerProvider.getTracer(SCOPE);
  const duration = meterProvider.getMeter(SCOPE).createHistogram("mcp.server.operation.duration", {
    unit: "s",
    description: "Duration of the MCP request as the server sees it",
    advice: { explicitBucketBoundaries: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300] },
  });

  hooks.logFields = (): Record<string, string> => {
    const span = trace.getActiveSpan();
    if (!span) return {};
    const { traceId, spanId } = span.spanContext();
    return { trace_id: traceId, span_id: spanId };
  };
  hooks.aroundUpstream = (method, url, headers, send) => upstreamSpan(tracer, method, url, headers, send);

  return {
    wrapStages: (stages) => Object.fromEntries(Object.entries(stages).map(([name, stage]) => [name, tracedStage(tracer, name, stage as Stage)])) as typeof stages,
    call: (req, ctx, run) => callSpan(tracer, duration, req, ctx, run),
    async shutdown() {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

function failed(span: Span, errorType: string): void {
  span.setAttribute("error.type", errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

async function callSpan(tracer: Tracer, duration: Histogram, req: CallRequest, ctx: CallContext, run: () => Promise<void>): Promise<void> {
  const t = req.trace;
  // A traceparent in params._meta makes the caller's span the parent; otherwise the active one (a call inside a meta-tool's).
  const parent: Context = t?.traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent: t.traceparent, ...(t.tracestate ? { tracestate: t.tracestate } : {}) }) : context.active();
  const metric: Attributes = { "mcp.method.name": "tools/call", "gen_ai.tool.name": req.name, "gen_ai.operation.name": "execute_tool" };
  const attributes: Attributes = { ...metric };
  if (t?.jsonrpcId !== undefined) attributes["jsonrpc.request.id"] = String(t.jsonrpcId);
  if (t?.protocolVersion) metric["mcp.protocol.version"] = attributes["mcp.protocol.version"] = t.protocolVersion;
  if (req.sessionId) attributes["mcp.session.id"] = req.sessionId;
  const span = tracer.startSpan(`tools/call ${req.name}`, { kind: SpanKind.SERVER, attributes }, parent);
  const startedAt = performance.now();
  let errorType: string | undefined;
  try {
    await context.with(trace.setSpan(parent, span), run);
    if (ctx.result?.isError) errorType = "tool_error";
  } catch (err) {
    errorType = toGatewayError(err).code;
    throw err;
  } finally {
    if (errorType) {
      failed(span, errorType);
      metric["error.type"] = errorType;
    }
    span.end();
    duration.record((performance.now() - startedAt) / 1000, metric);
  }
}

function tracedStage(tracer: Tracer, name: string, stage: Stage): Stage {
  const spanName = `stage ${name}`;
  const end = (span: Span, err?: unknown) => {
    if (err !== undefined) failed(span, toGatewayError(err).code);
    span.end();
  };
  // No async wrapper: a traced call already has ten spans, each stage's extra promise ticks would add up.
  return function traced(ctx, next) {
    const span = tracer.startSpan(spanName);
    let running: Promise<void>;
    try {
      running = context.with(trace.setSpan(context.active(), span), stage, undefined, ctx, next);
    } catch (err) {
      end(span, err);
      throw err;
    }
    return running.then(
      () => end(span),
      (err: unknown) => {
        end(span, err);
        throw err;
      },
    );
  };
}

async function upstreamSpan(tracer: Tracer, method: string, url: string, headers: Record<string, string>, send: () => ReturnType<Parameters<NonNullable<typeof hooks.aroundUpstream>>[3]>) {
  const target = new URL(url);
  // The query may carry a credential (an API key parameter): the span records the URL without it.
  const span = tracer.startSpan(method, {
    kind: SpanKind.CLIENT,
    attributes: { "http.request.method": method, "url.full": `${target.origin}${target.pathname}`, "server.address": target.hostname, "server.port": Number(target.port) || (target.protocol === "https:" ? 443 : 80) },
  });
  const active = trace.setSpan(context.active(), span);
  propagation.inject(active, headers);
  try {
    const res = await context.with(active, send);
    span.setAttribute("http.response.status_code", res.status);
    if (res.status >= 500) failed(span, String(res.status));
    return res;
  } catch (err) {
    failed(span, err instanceof Error ? err.name : "Error");
    throw err;
  } finally {
    span.end();
  }
}
