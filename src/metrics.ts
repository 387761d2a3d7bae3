/**
 * Prometheus metrics (prom-client), one registry per gateway so tests and several in-process
 * gateways don't share counters. The audit stage records calls, gateway latency and rate-limit
 * rejections for every tool call; other parts report what only they know (upstream latency,
 * pending actions, sessions) through the functions below.
 */
import { createRequire } from "node:module";
import type { Counter, Gauge, Registry } from "prom-client";

// prom-client costs a starting process tens of ms of module loading, and neither stdio nor a
// first tools/list needs it: it is loaded (synchronously, it is CommonJS) when a metric is first
// fed or read.
type PromClient = typeof import("prom-client");
let promClient: PromClient | undefined;
function loadPromClient(): PromClient {
  return (promClient ??= createRequire(import.meta.url)("prom-client") as PromClient);
}

/** Seconds; from sub-millisecond gateway work to slow upstreams. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The gateway's metrics and the functions that feed them. */
export interface Metrics {
  readonly registry: Registry;
  /** One finished tools/call (every outcome, including refusals). */
  observeCall(labels: { tool: string; module?: string; outcome: string; upstream?: string }, seconds?: number): void;
  /** Time spent waiting for the upstream API on one request; `status` is the HTTP status (0 when none came back). */
  observeUpstream(seconds: number, status?: number, upstream?: string): void;
  /** A call refused by a rate-limit bucket (of one upstream's budget, in a gateway of several). */
  rateLimitRejected(bucket: string, upstream?: string): void;
  /** Reports the current number of pending actions (or pass a function read at scrape time). */
  setPendingActions(count: number | (() => number | Promise<number>)): void;
  /** Reports the current number of MCP sessions (or pass a function read at scrape time). */
  setSessions(count: number | (() => number | Promise<number>), transport?: string): void;
  sessionOpened(transport?: string): void;
  sessionClosed(transport?: string): void;
  /** Reports the audit sink's buffer depth and dropped records (read at scrape time). */
  trackAuditBuffer(read: () => number, dropped?: () => number): void;
  /** Distributed mode: exports `redis_up` (1 reachable, 0 not), read at scrape time. */
  trackRedis(up: () => boolean): void;
  /** Distributed mode: a rate-limit decision taken by this replica's in-memory insurance limiter because Redis was unreachable. */
  insuranceLimiterUsed(): void;
  /** Prometheus text exposition. */
  text(): Promise<string>;
  readonly contentType: string;
}

type Source = number | (() => number | Promise<number>);

