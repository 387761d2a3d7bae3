/**
 * The composition root: builds the stores, the stages and the chains, and hands transports a
 * Gateway. Dependencies are interfaces with in-process defaults; tests override them.
 */
import { randomUUID } from "node:crypto";
import { access, constants as fsConstants } from "node:fs/promises";
import type { ToolDescriptor } from "../codegen/descriptor.js";
import type { Config } from "./config.js";
import type { AdmissionContext, AuditRecord, CallContext, Principal, ToolResult } from "./context.js";
import { toGatewayError, toToolResult } from "./errors.js";
import type { CallOutcome, Deps, Gateway, ListedTool, MetaTool, SessionContext } from "./gateway.js";
import { createLog } from "./log.js";
import { tracingConfigured } from "./telemetry/hooks.js";
import { createMetaTools } from "./mcp/meta-tools.js";
import { admissionChain, chain, compose, type AdmissionStages, type Stages } from "./pipeline.js";
import { loadRegistry, type Registry } from "./registry.js";
import { createUpstreamStage } from "./stages/upstream.js";
import { createAuditing } from "./audit/setup.js";
import { createAuditStage, createRefusalStage, timeUpstream } from "./stages/audit.js";
import { createAuthStage } from "./stages/auth.js";
import { createPolicy, createPolicyStage } from "./stages/policy.js";
import { createAdmitStage, createRateLimitStage } from "./stages/rate-limit.js";
import { createMetaStage, createResolveStage } from "./stages/resolve.js";
import { createRateLimits, type UpstreamScope } from "./stores/rate-limits.js";
import { openTokenStore } from "./stores/tokens.js";
import { createAuthenticator } from "./tokens/authenticate.js";
import { createOAuthAuthority, withAccessTokens } from "./oauth/index.js";
import { readSecretKey, SECRET_KEY_ENV } from "./tokens/sealed-credential.js";
import { createConfirmGateStage } from "./stages/confirm-gate.js";
import { ownAction } from "./confirm/actions.js";
import { createApprovalHub } from "./approvals/hub.js";
import { createFileApprovalStore } from "./approvals/store.js";
import { requestPerson } from "./approvals/request.js";
import { startWebhook } from "./approvals/webhook.js";
import { createPendingActions, type PendingAction } from "./stores/pending-actions/index.js";
import { createMemoryTaskStore } from "./stores/tasks.js";
import { createArgumentValidator, createValidateStage } from "./stages/validate.js";
import { createUpstreamClient } from "./upstream/upstream-client.js";
import { AUTO_TOOL_LIMIT, isDiscoveryTool } from "./surface/exposure.js";
import { conciseAnnotations, describeRepeatsOnce, listedSchema, sameText } from "./surface/concise.js";
import type { SchemaProfile } from "./surface/schema-profile.js";
import { checkModulesParam, sessionVisibility, surfaceSettings } from "./surface/session-surface.js";
import { loadUpstreams, toolsOfSameUpstream } from "./upstreams/load.js";

export type { AdmissionRequest, CallOutcome, CallRequest, Deps, Gateway, ListedTool } from "./gateway.js";

