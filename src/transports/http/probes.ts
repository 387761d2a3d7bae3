/**
 * Probes: `/healthz` (the process answers), `/readyz` (what it depends on works: the data dir, and
 * Redis in the distributed mode) and `/metrics` (Prometheus; behind a bearer unless the gateway
 * listens on loopback only).
 */
import { timingSafeEqual, createHash } from "node:crypto";
import type Router from "@koa/router";
import { GatewayError } from "../../errors.js";
import type { Gateway } from "../../gateway.js";
import { metricsHandler } from "../../metrics.js";

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Adds the probe routes. */
export function addProbes(router: Router, gateway: Gateway, sessionCount: () => number): void {
  const config = gateway.deps.config.http;
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/readyz", async (ctx) => {
    const checks = await gateway.readiness();
    const ready = Object.values(checks).every((c) => c.ok);
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? "ready" : "not_ready", checks, tools: gateway.registry.tools.length, sessions: sessionCount() };
  });
  const serveMetrics = metricsHandler(gateway.deps.metrics);
  router.get("/metrics", async (ctx) => {
    if (!isLoopback(config.host)) {
      // Per-tool and per-token figures are not for whoever can reach a public address.
      if (!config.metricsToken) throw new GatewayError("forbidden", "/metrics is off on a non-loopback address unless COUNTERSIGN_METRICS_TOKEN is set (then send it as a bearer)");
      const m = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get("authorization"));
      if (!m || !sameSecret(m[1]!, config.metricsToken)) throw new GatewayError("unauthorized", "/metrics needs the metrics token as a bearer (COUNTERSIGN_METRICS_TOKEN)", { details: { reason: m ? "unknown" : "missing" } });
    }
    await serveMetrics(ctx);
  });
}
