import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createGateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createLog } from "../../src/log.js";
import type { SessionContext } from "../../src/mcp/meta-tools.js";
import { createRegistry } from "../../src/registry.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { GatewayError, toHttp, toToolResult } from "../../src/errors.js";
import { compose } from "../../src/pipeline.js";
import { createAdmit, createRateLimitStage } from "../../src/stages/rate-limit.js";
import { createRateLimits } from "../../src/stores/rate-limits.js";
import { context, principal, tool } from "../tokens/fixtures.js";

const tiers = { default: { normal: 1000, sensitive: 100 }, small: { normal: 5, sensitive: 2 } };

async function outcome(p: Promise<unknown>): Promise<"ok" | GatewayError> {
  return p.then(
    () => "ok" as const,
    (e: unknown) => e as GatewayError,
  );
}

describe("rate-limit stage", () => {
  it("1100 calls in a burst: exactly 1000 pass, 100 are refused naming the bucket; another token is unaffected", async () => {
    const limits = createRateLimits({ tiers });
    let upstream = 0;
    const run = compose([createRateLimitStage({ limits }), async () => void upstream++]);
    const t = tool("list_tasks");
    const results = await Promise.all(Array.from({ length: 1100 }, () => outcome(run(context(t, { principal: principal({ tokenId: "tok_a" }) })))));
    const refused = results.filter((r): r is GatewayError => r !== "ok");
    expect(results.length - refused.length).toBe(1000);
    expect(refused).toHaveLength(100);
    expect(upstream).toBe(1000);
    for (const err of refused) {
      expect(err.code).toBe("rate_limited");
      expect(err.details).toEqual({ bucket: "normal", limit: 1000 });
      expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(err.retryAfterSeconds).toBeLessThanOrEqual(60);
      expect(err.message).toMatch(new RegExp(`normal bucket allows 1000 calls per minute; retry in ${err.retryAfterSeconds} s`));
    }
    // The transports' mappings carry the same facts.
    expect(toHttp(refused[0]).status).toBe(429);
    expect(toHttp(refused[0]).headers["Retry-After"]).toBe(String(refused[0].retryAfterSeconds));
    expect(toToolResult(refused[0]).structuredContent).toMatchObject({ retry_after_seconds: refused[0].retryAfterSeconds, error: { bucket: "normal" } });
    expect(await outcome(run(context(t, { principal: principal({ tokenId: "tok_b" }) })))).toBe("ok");
  });

  it("sensitive writes count against the sensitive bucket when they execute, not when previewed", async () => {
    const limits = createRateLimits({ tiers });
    let executed = 0;
    const run = compose([createRateLimitStage({ limits }), async () => void executed++]);
    const sensitive = tool("add_role", { write: true, sensitive: true });
    const p = principal({ tokenId: "tok_s" });
    // Previews: normal bucket only, so 150 previews go through.
    for (let i = 0; i < 150; i++) expect(await outcome(run(context(sensitive, { principal: p })))).toBe("ok");
    // Executions arrive as the confirm path runs them: not admitted by a transport, but confirmed.
    const confirmed = await Promise.all(
      Array.from({ length: 101 }, (_, i) => outcome(run(context(sensitive, { principal: p, confirmed: { actionId: `a${i}` } })))),
    );
    const refused = confirmed.filter((r): r is GatewayError => r !== "ok");
    expect(refused).toHaveLength(1);
    expect(refused[0].details).toEqual({ bucket: "sensitive", limit: 100 });
    expect(executed).toBe(250);
    // A non-sensitive write still executes.
    expect(await outcome(run(context(tool("create_task", { write: true }), { principal: p, confirmed: { actionId: "b" } })))).toBe("ok");
    // Executions did not pay normal points: 150 previews + 850 more calls fill the 1000.
    const more = await Promise.all(Array.from({ length: 851 }, () => outcome(run(context(tool("list_tasks"), { principal: p })))));
    expect(more.filter((r) => r === "ok")).toHaveLength(850);
  });

  it("skips the normal bucket for calls the transport already admitted, and tiers change the numbers", async () => {
    const limits = createRateLimits({ tiers });
    const admit = createAdmit({ limits });
    const run = compose([createRateLimitStage({ limits }), async () => {}]);
    const p = principal({ tokenId: "tok_small", tier: "small" });
    const t = tool("list_tasks");
    let admitted = 0;
    for (let i = 0; i < 7; i++) {
      const r = await outcome(admit(p, t.name));
      if (r === "ok") {
        admitted++;
        await run(context(t, { principal: p, admitted: true }));
      } else expect(r.details).toEqual({ bucket: "normal", limit: 5 });
    }
    expect(admitted).toBe(5);
    await expect(run(context(t, { principal: principal({ tier: "platinum" }) }))).rejects.toThrow(/tier 'platinum' is not defined/);
  });
});

describe("rate limits through the gateway (createGateway)", () => {
  it("every tools/call pays one normal point: generated tools in the chain, meta-tools over stdio in callMetaTool, none twice", async () => {
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
      const principal = await gateway.authenticate(secret);
      const meta = gateway.metaTools.find((t) => t.name === "list_pending_actions")!;
      expect(meta).toBeDefined();
      const session = (transport: "stdio" | "http"): SessionContext => ({ principal, credential: secret, transport, signal: new AbortController().signal, gateway, params: {}, notifyToolsChanged: async () => {} });
      const signal = new AbortController().signal;
      // HTTP: the transport admits (1 point), then the chain must not count the call again.
      await gateway.admit(principal, "list_tasks");
      expect((await gateway.callTool({ name: "list_tasks", args: {}, credential: secret, transport: "http", signal, admitted: true })).isError).toBeFalsy();
      // HTTP meta-tool calls were admitted by the transport: no point taken here.
      expect((await gateway.callMetaTool(meta, {}, session("http"))).isError).toBeFalsy();
      // stdio: the chain counts a generated tool, callMetaTool counts a meta-tool.
      expect((await gateway.callTool({ name: "list_tasks", args: {}, credential: secret, transport: "stdio", signal })).isError).toBeFalsy();
      expect((await gateway.callMetaTool(meta, {}, session("stdio"))).isError).toBeFalsy();
      expect((await gateway.callTool({ name: "list_tasks", args: {}, credential: secret, transport: "stdio", signal })).isError).toBeFalsy();
      // 4 points spent: the next of either kind is refused.
      const refused = await gateway.callMetaTool(meta, {}, session("stdio"));
      expect(refused.structuredContent).toMatchObject({ error: { code: "rate_limited", bucket: "normal" } });
      const refused2 = await gateway.callTool({ name: "list_tasks", args: {}, credential: secret, transport: "stdio", signal });
      expect(refused2.structuredContent).toMatchObject({ error: { code: "rate_limited", bucket: "normal", limit: 4 }, retry_after_seconds: expect.any(Number) });
    } finally {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
