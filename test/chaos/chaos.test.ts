/**
 * The short profile of bench/chaos.js: previews and confirms writes through the real CLI
 * (`countersign serve`, SDK client over Streamable HTTP) while the gateway is SIGKILLed at random
 * calls and restarted on the same data dir, then on the same Redis. Every action must end executed
 * exactly once, cancelled, expired or unknown, and the counting upstream must never see one
 * action's write twice. `node bench/chaos.js --rounds 50` is the long profile.
 * Needs dist/ (built by test/global-setup.ts unless COUNTERSIGN_SKIP_BUILD=1).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedRedis } from "../redis/redis-server.js";

interface ChaosResult {
  store: string;
  rounds: number;
  kills: number;
  actions: number;
  outcomes: { executed: number; cancelled: number; expired: number; unknown: number };
  upstreamWrites: number;
  duplicates: number;
  violations: string[];
}
interface ChaosModule {
  runChaos(options: { store: "file" | "redis"; rounds: number; generated?: string; redisUrl?: string; budgetMs?: number }): Promise<ChaosResult>;
  generateChaosApi(dir: string): string;
  summary(r: ChaosResult): string;
}

const ROUNDS = 10;
/** No round starts after this; a loaded machine runs fewer rounds rather than a longer test. */
const BUDGET_MS = 18_000;

let chaos: ChaosModule;
let generated: string;
let redis: { url: string; close(): Promise<void> };

beforeAll(async () => {
  chaos = (await import(pathToFileURL(join(process.cwd(), "bench/chaos.js")).href)) as ChaosModule;
  generated = chaos.generateChaosApi(mkdtempSync(join(tmpdir(), "cs-chaos-api-")));
  redis = await sharedRedis();
});
afterAll(() => redis?.close());

describe.each(["file", "redis"] as const)("SIGKILL during previews and confirms (%s stores)", (store) => {
  it("ends every action executed once, cancelled, expired or unknown, and never writes twice", async () => {
    // A spare database index on the shared Redis; the run's key prefix is unique and removed after.
    const redisUrl = redis.url.replace(/\/\d*$/, "") + "/13";
    const r = await chaos.runChaos({ store, rounds: ROUNDS, generated, redisUrl, budgetMs: BUDGET_MS });
    process.stdout.write(`chaos ${chaos.summary(r)}\n`);
    expect(r.violations).toEqual([]);
    expect(r.duplicates).toBe(0);
    expect(r.rounds).toBeGreaterThanOrEqual(3);
    expect(r.kills).toBeGreaterThanOrEqual(1);
    expect(r.actions).toBeGreaterThan(0);
    const o = r.outcomes;
    expect(o.executed + o.cancelled + o.expired + o.unknown).toBe(r.actions);
    // Each write the upstream saw belongs to one action that executed or whose outcome is unknown.
    expect(r.upstreamWrites).toBeGreaterThanOrEqual(o.executed);
    expect(r.upstreamWrites).toBeLessThanOrEqual(o.executed + o.unknown);
  }, 60_000);
});
