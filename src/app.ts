/**
 * The composition root: builds the stores, the stages and the chain, and hands transports a
 * Gateway. Dependencies are interfaces with in-process defaults; tests override them.
 */
import { randomUUID } from "node:crypto";
import type { ToolDescriptor } from "../codegen/descriptor.js";
import type { Config } from "./config.js";
import type { AuditRecord, CallContext, Principal, ProgressSink, Stage, ToolResult, Transport } from "./context.js";
import { GatewayError, toGatewayError, toToolResult } from "./errors.js";
import { createLog, type Logger } from "./log.js";
import { createMetaTools, type ListedTool, type MetaTool, type SessionContext } from "./mcp/meta-tools.js";
import { chain, compose, type Stages } from "./pipeline.js";
import { loadRegistry, type Registry } from "./registry.js";
import { createUpstreamStage } from "./stages/upstream.js";
import type { AuditRecorder } from "./audit/recorder.js";
import { createAuditing } from "./audit/setup.js";
import type { Metrics } from "./metrics.js";
import { createAuditStage, timeUpstream } from "./stages/audit.js";
import type { AuditSink } from "./stores/audit-sink.js";
import { createAuthStage } from "./stages/auth.js";
import { createPolicy, createPolicyStage } from "./stages/policy.js";
import { createAdmit, createRateLimitStage } from "./stages/rate-limit.js";
import { createRateLimits, type RateLimits } from "./stores/rate-limits.js";
import { openTokenStore, type TokenStore } from "./stores/tokens.js";
import { createAuthenticator } from "./tokens/authenticate.js";
import { createConfirmGateStage } from "./stages/confirm-gate.js";
import { createPendingActions, type PendingAction, type PendingActionStore } from "./stores/pending-actions/index.js";
import { createArgumentValidator, createValidateStage, type ArgumentValidator } from "./stages/validate.js";
import { createUpstreamClient, type UpstreamClient } from "./upstream/upstream-client.js";
import { isDiscoveryTool } from "./surface/exposure.js";
import { conciseAnnotations, describeRepeatsOnce, listedSchema, sameText } from "./surface/concise.js";
import type { SchemaProfile } from "./surface/schema-profile.js";
import { sessionVisibility, surfaceSettings } from "./surface/session-surface.js";

/** Everything the stages, meta-tools and transports are built from. */
export interface Deps {
  readonly config: Config;
  readonly registry: Registry;
  readonly log: Logger;
  readonly upstream: UpstreamClient;
  readonly validator: ArgumentValidator;
  readonly pendingActions: PendingActionStore;
  /** Prometheus metrics of this gateway (served at /metrics). */
  readonly metrics: Metrics;
  /** Where audit records go: JSON Lines in the data dir by default. */
  readonly auditSink: AuditSink;
  /** Records every call (chain, meta-tools, transport refusals) into the sink and the metrics. */
  readonly audit: AuditRecorder;
  readonly tokens: TokenStore;
  readonly rateLimits: RateLimits;
  /** Milliseconds since the epoch; a fake clock in tests. */
  readonly now: () => number;
  /** Test hook: replaces individual stages. */
  readonly stages?: Partial<Stages>;
}

/** One tools/call as a transport hands it over. */
export interface CallRequest {
  readonly name: string;
  readonly args: Record<string, unknown>;
  readonly credential?: string;
  /** The principal the transport authenticated; the chain's auth stage re-checks the credential anyway. */
  readonly principal?: Principal;
  readonly transport: Transport;
  readonly sessionId?: string;
  readonly signal: AbortSignal;
  readonly progress?: ProgressSink;
  /** The transport already took rate-limit points for this call (HTTP answers 429 itself). */
  readonly admitted?: boolean;
  readonly confirmed?: CallContext["confirmed"];
}

export type { ListedTool };