/** Creates a registry with the gateway's metrics; `defaults` adds process metrics (CPU, memory, event loop). */
export function createMetrics(options: { defaults?: boolean; prefix?: string } = {}): Metrics {
  const prefix = options.prefix ?? "countersign_";
  // Sources read at scrape time; recorded without prom-client so that wiring a gateway loads nothing.
  let pendingSource: Source = 0;
  const sessionSources = new Map<string, Source>();
  let auditBuffer: () => number = () => 0;
  let auditDropped: () => number = () => 0;
  let redisSource: (() => boolean) | undefined;

  type Built = ReturnType<typeof build>;
  let built: Built | undefined;
  const get = (): Built => {
    if (!built) {
      built = build();
      redisMetrics(built);
    }
    return built;
  };

  function build() {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = loadPromClient();
    const registry = new Registry();
    if (options.defaults) collectDefaultMetrics({ register: registry, prefix });

    const calls = new Counter({
      name: `${prefix}tool_calls_total`,
      help: "Tool calls by tool, module, outcome and upstream (empty for a lone API).",
      labelNames: ["tool", "module", "outcome", "upstream"] as const,
      registers: [registry],
    });
    const gateway = new Histogram({
      name: `${prefix}gateway_duration_seconds`,
      help: "Time from a tools/call entering the chain to its answer, upstream included.",
      labelNames: ["outcome"] as const,
      buckets: BUCKETS,
      registers: [registry],
    });
    const upstream = new Histogram({
      name: `${prefix}upstream_duration_seconds`,
      help: "Time spent on requests to the upstream API, by status class and upstream (empty for a lone API).",
      labelNames: ["status", "upstream"] as const,
      buckets: BUCKETS,
      registers: [registry],
    });
    const rejections = new Counter({
      name: `${prefix}rate_limit_rejections_total`,
      help: "Calls refused by a rate-limit bucket, by bucket and upstream (empty for a lone API or the gateway-wide budget).",
      labelNames: ["bucket", "upstream"] as const,
      registers: [registry],
    });
    new Gauge({
      name: `${prefix}pending_actions`,
      help: "Pending actions awaiting confirmation.",
      registers: [registry],
      async collect() {
        this.set(typeof pendingSource === "function" ? await pendingSource() : pendingSource);
      },
    });
    new Gauge({
      name: `${prefix}sessions`,
      help: "Open MCP sessions by transport.",
      labelNames: ["transport"] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const [transport, src] of sessionSources) this.set({ transport }, typeof src === "function" ? await src() : src);
      },
    });
    new Gauge({
      name: `${prefix}audit_buffered_records`,
      help: "Audit records waiting to be written to the sink.",
      registers: [registry],
      collect() {
        this.set(auditBuffer());
      },
    });
    new Gauge({
      name: `${prefix}audit_dropped_records`,
      help: "Audit records given up on since start because the sink kept failing with a full buffer.",
      registers: [registry],
      collect() {
        this.set(auditDropped());
      },
    });
    return { registry, calls, gateway, upstream, rejections, Gauge, Counter, redisUp: undefined as Gauge | undefined, insurance: undefined as Counter | undefined };
  }

  // Registered only in the distributed mode, so an embedded gateway shows no misleading redis_up 0.
  const redisMetrics = (b: Built) => {
    if (!redisSource || b.redisUp) return;
    const up = redisSource;
    b.redisUp = new b.Gauge({ name: `${prefix}redis_up`, help: "Whether this replica reaches Redis (1) or not (0).", registers: [b.registry], collect() { this.set(up() ? 1 : 0); } });
    b.insurance = new b.Counter({ name: `${prefix}rate_limit_insurance_total`, help: "Rate-limit decisions taken by this replica's in-memory insurance limiter while Redis was unreachable.", registers: [b.registry] });
  };

  // Labelled children are cached: resolving labels on every call costs more than the increment.
  const callChildren = new Map<string, { count: { inc(): void }; latency: { observe(v: number): void } }>();
  const upstreamChildren = new Map<string, { observe(v: number): void }>();

  const bump = (transport: string, delta: number) => {
    const cur = sessionSources.get(transport);
    sessionSources.set(transport, Math.max(0, (typeof cur === "number" ? cur : 0) + delta));
  };

  return {
    get registry() {
      return get().registry;
    },
    observeCall(labels, seconds) {
      const key = `${labels.tool}\u0000${labels.module ?? ""}\u0000${labels.outcome}\u0000${labels.upstream ?? ""}`;
      let child = callChildren.get(key);
      if (!child) {
        const b = get();
        child = { count: b.calls.labels({ tool: labels.tool, module: labels.module ?? "", outcome: labels.outcome, upstream: labels.upstream ?? "" }), latency: b.gateway.labels({ outcome: labels.outcome }) };
        callChildren.set(key, child);
      }
      child.count.inc();
      if (seconds !== undefined) child.latency.observe(seconds);
    },
    observeUpstream(seconds, status, upstream = "") {
      const cls = !status ? "error" : `${Math.floor(status / 100)}xx`;
      const key = `${cls}\u0000${upstream}`;
      let child = upstreamChildren.get(key);
      if (!child) upstreamChildren.set(key, (child = get().upstream.labels({ status: cls, upstream })));
      child.observe(seconds);
    },
    rateLimitRejected(bucket, upstream = "") {
      get().rejections.inc({ bucket, upstream });
    },
    setPendingActions(count) {
      pendingSource = count;
    },
    setSessions(count, transport = "http") {
      sessionSources.set(transport, count);
    },
    sessionOpened(transport = "http") {
      bump(transport, 1);
    },
    sessionClosed(transport = "http") {
      bump(transport, -1);
    },
    trackAuditBuffer(read, dropped) {
      auditBuffer = read;
      if (dropped) auditDropped = dropped;
    },
    trackRedis(up) {
      redisSource ??= up;
      if (built) redisMetrics(built);
    },
    insuranceLimiterUsed() {
      get().insurance?.inc();
    },
    text: () => get().registry.metrics(),
    get contentType() {
      return get().registry.contentType;
    },
  };
}

/** A Koa-style handler for `GET /metrics`. */
export function metricsHandler(metrics: Metrics) {
  return async function serveMetrics(ctx: { set(field: string, value: string): void; body: unknown; status: number }): Promise<void> {
    ctx.set("Content-Type", metrics.contentType);
    ctx.set("Cache-Control", "no-store");
    ctx.body = await metrics.text();
    ctx.status = 200;
  };
}
