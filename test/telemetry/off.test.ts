/**
 * Tracing off: what decides it (the standard OTEL_* variables), and a gateway built without them
 * sends no traceparent upstream and plugs nothing into the hooks, even when the client sent one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { traceOf } from "../../src/telemetry/call-trace.js";
import { hooks, tracingConfigured } from "../../src/telemetry/hooks.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";

const PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("tracingConfigured", () => {
  it("is off with nothing set, on with an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp", () => {
    expect(tracingConfigured({})).toBe(false);
    expect(tracingConfigured({ OTEL_SERVICE_NAME: "x" })).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe(true);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" })).toBe(true);
    expect(tracingConfigured({ OTEL_TRACES_EXPORTER: "otlp" })).toBe(true);
  });

  it("OTEL_TRACES_EXPORTER=none and OTEL_SDK_DISABLED=true win over an endpoint", () => {
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none" })).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "TRUE" })).toBe(false);
  });
});

describe("traceOf", () => {
  it("keeps a well-formed traceparent and its tracestate, the id and the protocol version", () => {
    expect(traceOf(7, "2025-11-25", { traceparent: PARENT, tracestate: "a=1" })).toEqual({ jsonrpcId: 7, protocolVersion: "2025-11-25", traceparent: PARENT, tracestate: "a=1" });
  });

  it("drops a malformed traceparent (and the tracestate with it), and a non-string one", () => {
    expect(traceOf("x", undefined, { traceparent: "00-short-01", tracestate: "a=1" })).toEqual({ jsonrpcId: "x" });
    expect(traceOf(undefined, undefined, { traceparent: 42 })).toEqual({});
    expect(traceOf(undefined, undefined, { traceparent: PARENT.toUpperCase() })).toEqual({});
  });
});

describe("a gateway with tracing off", () => {
  let h: AppHarness;
  beforeAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith("OTEL_")) delete process.env[name];
    h = await startAppHarness();
  });
  afterAll(() => h.close());

  it("calls the upstream without a traceparent, and leaves the hooks empty", async () => {
    const principal = await h.gateway.admit({ transport: "stdio", credential: h.token, request: "test" });
    const before = h.upstream.requests.length;
    const outcome = await h.gateway.call({ name: "get_item", args: { item_id: "off" }, principal, transport: "stdio", signal: new AbortController().signal, trace: traceOf(1, "2025-11-25", { traceparent: PARENT }) });
    expect(outcome.result.structuredContent).toEqual({ id: "off", name: "Widget" });
    const sent = h.upstream.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers.traceparent).toBeUndefined();
    expect(hooks).toEqual({});
  });
});