function listed(tool: ToolDescriptor | MetaTool, profile: SchemaProfile = "default", withOutputSchema = true): ListedTool {
  const descriptor = "binding" in tool ? tool : undefined;
  // Writes answer with a pending action, not the upstream's shape, so their outputSchema would not hold.
  const outputSchema = descriptor?.policy.write || !withOutputSchema ? undefined : tool.outputSchema;
  const annotations = tool.annotations && conciseAnnotations(tool.annotations, tool.title ?? tool.name, tool.description);
  return {
    name: tool.name,
    // surface: a title that only repeats the description costs tokens and says nothing.
    ...(tool.title && !sameText(tool.title, tool.description) ? { title: tool.title } : {}),
    description: tool.description,
    inputSchema: listedSchema(tool.inputSchema, profile),
    ...(outputSchema ? { outputSchema: listedSchema(outputSchema, profile) } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

// listed() is pure and is most of the cost of a large tools/list; every session after the first
// reuses its output. Keyed by descriptor, so a hot reload's new descriptors start fresh.
const listedCache = new WeakMap<ToolDescriptor | MetaTool, Map<string, ListedTool>>();

function listedOnce(tool: ToolDescriptor | MetaTool, profile: SchemaProfile, withOutputSchema: boolean): ListedTool {
  let byKey = listedCache.get(tool);
  if (!byKey) listedCache.set(tool, (byKey = new Map()));
  const key = `${profile}|${withOutputSchema}`;
  let out = byKey.get(key);
  if (!out) byKey.set(key, (out = listed(tool, profile, withOutputSchema)));
  return out;
}

/**
 * The tools the configured exposure mode lists to a token that sees them all: every tool in `all`
 * (and in `auto` up to its limit), the configured modules' in `modules`; none in `dynamic` or
 * `code`, which list the discovery tools instead.
 */
function listedByDefault(tools: readonly ToolDescriptor[], surface: Config["surface"]): readonly ToolDescriptor[] {
  if (surface.mode === "all" || (surface.mode === "auto" && tools.length <= AUTO_TOOL_LIMIT)) return tools;
  if (surface.mode === "modules" && surface.modules?.length) {
    const modules = new Set(surface.modules);
    return tools.filter((t) => modules.has(t.module));
  }
  return [];
}

/**
 * Fills the tools/list cache above for the tools the configured exposure mode lists (a view a
 * connection's own `?mode=` asks for is not guessed at), a chunk per turn of the event loop:
 * requests that arrive meanwhile are answered between chunks, and a client's first tools/list
 * after start-up finds most of its work done. Stops if the registry is swapped meanwhile; answers
 * how many tools were warmed.
 */
export function warmToolList(gateway: Pick<Gateway, "registry" | "deps">, chunk = 100): Promise<number> {
  const registryTools = gateway.registry.tools;
  const { surface } = gateway.deps.config;
  const tools = listedByDefault(registryTools, surface);
  let done = 0;
  return new Promise<number>((resolve) => {
    const next = () => {
      if (gateway.registry.tools !== registryTools) return resolve(done);
      const end = Math.min(tools.length, done + chunk);
      for (; done < end; done++) listedOnce(tools[done]!, surface.schemaProfile, surface.listOutputSchemas);
      if (done < tools.length) setImmediate(next).unref();
      else resolve(done);
    };
    setImmediate(next).unref();
  });
}

/** How long closing waits for the stores to flush. */
const SHUTDOWN_MS = 5_000;

/** Waits for each named promise up to `ms`; answers the names of those still unsettled. */
async function settleWithin(work: readonly (readonly [string, Promise<unknown>])[], ms: number): Promise<string[]> {
  const pending = new Set(work.map(([name]) => name));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(work.map(([name, p]) => p.finally(() => pending.delete(name)))),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
  return [...pending];
}

/** Builds a gateway from its config; loads the registry from `config.generatedDir` unless one is given. */
export async function createGateway(config: Config, overrides: Partial<Deps> = {}): Promise<Gateway> {
  const log = overrides.log ?? createLog(config.logLevel);
  // OTEL_* configured: the SDK is loaded and the chain traced; otherwise neither (src/telemetry).
  const telemetry = tracingConfigured() ? (await import("./telemetry/sdk.js")).startTelemetry() : undefined;
  const recordExpired = (a: PendingAction) => void deps.audit.recordEvent({ type: "expired", outcome: "expired", actionId: a.id, tokenId: a.tokenId, toolName: a.tool, tool: deps.registry.get(a.tool), args: a.args, sessionId: a.sessionId });
  // Loaded before Redis is opened: a bad generated dir then fails start-up without a connection left open.
  // Several upstreams (`upstreams:` in the config file): one catalog, and a client that routes each call.
  const upstreams = config.upstreams.length > 0 && !overrides.registry ? await loadUpstreams(config, { current: () => deps.registry, log }) : undefined;
  const registry = overrides.registry ?? upstreams?.registry ?? (await loadRegistry(config.generatedDir));
  // Distributed mode: REDIS_URL set → tokens, revocations, rate limits, pending actions and audit on Redis.
  // ioredis is loaded only in the distributed mode: stdio and single-process serve start faster without it.
  const redisModule = config.redis.url ? await import("./stores/redis/redis-stores.js") : undefined;
  const pendingQuotas = { maxOpenPerToken: config.confirm.maxOpenPerToken, maxArgsBytes: config.confirm.maxArgsBytes, maxStoreBytes: config.confirm.maxStoreBytes };
  const redis = redisModule ? await redisModule.openRedisStores(config, { log, now: overrides.now, onExpired: recordExpired, pendingQuotas }) : undefined;
  const auditing = createAuditing(config, { log, now: overrides.now, metrics: overrides.metrics, sink: overrides.auditSink ?? redis?.auditSink, recorder: overrides.audit });
  const deps: Deps = {
    config,
    log,
    now: Date.now,
    registry,
    upstream: overrides.upstream ?? upstreams?.client ?? createUpstreamClient(config.upstream),
    validator: overrides.validator ?? createArgumentValidator(log),
    pendingActions: overrides.pendingActions ?? redis?.pendingActions ?? createPendingActions({
      dataDir: config.dataDir,
      quotas: pendingQuotas,
      now: overrides.now ?? Date.now,
      onExpired: recordExpired,
    }),
    tasks: overrides.tasks ?? redis?.tasks ?? createMemoryTaskStore(overrides.now ?? Date.now),
    metrics: auditing.metrics,
    auditSink: auditing.sink,
    audit: auditing.recorder,
    tokens: overrides.tokens ?? redis?.tokens ?? (await openTokenStore({ dataDir: config.dataDir })),
    // Embedded: the counts live in the data dir, so every process on it shares one limit.
    rateLimits: overrides.rateLimits ?? redis?.rateLimits ?? createRateLimits(config.rateLimits, config.rateLimits.shared ? { dataDir: config.dataDir } : {}),
    approvals: overrides.approvals ?? createApprovalHub(redis?.approvals ?? createFileApprovalStore(config.dataDir, overrides.now), config.approvals),
    ...overrides,
  };
  if (config.oauth.enabled && config.console.enabled && !overrides.oauth) {
    // Redis mode: grants and tokens in Redis, so every replica sees a revocation on the next call.
    const store = redis ? (await import("./oauth/redis-store.js")).createRedisOAuthStore(redis.connection, { now: () => deps.now() }) : undefined;
    (deps as { oauth?: Deps["oauth"] }).oauth = createOAuthAuthority(config, { now: () => deps.now(), sink: deps.auditSink, ...(store ? { store } : {}) });
  }
  const closers: Record<string, () => Promise<void>> = {
    "pending actions": () => deps.pendingActions.close(),
    tasks: () => deps.tasks.close(),
    tokens: () => deps.tokens.close(),
    // The embedded limits hand what they counted in memory over to the data dir, and leave it.
    "rate limits": async () => deps.rateLimits.close?.(),
    "audit trail": () => deps.audit.close(),
    ...(upstreams ? { upstreams: () => upstreams.close() } : {}),
    approvals: async () => (stopWebhook(), await deps.approvals.store.close()),
    ...(telemetry ? { telemetry: () => telemetry.shutdown() } : {}),
  };
  const stopWebhook = startWebhook({ hub: deps.approvals, pendingActions: deps.pendingActions, config: config.approvals.webhook, consoleUrl: `http://${config.http.host}:${config.http.port}/console/`, log, now: deps.now });
  deps.metrics.setPendingActions(() => deps.pendingActions.countPending());
  redis?.instrument(deps.metrics);

  const tokenAuthenticator = createAuthenticator({ store: deps.tokens, secretKey: readSecretKey({ [SECRET_KEY_ENV]: config.secretKey }), now: () => new Date(deps.now()), touchIntervalMs: config.auth.lastUsedIntervalMs, onError: (err) => log.warn({ err }, "recording a token's last use failed") });
  // OAuth access tokens resolve beside csk_ tokens, to the same kind of Principal.
  const authenticator = deps.oauth ? withAccessTokens(tokenAuthenticator, deps.oauth) : tokenAuthenticator;
  // Redis mode: a write (or confirm) fails closed while Redis is down, before any point is taken.
  const beforeCall = redis && redisModule ? redisModule.writeGuard(redis, (name) => deps.registry.get(name)?.policy.write === true) : undefined;
  // Several upstreams: each has its own budget, with the limits its config entry sets (reloaded with it).
  let upstreamTiers = config.rateLimits.upstreams ?? {};
  const rateLimitScope = (toolName: string): UpstreamScope | undefined => {
    const upstream = deps.registry.upstreamOf?.(toolName);
    return upstream && { name: upstream.name, tiers: upstreamTiers[upstream.name] ?? config.rateLimits.tiers };
  };
  // confirm_action is charged to the upstream of the caller's action it names (a lone API: no lookup).
  const pendingToolOf = async (confirmToken: unknown, principal: Principal) =>
    deps.registry.upstreamOf ? (await ownAction(deps.pendingActions, confirmToken, principal.tokenId))?.tool : undefined;
  const policy = createPolicy({ exclusions: config.exclusions, upstreamOf: (tool) => deps.registry.upstreamOf?.(tool.name)?.name });
  const visibleTools = (principal: Principal, _session: SessionContext) => policy.visibleTools(principal, deps.registry.tools);

  const metaTools = createMetaTools(deps);
  const metaByName = new Map<string, MetaTool>(metaTools.map((t) => [t.name, t]));
  // The session a meta-tool call runs for; set by `call`, read by the meta stage.
  const sessions = new WeakMap<CallContext, SessionContext>();

  const admissionStages: AdmissionStages = {
    refusals: createRefusalStage({ audit: deps.audit, tool: (name) => deps.registry.get(name), metaTool: (name) => metaByName.get(name) }),
    authenticate: createAuthStage({ authenticator }),
    admit: createAdmitStage({ limits: deps.rateLimits, scopeOf: rateLimitScope, pendingToolOf, ...(beforeCall ? { beforeCall } : {}) }),
    ...deps.admissionStages,
  };
  const stages: Stages = {
    audit: createAuditStage({ audit: deps.audit, metaTool: (name) => metaByName.get(name) }),
    meta: createMetaStage({
      run(ctx) {
        const tool = metaByName.get(ctx.name);
        if (!tool) return undefined;
        const session = sessions.get(ctx) ?? standaloneSession(ctx);
        return tool.handle(ctx.args, session, ctx);
      },
    }),
    resolve: createResolveStage({ registry: () => deps.registry }),
    policy: createPolicyStage({ policy }),
    rateLimit: createRateLimitStage({ limits: deps.rateLimits, scopeOf: rateLimitScope }),
    validate: createValidateStage(deps),
    confirmGate: createConfirmGateStage({ store: deps.pendingActions, tools: (of) => toolsOfSameUpstream(deps.registry, of), upstream: deps.upstream, ttlSeconds: config.confirm.ttlSeconds, now: deps.now, requireGuard: config.confirm.requireGuard, describe: (tool, args) => deps.audit.describeAction(tool, args), approvalOf: (tool, principal) => deps.approvals.approvalOf(tool, principal), approvalTtlMs: config.approvals.ttlMs, personNeeded: (action, principal) => requestPerson(deps.approvals, action, principal, deps.now()) }),
    upstream: timeUpstream(createUpstreamStage(deps)),
    ...deps.stages,
  };
  const admitRequest = compose(admissionChain(admissionStages));
  const run = compose(chain(telemetry ? telemetry.wrapStages(stages) : stages));

  /** A meta-tool called with no session around it (a person's approval, a test): a session of one call. */
  function standaloneSession(ctx: CallContext): SessionContext {
    return { principal: ctx.principal, transport: ctx.transport, sessionId: ctx.sessionId, signal: ctx.signal, progress: ctx.progress, gateway, params: {}, notifyToolsChanged: async () => {} };
  }

  function fail(err: unknown, context: Record<string, unknown>): ToolResult {
    const e = toGatewayError(err);
    if (e.code === "internal") log.error({ ...context, err: e.cause ?? e }, "internal error");
    return toToolResult(e);
  }

  const toolsChanged: (() => void)[] = [];
  // A backend's tools changed: the new catalog in one swap, then every session is told.
  upstreams?.onCatalogChanged((next) => {
    gateway.replaceRegistry(next);
    for (const listener of toolsChanged) listener();
  });

  const gateway: Gateway = {
    deps,
    get registry() {
      return deps.registry;
    },
    replaceRegistry(registry, next) {
      // One reference swap: each call resolves its descriptor once, so it never sees a mix of old and new.
      (deps as { registry: Registry }).registry = registry;
      if (next) upstreamTiers = next.rateLimits.upstreams ?? {};
    },
    rateLimitScope,
    onToolsChanged: (listener) => void toolsChanged.push(listener),
    ...(upstreams ? { upstreams } : {}),
    metaTools,
    async admit(request) {
      const ctx: AdmissionContext = { transport: request.transport, credential: request.credential, ...(request.credentialHash ? { credentialHash: request.credentialHash } : {}), sessionId: request.sessionId, request: request.request, calls: request.calls ?? [], source: request.source };
      await admitRequest(ctx);
      if (!ctx.principal) throw toGatewayError(new Error("admission ended without a principal"));
      return ctx.principal;
    },
    recheck: (principal) => authenticator.recheck(principal),
    visibleTools,
    async readiness() {
      const checks: Record<string, { ok: boolean; detail?: string }> = {};
      if (redis) {
        try {
          redis.assertWritable();
          checks.redis = { ok: true };
        } catch (err) {
          checks.redis = { ok: false, detail: toGatewayError(err).message };
        }
      } else {
        try {
          await access(config.dataDir, fsConstants.W_OK);
          checks.dataDir = { ok: true, detail: config.dataDir };
        } catch (err) {
          checks.dataDir = { ok: false, detail: `${config.dataDir} is not writable (${(err as NodeJS.ErrnoException).code ?? "error"})` };
        }
      }
      return checks;
    },
    listTools(session) {
      const scope = visibleTools(session.principal, session).filter((t) => !metaByName.has(t.name));
      checkModulesParam(session.params, scope);
      // Exposure mode and schema profile of this session (src/surface).
      const settings = surfaceSettings(config.surface, session.params);
      const shown = sessionVisibility(settings, session.principal, scope, session.enabledModules);
      const names = new Set<string>([...shown.tools, ...shown.metaTools]);
      const meta = metaTools.filter((t) => !isDiscoveryTool(t.name) || names.has(t.name));
      return describeRepeatsOnce([...scope.filter((t) => names.has(t.name)), ...meta].map((t) => listedOnce(t, settings.profile, config.surface.listOutputSchemas || !("binding" in t))));
    },
    async call(req): Promise<CallOutcome> {
      const requestId = randomUUID();
      const audit: AuditRecord = {
        ts: new Date(deps.now()).toISOString(),
        requestId,
        transport: req.transport,
        sessionId: req.sessionId,
        tool: req.name,
        ...(req.run ? { runId: req.run.runId } : {}),
      };
      const ctx: CallContext = {
        requestId,
        transport: req.transport,
        sessionId: req.sessionId,
        principal: req.principal,
        name: req.name,
        args: { ...req.args },
        signal: req.signal,
        progress: req.progress,
        confirmed: req.confirmed,
        parent: req.parent,
        run: req.run,
        audit,
      };
      if (req.session) sessions.set(ctx, req.session);
      try {
        await (telemetry ? telemetry.call(req, ctx, () => run(ctx)) : run(ctx));
      } catch (err) {
        const error = toGatewayError(err);
        return { result: fail(error, { requestId, tool: req.name }), error, pending: ctx.pending, upstream: ctx.upstream };
      }
      if (!ctx.result) {
        const error = toGatewayError(new Error("the chain ended without a result"));
        return { result: fail(error, { requestId, tool: req.name }), error };
      }
      return { result: ctx.result, pending: ctx.pending, upstream: ctx.upstream };
    },
    async close() {
      // Bounded: a store that can't flush (Redis unreachable) must not hold the process; what did
      // not finish is named, so the operator knows what may be lost.
      const deadline = Date.now() + SHUTDOWN_MS;
      const unfinished = await settleWithin(Object.entries(closers).map(([name, close]) => [name, close()] as const), SHUTDOWN_MS);
      // Last: the stores above flush through this connection.
      if (redis) unfinished.push(...(await settleWithin([["redis", redis.close()]], Math.max(0, deadline - Date.now()))));
      if (unfinished.length > 0) log.warn({ unfinished }, `shutdown: gave up after ${SHUTDOWN_MS} ms waiting for ${unfinished.join(", ")}; what they held may be lost`);
    },
  };
  return gateway;
}