/** What transports and meta-tools use. */
export interface Gateway {
  readonly deps: Deps;
  readonly registry: Registry;
  /** Swaps in a new registry (hot reload): later calls and lists use it; calls in flight keep their descriptor. */
  replaceRegistry(registry: Registry): void;
  readonly metaTools: readonly MetaTool[];
  /** Resolves a credential to a principal; throws GatewayError("unauthorized") saying what is wrong. */
  authenticate(credential?: string): Promise<Principal>;
  /** Takes rate-limit points for one tools/call; throws GatewayError("rate_limited") with retryAfterSeconds. */
  admit(principal: Principal, toolName: string): Promise<void>;
  /** The generated tools this session may see. */
  visibleTools(principal: Principal, session: SessionContext): readonly ToolDescriptor[];
  /** tools/list: visible generated tools, then meta-tools. */
  listTools(session: SessionContext): ListedTool[];
  /** Runs a generated tool through the chain; never throws (errors become tool results). */
  callTool(req: CallRequest): Promise<ToolResult>;
  /** Runs a meta-tool for a session (re-authenticating first); never throws. */
  callMetaTool(tool: MetaTool, args: Record<string, unknown>, session: SessionContext): Promise<ToolResult>;
  close(): Promise<void>;
}

function passThrough(name: string): Stage {
  const stage: Stage = (_ctx, next) => next();
  Object.defineProperty(stage, "name", { value: name });
  return stage;
}

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

