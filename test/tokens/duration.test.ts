import { describe, expect, it } from "vitest";
import { parseExpiry } from "../../src/tokens/duration.js";

describe("--expires", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  it("parses durations and combinations", () => {
    const at = (t: string) => {
      const r = parseExpiry(t, now);
      if (!r.ok) throw new Error(r.reason);
      return r.expiresAt.toISOString();
    };
    expect(at("90m")).toBe("2026-01-01T01:30:00.000Z");
    expect(at("30d")).toBe("2026-01-31T00:00:00.000Z");
    expect(at("1d12h")).toBe("2026-01-02T12:00:00.000Z");
    expect(at("2w")).toBe("2026-01-15T00:00:00.000Z");
    expect(at("2026-06-01")).toBe("2026-06-01T00:00:00.000Z");
  });
  it("explains what is wrong", () => {
    const reason = (t: string) => {
      const r = parseExpiry(t, now);
      return r.ok ? "" : r.reason;
    };
    expect(reason("soon")).toMatch(/expected a duration like 90m/);
    expect(reason("0d")).toMatch(/longer than zero/);
    expect(reason("2020-01-01")).toMatch(/in the past/);
  });
});
