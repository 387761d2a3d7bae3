import { describe, expect, it } from "vitest";
import type { Principal } from "../../src/context.js";
import { createRegistry } from "../../src/registry.js";
import { checkExclusions, createPolicy } from "../../src/stages/policy.js";
import { createCatalog } from "../../src/upstreams/catalog.js";
import { fixtureTools } from "../fixtures/tools/index.js";

const one = createRegistry(fixtureTools());
const catalog = createCatalog([
  { name: "alpha", kind: "openapi", prefix: "alpha", registry: one },
  { name: "beta", kind: "openapi", prefix: "beta", registry: one },
]);
const upstreamOf = (t: { name: string }) => catalog.upstreamOf?.(t.name)?.name;
const who = (fields: Partial<Principal> = {}): Principal => ({ tokenId: "tok_1", subject: "t", modules: "all", readOnly: false, tier: "default", ...fields });

describe("policy over several upstreams", () => {
  it("a token scoped to upstreams sees and may call only their tools", () => {
    const policy = createPolicy({ upstreamOf });
    const visible = policy.visibleTools(who({ upstreams: ["beta"] }), catalog.tools);
    expect(visible.length).toBe(one.tools.filter((t) => t.policy.excluded === false).length);
    expect(visible.every((t) => t.name.startsWith("beta_"))).toBe(true);
    const alpha = catalog.tools.find((t) => t.name.startsWith("alpha_") && t.policy.excluded === false)!;
    expect(policy.decide(who({ upstreams: ["beta"] }), alpha)).toMatchObject({ allowed: false, reason: "scope", message: expect.stringMatching(/upstream 'alpha', which is outside this token's scope \(upstreams: beta\)/) });
    expect(policy.decide(who(), alpha).allowed).toBe(true);
  });

  it("fails closed for a token scoped to upstreams on a lone API (no upstream names)", () => {
    const policy = createPolicy({});
    expect(policy.visibleTools(who({ upstreams: ["alpha"] }), one.tools)).toEqual([]);
  });

  it("module scope and read-only apply inside the upstream scope", () => {
    const policy = createPolicy({ upstreamOf });
    const module = catalog.tools.find((t) => t.name.startsWith("beta_"))!.module;
    const visible = policy.visibleTools(who({ upstreams: ["alpha", "beta"], modules: [module], readOnly: true }), catalog.tools);
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.every((t) => t.module === module && !t.policy.write)).toBe(true);
  });

  it("an exclusion can name an upstream", () => {
    const policy = createPolicy({ upstreamOf, exclusions: checkExclusions([{ upstream: "alpha", reason: "retired" }]) });
    const visible = policy.visibleTools(who(), catalog.tools);
    expect(visible.some((t) => t.name.startsWith("alpha_"))).toBe(false);
    expect(visible.some((t) => t.name.startsWith("beta_"))).toBe(true);
    expect(() => checkExclusions([{ upstrem: "a" }])).toThrow(/exclusions\[0\]\.upstrem is not a known field \(upstream, tool/);
  });
});
