import { describe, expect, it } from "vitest";
import { actionIdOf, confirmTokenMatches, hashConfirmToken, isActionId, mintConfirmation } from "../../src/confirm/tokens.js";

describe("confirm tokens", () => {
  it("names their action and match only their own hash", () => {
    const m = mintConfirmation();
    expect(isActionId(m.actionId)).toBe(true);
    expect(actionIdOf(m.confirmToken)).toBe(m.actionId);
    expect(m.tokenHash).toBe(hashConfirmToken(m.confirmToken));
    expect(m.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(confirmTokenMatches(m.confirmToken, m.tokenHash)).toBe(true);
  });

  it("reject a token with one character changed", () => {
    const m = mintConfirmation();
    const last = m.confirmToken.at(-1)!;
    const tampered = m.confirmToken.slice(0, -1) + (last === "a" ? "b" : "a");
    expect(actionIdOf(tampered)).toBe(m.actionId);
    expect(confirmTokenMatches(tampered, m.tokenHash)).toBe(false);
  });

  it("treat malformed input as no token", () => {
    for (const bad of ["", "cfm_", "cfm_short_secret", 42, null, `act_${"a".repeat(20)}`, `cfm_${"a".repeat(20)}_${"b".repeat(31)}`]) {
      expect(actionIdOf(bad)).toBeUndefined();
    }
  });

  it("are unique and high-entropy", () => {
    const seen = new Set(Array.from({ length: 2000 }, () => mintConfirmation().confirmToken));
    expect(seen.size).toBe(2000);
    const secret = mintConfirmation().confirmToken.split("_")[2]!;
    expect(secret).toHaveLength(32);
  });
});