/** Builds a gateway from its config; loads the registry from `config.generatedDir` unless one is given. */
export async function createGateway(config: Config, overrides: Partial<Deps> = {}): Promise<Gateway> {
  const log = overrides.log ?? createLog(config.logLevel);
  const recordExpired = (a: PendingAction) => void deps.audit.recordEvent({ type: "expired", outcome: "expired", actionId: a.id, tokenId: a.tokenId, toolName: a.tool, tool: deps.registry.get(a.tool), args: a.args, sessionId: a.sessionId });
  // Loaded before Redis is opened: a bad generated dir then fails start-up without a connection left open.
  const registry = overrides.registry ?? (await loadRegistry(config.generatedDir));
  // Distributed mode: REDIS_URL set → tokens, revocations, rate limits, pending actions and audit on Redis.
  // ioredis is loaded only in the distributed mode: stdio and single-process serve start faster without it.
  const redisModule = config.redis.url ? await import("./stores/redis/redis-stores.js") : undefined;
  const redis = redisModule ? await redisModule.openRedisStores(config, { log, now: overrides.now, onExpired: recordExpired }) : undefined;
  const auditing = createAuditing(config, { log, now: overrides.now, metrics: overrides.metrics, sink: overrides.auditSink ?? redis?.auditSink, recorder: overrides.audit });
  const deps: Deps = {
    config,
    log,
    now: Date.now,
    registry,
    upstream: overrides.upstream ?? createUpstreamClient(config.upstream),
    validator: overrides.validator ?? createArgumentValidator(log),
    pendingActions: overrides.pendingActions ?? redis?.pendingActions ?? createPendingActions({
      dataDir: config.dataDir,
      now: overrides.now ?? Date.now,
      onExpired: recordExpired,
    }),
    metrics: auditing.metrics,
    auditSink: auditing.sink,
    audit: auditing.recorder,
    tokens: overrides.tokens ?? redis?.tokens ?? (await openTokenStore({ dataDir: config.dataDir })),
    rateLimits: overrides.rateLimits ?? redis?.rateLimits ?? createRateLimits(config.rateLimits),
    ...overrides,
  };
  const closers: (() => Promise<void>)[] = [() => deps.pendingActions.close(), () => deps.tokens.close()];
  closers.push(() => deps.audit.close());
  deps.metrics.setPendingActions(() => deps.pendingActions.countPending());
  redis?.instrument(deps.metrics);

  const authenticator = createAuthenticator({ store: deps.tokens, now: () => new Date(deps.now()), touchIntervalMs: config.auth.lastUsedIntervalMs, onError: (err) => log.warn({ err }, "recording a token's last use failed") });
  const authenticate = (credential?: string) => authenticator.authenticate(credential);
  const limitAdmit = createAdmit({ limits: deps.rateLimits });
  const admit = redis && redisModule ? redisModule.guardWrites(redis, limitAdmit, (name) => deps.registry.get(name)?.policy.write === true) : limitAdmit;
  const policy = createPolicy({ exclusions: config.exclusions });
  const visibleTools = (principal: Principal, _session: SessionContext) => policy.visibleTools(principal, deps.registry.tools);

  const stages: Stages = {
    audit: createAuditStage(deps),
    auth: createAuthStage({ authenticator }),
    policy: createPolicyStage({ policy }),
    rateLimit: createRateLimitStage({ limits: deps.rateLimits }),
    validate: createValidateStage(deps),
    confirmGate: createConfirmGateStage({ store: deps.pendingActions, tools: () => deps.registry.tools, upstream: deps.upstream, ttlSeconds: config.confirm.ttlSeconds, now: deps.now }),
    upstream: timeUpstream(createUpstreamStage(deps)),
    ...deps.stages,
  };
  const run = compose(chain(stages));
  const metaTools = createMetaTools(deps);
  const metaNames = new Set(metaTools.map((t) => t.name));

  function fail(err: unknown, context: Record<string, unknown>): ToolResult {
    const e = toGatewayError(err);
    if (e.code === "internal") log.error({ ...context, err: e.cause ?? e }, "internal error");
    return toToolResult(e);
  }

  return {
    deps,
    get registry() {
      return deps.registry;
    },
    replaceRegistry(registry) {
      // One reference swap: each call resolves its descriptor once, so it never sees a mix of old and new.
      (deps as { registry: Registry }).registry = registry;
    },
    metaTools,
    authenticate,
    admit,
    visibleTools,
    listTools(session) {
      const scope = visibleTools(session.principal, session).filter((t) => !metaNames.has(t.name));
      // Exposure mode and schema profile of this session (src/surface).
      const settings = surfaceSettings(config.surface, session.params);
      const shown = sessionVisibility(settings, session.principal, scope, session.enabledModules);
      const names = new Set<string>([...shown.tools, ...shown.metaTools]);
      const meta = metaTools.filter((t) => !isDiscoveryTool(t.name) || names.has(t.name));
      return describeRepeatsOnce([...scope.filter((t) => names.has(t.name)), ...meta].map((t) => listedOnce(t, settings.profile, config.surface.listOutputSchemas || !("binding" in t))));
    },
    async callTool(req) {
      const requestId = randomUUID();
      const tool = deps.registry.get(req.name);
      if (!tool) {
        const err = new GatewayError("not_found", `Unknown tool '${req.name}'`);
        await deps.audit.recordRefusal({ requestId, transport: req.transport, sessionId: req.sessionId, principal: req.principal, toolName: req.name, args: req.args, error: err });
        return toToolResult(err);
      }
      const audit: AuditRecord = {
        ts: new Date(deps.now()).toISOString(),
        requestId,
        transport: req.transport,
        sessionId: req.sessionId,
        tool: tool.name,
        module: tool.module,
      };
      const ctx: CallContext = {
        requestId,
        transport: req.transport,
        sessionId: req.sessionId,
        credential: req.credential,
        principal: req.principal,
        tool,
        args: { ...req.args },
        signal: req.signal,
        progress: req.progress,
        confirmed: req.confirmed,
        admitted: req.admitted,
        audit,
      };
      try {
        await run(ctx);
      } catch (err) {
        return fail(err, { requestId, tool: tool.name });
      }
      return ctx.result ?? fail(new GatewayError("internal", "the chain ended without a result", { expose: false }), { requestId, tool: tool.name });
    },
    async callMetaTool(tool, args, session) {
      // Audited here, centrally; a chain call made inside (confirm_action) records itself instead.
      const call = { tool, args, principal: session.principal, requestId: randomUUID(), transport: session.transport, sessionId: session.sessionId };
      return deps.audit.meta(call, async () => {
        try {
          const principal = await authenticate(session.credential);
          // HTTP admits every tools/call before the SDK sees it; stdio has no such step, so a
          // meta-tool call pays its normal-bucket point here.
          if (session.transport !== "http") await admit(principal, tool.name);
          return await tool.handle(args, { ...session, principal });
        } catch (err) {
          return fail(err, { tool: tool.name });
        }
      });
    },
    async close() {
      await Promise.allSettled(closers.map((c) => c()));
      // Last: the stores above flush through this connection.
      await redis?.close();
    },
  };
}
