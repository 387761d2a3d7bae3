/**
 * Rate limits per upstream: in a gateway of several, a token's calls to one upstream take points
 * from that upstream's budget only, with the tier's numbers unless `upstreams.<name>.rateLimits`
 * overrides them; call_tool and run_code count against the upstream of the tool they run; the
 * gateway's own tools keep the gateway-wide budget (a lone API's, with today's keys). Counted in
 * memory, in the data dir's files and on a real Redis, under one key scheme.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import type { ToolResult } from "../../src/context.js";
import type { GatewayError } from "../../src/errors.js";
import { createLog } from "../../src/log.js";
import { compose } from "../../src/pipeline.js";
import { createRegistry, type Registry } from "../../src/registry.js";
import { createRateLimitStage } from "../../src/stages/rate-limit.js";
import { counterName, createRateLimits } from "../../src/stores/rate-limits.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer } from "../../src/transports/http/index.js";
import { createCatalog } from "../../src/upstreams/catalog.js";
import { dropPrefix, sharedRedis, uniquePrefix } from "../redis/redis-server.js";
import { callAs } from "../support/call.js";
import { context, principal, tool } from "../tokens/fixtures.js";

const part = (name: string) => ({ name, kind: "openapi" as const, prefix: name, registry: createRegistry([tool("list_tasks"), tool("delete_task", { write: true, sensitive: true })]) });
const catalog = () => createCatalog([part("alpha"), part("beta")]);
// The config names both upstreams (their folders are never read: the test hands the catalog in).
const upstreamsSection = (beta: Record<string, unknown> = {}) => ({ alpha: { generated: "unused", url: "http://127.0.0.1:9/v1" }, beta: { generated: "unused", url: "http://127.0.0.1:9/v1", ...beta } });

let redisUrl: string;
let closeRedis: () => Promise<void>;
const prefixes: string[] = [];

beforeAll(async () => {
  const r = await sharedRedis();
  redisUrl = r.url;
  closeRedis = r.close;
});

afterAll(async () => {
  for (const p of prefixes) await dropPrefix(redisUrl, p);
  await closeRedis();
});

type Store = "memory" | "files" | "redis";

/** A gateway over alpha and beta (or `registry`) whose upstream stage answers locally, and a token on `tier`. */
async function start(store: Store, file: Record<string, unknown>, tier = "default", registry: Registry = catalog()) {
  const dataDir = mkdtempSync(join(tmpdir(), `cs-ups-rl-${store}-`));
  const prefix = uniquePrefix();
  if (store === "redis") prefixes.push(prefix);
  const env: Record<string, string> = {
    COUNTERSIGN_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    // Where a preview's request would go (the upstream stage answers locally; nothing is sent).
    COUNTERSIGN_UPSTREAM_URL: "http://127.0.0.1:9/v1",
    ...(store === "memory" ? { COUNTERSIGN_RATE_LIMITS_SHARED: "false" } : {}),
    ...(store === "redis" ? { REDIS_URL: redisUrl, COUNTERSIGN_REDIS_PREFIX: prefix } : {}),
  };
  const tokens = createMemoryTokenStore();
  const secret = mintToken();
  await tokens.create({ id: "tok_ups", hash: hashToken(secret), name: "ups", modules: "all", readOnly: false, tier, createdAt: new Date().toISOString() });
  const gateway = await createGateway(resolveConfig({ env, file }), {
    registry,
    log: createLog("silent"),
    tokens,
    stages: { upstream: async (ctx) => void (ctx.result = { content: [{ type: "text", text: "ok" }] }) },
  });
  const stop = async () => {
    await gateway.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { gateway, secret, prefix, stop };
}

const errorOf = (r: ToolResult) => (r.structuredContent as { error?: { code: string; bucket?: string; limit?: number; upstream?: string } } | undefined)?.error;
const textOf = (r: ToolResult) => (r.content[0] as { text: string }).text;

describe.each<Store>(["memory", "files", "redis"])("per-upstream rate limits (%s)", (store) => {
  it("exhausting alpha leaves beta callable, directly and through call_tool; the 429 names alpha; gateway tools keep their own budget", async () => {
    const { gateway, secret, prefix, stop } = await start(store, { rateLimits: { tiers: { small: { normal: 3 } } }, upstreams: upstreamsSection() }, "small");
    try {
      // Three calls to alpha, one of them through call_tool: its point goes to alpha too.
      expect((await callAs(gateway, secret, "alpha_list_tasks", {})).isError).toBeFalsy();
      expect((await callAs(gateway, secret, "call_tool", { name: "alpha_list_tasks", arguments: {} })).isError).toBeFalsy();
      expect((await callAs(gateway, secret, "alpha_list_tasks", {})).isError).toBeFalsy();
      const refused = await callAs(gateway, secret, "alpha_list_tasks", {});
      expect(refused.isError).toBe(true);
      expect(errorOf(refused)).toMatchObject({ code: "rate_limited", bucket: "normal", limit: 3, upstream: "alpha" });
      expect(textOf(refused)).toMatch(/this token's normal bucket on upstream 'alpha' allows 3 calls per minute; retry in \d+ s/);
      // call_tool to alpha is refused at admission as well: it does not slip through a meta-tool.
      expect(errorOf(await callAs(gateway, secret, "call_tool", { name: "alpha_list_tasks", arguments: {} }))).toMatchObject({ code: "rate_limited", upstream: "alpha" });
      // Beta has its own three.
      expect((await callAs(gateway, secret, "beta_list_tasks", {})).isError).toBeFalsy();
      expect((await callAs(gateway, secret, "call_tool", { name: "beta_list_tasks", arguments: {} })).isError).toBeFalsy();
      expect((await callAs(gateway, secret, "beta_list_tasks", {})).isError).toBeFalsy();
      expect(errorOf(await callAs(gateway, secret, "call_tool", { name: "beta_list_tasks", arguments: {} }))).toMatchObject({ code: "rate_limited", upstream: "beta" });
      // A gateway tool (no upstream) counts against the gateway-wide budget, still whole.
      for (let i = 0; i < 3; i++) expect((await callAs(gateway, secret, "list_pending_actions", {})).isError).toBeFalsy();
      const gatewayWide = await callAs(gateway, secret, "list_pending_actions", {});
      expect(errorOf(gatewayWide)).toMatchObject({ code: "rate_limited", bucket: "normal", limit: 3 });
      expect(errorOf(gatewayWide)?.upstream).toBeUndefined();
      expect(textOf(gatewayWide)).toMatch(/this token's normal bucket allows 3 calls per minute/);
      // The audit trail and the metrics name the upstream of each refusal.
      const metrics = await gateway.deps.metrics.text();
      expect(metrics).toContain('countersign_rate_limit_rejections_total{bucket="normal",upstream="alpha"} 2');
      expect(metrics).toContain('countersign_rate_limit_rejections_total{bucket="normal",upstream="beta"} 1');
      expect(metrics).toContain('countersign_rate_limit_rejections_total{bucket="normal",upstream=""} 1');
      if (store === "redis") {
        // One key scheme: the gateway-wide bucket keeps a lone API's key; an upstream's adds @name.
        const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
        try {
          const keys = (await r.keys(`${prefix}rl:*`)).sort();
          expect(keys).toEqual([`${prefix}rl:small:normal:tok_ups`, `${prefix}rl:small:normal@alpha:tok_ups`, `${prefix}rl:small:normal@beta:tok_ups`]);
        } finally {
          r.disconnect();
        }
      }
    } finally {
      await stop();
    }
  });

  it("upstreams.<name>.rateLimits overrides the tier's numbers on that upstream only, per tier when it says so", async () => {
    const file = { rateLimits: { tiers: { gold: { normal: 6 } } }, upstreams: upstreamsSection({ rateLimits: { normal: 2, tiers: { gold: { normal: 4 } } } }) };
    for (const [tier, alphaLimit, betaLimit] of [["default", 1000, 2], ["gold", 6, 4]] as const) {
      const { gateway, secret, stop } = await start(store, file, tier);
      try {
        let allowed = 0;
        for (let i = 0; i < betaLimit + 1; i++) if (!(await callAs(gateway, secret, "beta_list_tasks", {})).isError) allowed++;
        expect(allowed).toBe(betaLimit);
        expect(errorOf(await callAs(gateway, secret, "beta_list_tasks", {}))).toMatchObject({ code: "rate_limited", limit: betaLimit, upstream: "beta" });
        // Alpha has no override: the tier's own number.
        expect(gateway.rateLimitScope("alpha_list_tasks")?.tiers[tier]?.normal).toBe(alphaLimit);
        expect((await callAs(gateway, secret, "alpha_list_tasks", {})).isError).toBeFalsy();
      } finally {
        await stop();
      }
    }
  });
});

const statusOf = (r: ToolResult) => (r.structuredContent as { status?: string } | undefined)?.status;
const confirmTokenOf = (r: ToolResult) => String((r.structuredContent as { confirm_token?: unknown } | undefined)?.confirm_token);

describe.each<Store>(["memory", "redis"])("confirm_action's normal point on the pending action's upstream (%s)", (store) => {
  const file = { rateLimits: { tiers: { small: { normal: 4 } } }, upstreams: upstreamsSection() };

  it("confirms of alpha's action use up alpha's budget only: beta's calls and confirms, and the gateway tools, are still admitted; the 429 names alpha", async () => {
    const { gateway, secret, prefix, stop } = await start(store, file, "small");
    try {
      // alpha: the preview (1), its confirm (2), two repeated confirms answered from the stored outcome (3, 4).
      const token = confirmTokenOf(await callAs(gateway, secret, "alpha_delete_task", {}));
      expect(statusOf(await callAs(gateway, secret, "confirm_action", { confirm_token: token }))).toBe("executed");
      for (let i = 0; i < 2; i++) expect((await callAs(gateway, secret, "confirm_action", { confirm_token: token })).isError).toBeFalsy();
      const refused = await callAs(gateway, secret, "confirm_action", { confirm_token: token });
      expect(errorOf(refused)).toMatchObject({ code: "rate_limited", bucket: "normal", limit: 4, upstream: "alpha" });
      expect(textOf(refused)).toMatch(/this token's normal bucket on upstream 'alpha' allows 4 calls per minute/);
      expect(errorOf(await callAs(gateway, secret, "alpha_list_tasks", {}))).toMatchObject({ code: "rate_limited", upstream: "alpha" });
      // beta has its own four: a preview, its confirm, a read.
      const betaToken = confirmTokenOf(await callAs(gateway, secret, "beta_delete_task", {}));
      expect(statusOf(await callAs(gateway, secret, "confirm_action", { confirm_token: betaToken }))).toBe("executed");
      expect((await callAs(gateway, secret, "beta_list_tasks", {})).isError).toBeFalsy();
      // No confirm took a gateway-wide point: that budget is whole.
      for (let i = 0; i < 4; i++) expect((await callAs(gateway, secret, "list_pending_actions", {})).isError).toBeFalsy();
      expect(errorOf(await callAs(gateway, secret, "list_pending_actions", {}))).toMatchObject({ code: "rate_limited", limit: 4 });
      expect(await gateway.deps.metrics.text()).toContain('countersign_rate_limit_rejections_total{bucket="normal",upstream="alpha"} 2');
      if (store === "redis") {
        const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
        try {
          expect((await r.keys(`${prefix}rl:*`)).sort()).toEqual([`${prefix}rl:small:normal:tok_ups`, `${prefix}rl:small:normal@alpha:tok_ups`, `${prefix}rl:small:normal@beta:tok_ups`, `${prefix}rl:small:sensitive@alpha:tok_ups`, `${prefix}rl:small:sensitive@beta:tok_ups`]);
        } finally {
          r.disconnect();
        }
      }
    } finally {
      await stop();
    }
  });

  it("a confirm token that is not the caller's own (another token's, an altered secret, malformed) is charged gateway-wide, never to the action's upstream", async () => {
    const { gateway, secret, stop } = await start(store, { ...file, rateLimits: { tiers: { small: { normal: 2 } } } }, "small");
    try {
      const other = mintToken();
      await gateway.deps.tokens.create({ id: "tok_other", hash: hashToken(other), name: "other", modules: "all", readOnly: false, tier: "small", createdAt: new Date().toISOString() });
      const token = confirmTokenOf(await callAs(gateway, secret, "alpha_delete_task", {})); // owner: alpha 1
      // Another token presenting the owner's token: refused as unknown, on its own gateway-wide budget.
      for (let i = 0; i < 2; i++) expect(errorOf(await callAs(gateway, other, "confirm_action", { confirm_token: token }))).toMatchObject({ code: "confirmation_invalid" });
      const otherRefused = errorOf(await callAs(gateway, other, "confirm_action", { confirm_token: token }));
      expect(otherRefused).toMatchObject({ code: "rate_limited", limit: 2 });
      expect(otherRefused?.upstream).toBeUndefined();
      expect((await callAs(gateway, other, "alpha_list_tasks", {})).isError).toBeFalsy();
      // The owner with an altered secret, then a malformed token: gateway-wide (1, 2).
      const altered = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
      expect(errorOf(await callAs(gateway, secret, "confirm_action", { confirm_token: altered }))).toMatchObject({ code: "confirmation_invalid" });
      expect(errorOf(await callAs(gateway, secret, "confirm_action", { confirm_token: "cfm_nope" }))).toMatchObject({ code: "confirmation_invalid" });
      // The real token still goes to alpha (2) and runs; both budgets are now spent.
      expect(statusOf(await callAs(gateway, secret, "confirm_action", { confirm_token: token }))).toBe("executed");
      const gatewayWide = errorOf(await callAs(gateway, secret, "list_pending_actions", {}));
      expect(gatewayWide).toMatchObject({ code: "rate_limited", limit: 2 });
      expect(gatewayWide?.upstream).toBeUndefined();
      expect(errorOf(await callAs(gateway, secret, "alpha_list_tasks", {}))).toMatchObject({ code: "rate_limited", upstream: "alpha" });
    } finally {
      await stop();
    }
  });

  it("a lone API's confirm keeps the one budget and today's keys", async () => {
    const lone = createRegistry([tool("list_tasks"), tool("delete_task", { write: true, sensitive: true })]);
    const { gateway, secret, prefix, stop } = await start(store, { rateLimits: { tiers: { small: { normal: 2 } } } }, "small", lone);
    try {
      const token = confirmTokenOf(await callAs(gateway, secret, "delete_task", {}));
      expect(statusOf(await callAs(gateway, secret, "confirm_action", { confirm_token: token }))).toBe("executed");
      const refused = errorOf(await callAs(gateway, secret, "list_tasks", {}));
      expect(refused).toMatchObject({ code: "rate_limited", limit: 2 });
      expect(refused?.upstream).toBeUndefined();
      if (store === "redis") {
        const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
        try {
          expect((await r.keys(`${prefix}rl:*`)).sort()).toEqual([`${prefix}rl:small:normal:tok_ups`, `${prefix}rl:small:sensitive:tok_ups`]);
        } finally {
          r.disconnect();
        }
      }
    } finally {
      await stop();
    }
  });
});

describe("per-upstream limits in the chain", () => {
  it("a sensitive write executes against its own upstream's sensitive bucket", async () => {
    const limits = createRateLimits({ tiers: { default: { normal: 100, sensitive: 1 } } });
    const reg = catalog();
    const tiers = { default: { normal: 100, sensitive: 1 } };
    const run = compose([createRateLimitStage({ limits, scopeOf: (name) => ({ name: reg.upstreamOf!(name)!.name, tiers }) }), async () => undefined]);
    const p = principal({ tokenId: "tok_sens" });
    const exec = (name: string, id: string) => run(context(reg.get(name)!, { principal: p, confirmed: { actionId: id } })).then(() => "ok", (e: GatewayError) => e);
    expect(await exec("alpha_delete_task", "a1")).toBe("ok");
    expect(await exec("alpha_delete_task", "a2")).toMatchObject({ code: "rate_limited", details: { bucket: "sensitive", limit: 1, upstream: "alpha" } });
    expect(await exec("beta_delete_task", "b1")).toBe("ok");
  });

  it("a lone API keeps today's counter names; an upstream's adds @name", () => {
    expect(counterName("normal")).toBe("normal");
    expect(counterName("sensitive")).toBe("sensitive");
    expect(counterName("normal", "github")).toBe("normal@github");
  });

  it("serve --watch: a reloaded configuration's limits apply from the next call", async () => {
    const { gateway, stop } = await start("memory", { upstreams: upstreamsSection() });
    try {
      expect(gateway.rateLimitScope("beta_list_tasks")?.tiers.default?.normal).toBe(1000);
      const next = resolveConfig({ env: { LOG_LEVEL: "silent" }, file: { upstreams: upstreamsSection({ rateLimits: { normal: 7 } }) } });
      gateway.replaceRegistry(gateway.registry, next);
      expect(gateway.rateLimitScope("beta_list_tasks")).toEqual({ name: "beta", tiers: { default: { normal: 7, sensitive: 100 } } });
      expect(gateway.rateLimitScope("list_pending_actions")).toBeUndefined();
    } finally {
      await stop();
    }
  });

  it("a run_code script's calls count against each tool's upstream; the run itself against the gateway-wide budget", async () => {
    const { gateway, secret, stop } = await start("memory", { rateLimits: { tiers: { small: { normal: 2 } } }, upstreams: upstreamsSection() }, "small");
    try {
      const code = `
        const out = [];
        for (const call of [() => api.alpha_tasks.alpha_list_tasks({}), () => api.alpha_tasks.alpha_list_tasks({}), () => api.alpha_tasks.alpha_list_tasks({}), () => api.beta_tasks.beta_list_tasks({})]) {
          try { await call(); out.push("ok"); } catch (e) { out.push(String(e.message ?? e)); }
        }
        return out;`;
      const run = await callAs(gateway, secret, "run_code", { code, intent: "count per upstream" });
      expect(run.isError, textOf(run)).toBeFalsy();
      const value = (run.structuredContent as { value: string[] }).value;
      expect(value.slice(0, 2)).toEqual(["ok", "ok"]);
      expect(value[2]).toMatch(/normal bucket on upstream 'alpha' allows 2 calls per minute/);
      expect(value[3]).toBe("ok");
      // The run took one gateway-wide point: one more gateway tool call passes, the next does not.
      expect((await callAs(gateway, secret, "list_pending_actions", {})).isError).toBeFalsy();
      expect(errorOf(await callAs(gateway, secret, "list_pending_actions", {}))).toMatchObject({ code: "rate_limited", limit: 2 });
    } finally {
      await stop();
    }
  });

  it("admission of a batch charges each call to its own upstream", async () => {
    const { gateway, secret, stop } = await start("memory", { rateLimits: { tiers: { small: { normal: 1 } } }, upstreams: upstreamsSection() }, "small");
    try {
      const admit = (names: string[]) => gateway.admit({ transport: "http", credential: secret, request: "POST /mcp", calls: names.map((name, id) => ({ id, name, args: {} })) });
      await expect(admit(["alpha_list_tasks", "beta_list_tasks"])).resolves.toMatchObject({ tokenId: "tok_ups" });
      await expect(admit(["beta_list_tasks"])).rejects.toMatchObject({ code: "rate_limited", rpcId: 0, details: { upstream: "beta" } });
    } finally {
      await stop();
    }
  });
});

describe("the upstreams' rateLimits in the config file", () => {
  const tiers = { tiers: { gold: { normal: 5 } } };
  const load = (beta: Record<string, unknown>) => () => resolveConfig({ env: { LOG_LEVEL: "silent" }, file: { rateLimits: tiers, upstreams: upstreamsSection(beta) } });

  it("refuses an unknown field with the nearest name, an unknown tier, and a bad number, naming the key", () => {
    expect(load({ rateLimits: { normall: 5 } })).toThrow("config upstreams.beta.rateLimits.normall: unknown field (normal, sensitive, tiers) (did you mean 'normal'?)");
    expect(load({ rateLimit: { normal: 5 } })).toThrow(/config upstreams\.beta\.rateLimit: unknown field \(.*\) \(did you mean 'rateLimits'\?\)/);
    expect(load({ rateLimits: { tiers: { gld: { normal: 1 } } } })).toThrow("config upstreams.beta.rateLimits.tiers.gld: unknown tier (default, gold) (did you mean 'gold'?)");
    expect(load({ rateLimits: { tiers: { gold: { sensitiv: 1 } } } })).toThrow("config upstreams.beta.rateLimits.tiers.gold.sensitiv: unknown field (normal, sensitive) (did you mean 'sensitive'?)");
    expect(load({ rateLimits: { normal: 0 } })).toThrow("config upstreams.beta.rateLimits.normal: expected a positive integer (calls per window), got 0");
    expect(load({ rateLimits: { sensitive: "10" } })).toThrow('config upstreams.beta.rateLimits.sensitive: expected a positive integer (calls per window), got "10"');
    expect(load({ rateLimits: [] })).toThrow("config upstreams.beta.rateLimits: expected { normal, sensitive, tiers }");
  });

  it("resolves every tier of an upstream that overrides, and nothing for one that doesn't (nor for a lone API)", () => {
    const config = load({ rateLimits: { sensitive: 3, tiers: { gold: { normal: 50 } } } })();
    expect(config.rateLimits.upstreams).toEqual({ beta: { default: { normal: 1000, sensitive: 3 }, gold: { normal: 50, sensitive: 3 } } });
    expect(load({})().rateLimits.upstreams).toBeUndefined();
    expect(resolveConfig({ env: { LOG_LEVEL: "silent" } }).rateLimits.upstreams).toBeUndefined();
  });
});

describe("over HTTP with an SDK client", () => {
  let gateway: Gateway | undefined;
  afterAll(async () => gateway?.close());

  it("a confirm over alpha's budget is answered 429 naming alpha; beta's write and its confirm go through on the same session", async () => {
    const started = await start("memory", { rateLimits: { tiers: { small: { normal: 2 } } }, upstreams: upstreamsSection() }, "small");
    gateway = started.gateway;
    const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
    const url = `http://127.0.0.1:${http.port}/mcp?mode=all`;
    const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${started.secret}` } } });
    const client = new Client({ name: "agent", version: "1" });
    try {
      await client.connect(transport);
      const token = confirmTokenOf((await client.callTool({ name: "alpha_delete_task", arguments: {} })) as ToolResult);
      expect(statusOf((await client.callTool({ name: "confirm_action", arguments: { confirm_token: token } })) as ToolResult)).toBe("executed");
      const res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${started.secret}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": transport.sessionId!, "mcp-protocol-version": "2025-06-18" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "confirm_action", arguments: { confirm_token: token } } }),
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await res.json()).toMatchObject({ id: 7, error: { data: { code: "rate_limited", bucket: "normal", limit: 2, upstream: "alpha" } } });
      const betaToken = confirmTokenOf((await client.callTool({ name: "beta_delete_task", arguments: {} })) as ToolResult);
      expect(statusOf((await client.callTool({ name: "confirm_action", arguments: { confirm_token: betaToken } })) as ToolResult)).toBe("executed");
    } finally {
      await client.close();
      await http.close();
      await started.stop();
      gateway = undefined;
    }
  });

  it("a request over alpha's budget is answered 429 naming alpha; beta answers on the same session", async () => {
    const started = await start("memory", { rateLimits: { tiers: { small: { normal: 2 } } }, upstreams: upstreamsSection() }, "small");
    gateway = started.gateway;
    const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
    const client = new Client({ name: "agent", version: "1" });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${http.port}/mcp?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${started.secret}` } } }));
      await client.callTool({ name: "alpha_list_tasks", arguments: {} });
      await client.callTool({ name: "alpha_list_tasks", arguments: {} });
      const refused = await client.callTool({ name: "alpha_list_tasks", arguments: {} }).then(
        (r) => JSON.stringify(r),
        (e: Error) => e.message,
      );
      expect(refused).toMatch(/normal bucket on upstream 'alpha' allows 2 calls per minute/);
      const beta = (await client.callTool({ name: "beta_list_tasks", arguments: {} })) as ToolResult;
      expect(beta.isError).toBeFalsy();
      expect(textOf(beta)).toBe("ok");
    } finally {
      await client.close();
      await http.close();
      await started.stop();
      gateway = undefined;
    }
  });
});
