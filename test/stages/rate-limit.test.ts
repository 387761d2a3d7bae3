import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createGateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createLog } from "../../src/log.js";
import type { AdmissionContext, Principal } from "../../src/context.js";
import { callAs } from "../support/call.js";
import { createRegistry } from "../../src/registry.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { GatewayError, toHttp, toToolResult } from "../../src/errors.js";
import { compose } from "../../src/pipeline.js";
import { createAdmitStage, createRateLimitStage } from "../../src/stages/rate-limit.js";
import { createRateLimits } from "../../src/stores/rate-limits.js";
import { context, principal, tool } from "../tokens/fixtures.js";

const tiers = { default: { normal: 1000, sensitive: 100 }, small: { normal: 5, sensitive: 2 } };

async function outcome(p: Promise<unknown>): Promise<"ok" | GatewayError> {
  return p.then(
    () => "ok" as const,
    (e: unknown) => e as GatewayError,
  );
}

/** An admission request of one tools/call, by `p`. */
function admission(p: Principal, name = "list_tasks"): AdmissionContext {
  return { transport: "http", request: "POST /mcp", calls: [{ id: 1, name }], principal: p };
}

describe("rate limits", () => {
  it("1100 calls in a burst: exactly 1000 are admitted, 100 are refused naming the bucket; another token is unaffected", async () => {
    const limits = createRateLimits({ tiers });
    let admitted = 0;
    const run = compose<AdmissionContext>([createAdmitStage({ limits }), async () => void admitted++]);
    const results = await Promise.all(Array.from({ length: 1100 }, () => outcome(run(admission(principal({ tokenId: "tok_a" }))))));
    const refused = results.filter((r): r is GatewayError => r !== "ok");
    expect(results.length - refused.length).toBe(1000);
    expect(refused).toHaveLength(100);
    expect(admitted).toBe(1000);
    for (const err of refused) {
      expect(err.code).toBe("rate_limited");
      expect(err.details).toEqual({ bucket: "normal", limit: 1000 });
      expect(err.rpcId).toBe(1);
      expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(err.retryAfterSeconds).toBeLessThanOrEqual(60);
      expect(err.message).toMatch(new RegExp(`normal bucket allows 1000 calls per minute; retry in ${err.retryAfterSeconds} s`));
    }
    // The transports' mappings carry the same facts.
    expect(toHttp(refused[0]).status).toBe(429);
    expect(toHttp(refused[0]).headers["Retry-After"]).toBe(String(refused[0].retryAfterSeconds));
    expect(toToolResult(refused[0]).structuredContent).toMatchObject({ retry_after_seconds: refused[0].retryAfterSeconds, error: { bucket: "normal" } });
    expect(await outcome(run(admission(principal({ tokenId: "tok_b" }))))).toBe("ok");
  });

  it("sensitive writes count against the sensitive bucket when they execute, not when previewed", async () => {
    const limits = createRateLimits({ tiers });
    let executed = 0;
    const admit = compose<AdmissionContext>([createAdmitStage({ limits })]);
    const run = compose([createRateLimitStage({ limits }), async () => void executed++]);
    const sensitive = tool("add_role", { write: true, sensitive: true });
    const p = principal({ tokenId: "tok_s" });
    // Previews: admitted (normal bucket) and run; the sensitive bucket is untouched.
    for (let i = 0; i < 150; i++) {
      expect(await outcome(admit(admission(p, sensitive.name)))).toBe("ok");
      expect(await outcome(run(context(sensitive, { principal: p })))).toBe("ok");
    }
    // Executions run as part of a confirm_action request (admitted once): only the sensitive bucket.
    const confirmed = await Promise.all(
      Array.from({ length: 101 }, (_, i) => outcome(run(context(sensitive, { principal: p, confirmed: { actionId: `a${i}` } })))),
    );
    const refused = confirmed.filter((r): r is GatewayError => r !== "ok");
    expect(refused).toHaveLength(1);
    expect(refused[0].details).toEqual({ bucket: "sensitive", limit: 100 });
    expect(executed).toBe(250);
    // A non-sensitive write still executes.
    expect(await outcome(run(context(tool("create_task", { write: true }), { principal: p, confirmed: { actionId: "b" } })))).toBe("ok");
    // Executions did not pay normal points: 150 previews + 850 more requests fill the 1000.
    const more = await Promise.all(Array.from({ length: 851 }, () => outcome(admit(admission(p)))));
    expect(more.filter((r) => r === "ok")).toHaveLength(850);
  });

  it("tiers change the numbers; an unknown tier is named", async () => {
    const limits = createRateLimits({ tiers });
    const admit = compose<AdmissionContext>([createAdmitStage({ limits })]);
    const p = principal({ tokenId: "tok_small", tier: "small" });
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await outcome(admit(admission(p))));
    expect(results.filter((r) => r === "ok")).toHaveLength(5);
    expect((results[6] as GatewayError).details).toEqual({ bucket: "normal", limit: 5 });
    await expect(admit(admission(principal({ tier: "platinum" })))).rejects.toThrow(/tier 'platinum' is not defined/);
  });

  it("a request of several calls is charged one point per call, and refused at the first call over the limit", async () => {
    const limits = createRateLimits({ tiers });
    const admit = compose<AdmissionContext>([createAdmitStage({ limits })]);
    const p = principal({ tokenId: "tok_batch", tier: "small" });
    const batch = (ids: number[]): AdmissionContext => ({ transport: "http", request: "POST /mcp", calls: ids.map((id) => ({ id, name: "list_tasks" })), principal: p });
    expect(await outcome(admit(batch([1, 2, 3])))).toBe("ok");
    const refused = await outcome(admit(batch([4, 5, 6])));
    expect(refused).toMatchObject({ code: "rate_limited", rpcId: 6 });
  });
});

