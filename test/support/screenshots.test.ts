/** Where the browser tests' screenshots land: an ignored folder by default, docs/ only when asked. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { repoRoot } from "../../src/console/server.js";
import { DOCS_TIME, docsScreenshots, screenshots, SCREENSHOTS_ENV, steadyClock } from "./screenshots.js";

const root = () => mkdtempSync(join(tmpdir(), "cs-shots-"));

describe("screenshot paths", () => {
  it("go to test-results/screenshots/ by default and never create anything under docs/", () => {
    const dir = root();
    const path = screenshots("console", {}, dir)("tokens-phone");
    expect(path).toBe(join(dir, "test-results", "screenshots", "console", "tokens-phone.png"));
    expect(existsSync(join(dir, "test-results", "screenshots", "console"))).toBe(true);
    expect(existsSync(join(dir, "docs"))).toBe(false);
    expect(screenshots("oauth", { [SCREENSHOTS_ENV]: "" }, dir)("consent")).toBe(join(dir, "test-results", "screenshots", "oauth", "consent.png"));
  });

  it("go to docs/<folder>/ with COUNTERSIGN_SCREENSHOTS=docs", () => {
    const dir = root();
    expect(docsScreenshots({ [SCREENSHOTS_ENV]: "docs" })).toBe(true);
    expect(screenshots("upstreams", { [SCREENSHOTS_ENV]: "docs" }, dir)("analytics")).toBe(join(dir, "docs", "upstreams", "analytics.png"));
    expect(existsSync(join(dir, "test-results"))).toBe(false);
  });

  it("refuses any other value of the variable rather than guessing", () => {
    for (const value of ["DOCS", "1", "true", "docs/", "../docs", " docs"]) {
      expect(() => docsScreenshots({ [SCREENSHOTS_ENV]: value }), value).toThrow(/COUNTERSIGN_SCREENSHOTS=.* is not understood/);
      expect(() => screenshots("console", { [SCREENSHOTS_ENV]: value }, root()), value).toThrow(/not understood/);
    }
  });

  it("refuses a folder or name that could leave its folder", () => {
    const dir = root();
    for (const bad of ["..", "../docs", "/tmp", "a/b", "a\\b", "", "Console", "x.png", "-x"]) {
      expect(() => screenshots(bad, {}, dir), bad).toThrow(/screenshot folder/);
      expect(() => screenshots("console", {}, dir)(bad), bad).toThrow(/screenshot name/);
    }
    expect(existsSync(join(dir, "test-results"))).toBe(false);
  });

  it("the default folder is ignored by git", () => {
    const ignored = execFileSync("git", ["check-ignore", "test-results/screenshots/console/tokens.png"], { cwd: repoRoot(), encoding: "utf8" });
    expect(ignored.trim()).toBe("test-results/screenshots/console/tokens.png");
  });
});

describe("the docs screenshots' clock", () => {
  afterEach(() => void vi.useRealTimers());

  it("is the real one in an ordinary run", () => {
    const restore = steadyClock({});
    expect(Math.abs(Date.now() - performance.timeOrigin - performance.now())).toBeLessThan(1000);
    restore();
  });

  it("starts at DOCS_TIME under make screenshots, keeps running, and the real one comes back", async () => {
    const restore = steadyClock({ [SCREENSHOTS_ENV]: "docs" });
    const start = Date.now();
    expect(start - DOCS_TIME.getTime()).toBeGreaterThanOrEqual(0);
    expect(start - DOCS_TIME.getTime()).toBeLessThan(1000);
    expect(new Date().toISOString().slice(0, 10)).toBe("2026-03-02");
    await new Promise((r) => setTimeout(r, 120)); // timers stay real
    expect(Date.now()).toBeGreaterThan(start);
    restore();
    expect(Math.abs(Date.now() - performance.timeOrigin - performance.now())).toBeLessThan(1000);
  });

  it("refuses a value it does not understand before touching the clock", () => {
    expect(() => steadyClock({ [SCREENSHOTS_ENV]: "yes" })).toThrow(/not understood/);
    expect(Math.abs(Date.now() - performance.timeOrigin - performance.now())).toBeLessThan(1000);
  });
});
