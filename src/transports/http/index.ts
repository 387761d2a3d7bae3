/**
 * Streamable HTTP on Koa: `/mcp` (POST, GET for the server stream, DELETE to end a session) and
 * the probes. `/mcp` is one composition of middleware, in order: error answers, Host/Origin guard,
 * methods, admission from the headers (2026-07-28), body, era, admission from the body (2025), then
 * the SDK server of the request's session, or the stateless handler of a 2026-07-28 request.
 */
import type { Server as NodeServer } from "node:http";
import type { AddressInfo } from "node:net";
import Koa from "koa";
import Router from "@koa/router";
import type { Gateway } from "../../gateway.js";
import { createConsole } from "../../console/server.js";
import { addOAuthRoutes, resourceMetadataPointer } from "../../oauth/routes.js";
import { admission } from "./admission.js";
import { jsonRpcBody, legacyParamChecks } from "./body.js";
import { errorAnswers } from "./errors.js";
import { hostGuard, methods } from "./guards.js";
import { mcpHandler } from "./mcp.js";
import { classifyEra, headerAdmission, modernServing } from "./modern.js";
import { addProbes } from "./probes.js";
import { createSessions, type LiveSession } from "./sessions.js";

/** A running HTTP gateway. */
export interface HttpHandle {
  readonly url: string;
  readonly port: number;
  readonly server: NodeServer;
  /** Open stateful sessions. */
  sessionCount(): number;
  /** Sends notifications/tools/list_changed to every open session (hot reload). */
  notifyToolsChanged(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the Koa app for a gateway; `listen` it yourself or use startHttpServer. */
export function createHttpApp(gateway: Gateway): { app: Koa; router: Router; sessions: Map<string, LiveSession>; toolsChanged(): void; closeSessions(): Promise<void> } {
  const config = gateway.deps.config.http;
  const log = gateway.deps.log;
  const sessions = createSessions(gateway);
  const modern = modernServing(gateway, (state) => sessions.binding(state.principal!, state.params));
  const app = new Koa();
  const router = new Router();

  app.use(errorAnswers(log));
  // The people's console under /console (src/console): its own sign-in, never an agent token.
  if (gateway.deps.config.console.enabled) app.use(createConsole(gateway).middleware);
  addProbes(router, gateway, () => sessions.live.size);
  // The OAuth authorization server (src/oauth): discovery, registration, /authorize, /token.
  addOAuthRoutes(router, gateway);
  router.all(
    "/mcp",
    resourceMetadataPointer(gateway),
    hostGuard(config),
    methods(config.stateless ? ["POST"] : ["GET", "POST", "DELETE"]),
    headerAdmission(gateway),
    jsonRpcBody(gateway.deps.config),
    classifyEra(),
    legacyParamChecks(),
    admission(gateway),
    mcpHandler(gateway, sessions, modern),
  );

  app.on("error", (err: unknown) => log.warn({ err }, "http error"));
  app.use(router.routes());
  app.use(router.allowedMethods());

  return {
    app,
    router,
    sessions: sessions.live,
    toolsChanged: () => modern.toolsChanged(),
    closeSessions: async () => {
      await modern.close();
      await sessions.close();
    },
  };
}

/** Starts the HTTP gateway; port 0 picks a free port. */
export async function startHttpServer(gateway: Gateway, options: { port?: number; host?: string } = {}): Promise<HttpHandle> {
  const { app, sessions, toolsChanged, closeSessions } = createHttpApp(gateway);
  const host = options.host ?? gateway.deps.config.http.host;
  const port = options.port ?? gateway.deps.config.http.port;
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const actual = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${actual}/mcp`,
    port: actual,
    server,
    sessionCount: () => sessions.size,
    async notifyToolsChanged() {
      toolsChanged();
      await Promise.all([...sessions.values()].map((s) => s.server.sendToolListChanged().catch(() => undefined)));
    },
    async close() {
      await closeSessions();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
