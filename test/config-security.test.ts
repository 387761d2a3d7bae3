/** The config sections the security stages read: rateLimits, auth, exclusions. */
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config.js";

describe("config: rateLimits, auth, exclusions", () => {
  it("defaults to 1000 normal / 100 sensitive per minute on the default tier", () => {
    const c = resolveConfig({});
    expect(c.rateLimits).toEqual({ windowSeconds: 60, tiers: { default: { normal: 1000, sensitive: 100 } }, shared: true });
    expect(c.auth.lastUsedIntervalMs).toBe(60_000);
    expect(c.exclusions).toEqual([]);
    expect(Object.isFrozen(c.rateLimits.tiers.default)).toBe(true);
  });

  it("takes tiers from the file, filling missing numbers from the default tier; env overrides the default tier", () => {
    const c = resolveConfig({
      env: { COUNTERSIGN_RATE_NORMAL: "500" },
      file: { rateLimits: { windowSeconds: 30, tiers: { default: { sensitive: 10 }, gold: { normal: 5000 }, bots: { normal: 50, sensitive: 5 } } } },
    });
    expect(c.rateLimits.windowSeconds).toBe(30);
    expect(c.rateLimits.tiers).toEqual({ default: { normal: 500, sensitive: 10 }, gold: { normal: 5000, sensitive: 10 }, bots: { normal: 50, sensitive: 5 } });
  });

  it("names the key of a bad value", () => {
    expect(() => resolveConfig({ file: { rateLimits: { tiers: { gold: { normal: "lots" } } } } })).toThrow(/config rateLimits\.tiers\.gold\.normal: expected an integer/);
    expect(() => resolveConfig({ file: { rateLimits: { tiers: { gold: { normal: 0 } } } } })).toThrow(/rateLimits\.tiers\.gold\.normal: must be between 1/);
    expect(() => resolveConfig({ file: { rateLimits: { tiers: { gold: { burst: 3 } } } } })).toThrow(/rateLimits\.tiers\.gold\.burst: unknown field/);
    expect(() => resolveConfig({ file: { rateLimits: { tiers: [] } } })).toThrow(/rateLimits\.tiers: expected a map/);
    expect(() => resolveConfig({ env: { COUNTERSIGN_RATE_SENSITIVE: "-1" } })).toThrow(/rateLimits\.tiers\.default\.sensitive/);
    expect(() => resolveConfig({ file: { exclusions: [{ tool: "x" }, { path: "/y" }] } })).toThrow(/config exclusions\[1\]\.path is not a known field/);
  });

  it("reads exclusions from the file, or tool-name patterns from COUNTERSIGN_EXCLUDE_TOOLS", () => {
    expect(resolveConfig({ file: { exclusions: [{ module: "admin", reason: "not in this deployment" }] } }).exclusions).toEqual([{ module: "admin", reason: "not in this deployment" }]);
    expect(resolveConfig({ env: { COUNTERSIGN_EXCLUDE_TOOLS: "delete_*, export_all" } }).exclusions).toEqual([
      { tool: "delete_*", reason: "excluded by COUNTERSIGN_EXCLUDE_TOOLS" },
      { tool: "export_all", reason: "excluded by COUNTERSIGN_EXCLUDE_TOOLS" },
    ]);
  });
});