describe("rate limits through the gateway (createGateway)", () => {
  it("every tools/call request pays one normal point at admission, generated tool or meta-tool, on every transport; none twice", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cs-rl-gw-"));
    const tokens = createMemoryTokenStore();
    const secret = mintToken();
    await tokens.create({ id: "tok_gw", hash: hashToken(secret), name: "gw", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() });
    const gateway = await createGateway(resolveConfig({ env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_RATE_NORMAL: "4", LOG_LEVEL: "silent" } }), {
      registry: createRegistry([tool("list_tasks")]),
      log: createLog("silent"),
      tokens,
      // The upstream is not what this test is about: answer every call locally.
      stages: { upstream: async (ctx) => void (ctx.result = { content: [{ type: "text", text: "ok" }] }) },
    });
    try {
      // A generated tool over HTTP, a meta-tool over stdio, call_tool (whose inner call is not charged again).
      expect((await callAs(gateway, secret, "list_tasks", {}, { transport: "http" })).isError).toBeFalsy();
      expect((await callAs(gateway, secret, "list_pending_actions", {}, { transport: "stdio" })).isError).toBeFalsy();
      expect((await callAs(gateway, secret, "call_tool", { name: "list_tasks", arguments: {} }, { transport: "http" })).isError).toBeFalsy();
      expect((await callAs(gateway, secret, "list_tasks", {}, { transport: "stdio" })).isError).toBeFalsy();
      // 4 points spent: the next of either kind is refused.
      const refused = await callAs(gateway, secret, "list_pending_actions", {});
      expect(refused.structuredContent).toMatchObject({ error: { code: "rate_limited", bucket: "normal" } });
      const refused2 = await callAs(gateway, secret, "list_tasks", {});
      expect(refused2.structuredContent).toMatchObject({ error: { code: "rate_limited", bucket: "normal", limit: 4 }, retry_after_seconds: expect.any(Number) });
    } finally {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("where the embedded limits count", () => {
  it("in the data dir by default (shared by every process on it), in memory with rateLimits.shared false", async () => {
    for (const shared of [true, false]) {
      const dataDir = mkdtempSync(join(tmpdir(), "cs-rl-where-"));
      const tokens = createMemoryTokenStore();
      const secret = mintToken();
      await tokens.create({ id: "tok_where", hash: hashToken(secret), name: "where", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() });
      const env: Record<string, string> = { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_LOG_LEVEL: "silent", ...(shared ? {} : { COUNTERSIGN_RATE_LIMITS_SHARED: "false" }) };
      const config = resolveConfig({ env });
      expect(config.rateLimits.shared).toBe(shared);
      const gateway = await createGateway(config, {
        registry: createRegistry([tool("list_tasks")]),
        log: createLog("silent"),
        tokens,
        stages: { upstream: async (ctx) => void (ctx.result = { content: [{ type: "text", text: "ok" }] }) },
      });
      try {
        expect((await callAs(gateway, secret, "list_tasks", {})).isError).toBeFalsy();
        expect(existsSync(join(dataDir, "rate-limits"))).toBe(shared);
      } finally {
        await gateway.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  });
});
