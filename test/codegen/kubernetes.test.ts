/** Kubernetes 1.13: a large Swagger 2.0 spec (converted), many tags, RBAC paths. */
import { describe, expect, it } from "vitest";
import { expectSound, fixture, generateSpec } from "./helpers.js";

describe("Swagger 2.0 (Kubernetes)", () => {
  it("converts and generates all 1014 operations", async () => {
    const { tools, manifest } = await generateSpec(fixture("awkward-swagger2-kubernetes-1.13.json.gz"));
    expect(tools.length + manifest.excluded.length).toBe(1014);
    expectSound(tools);
    expect(manifest.modules.length).toBeGreaterThan(30);
    const rbac = tools.filter((t) => t.binding.path.includes("/rbac.authorization.k8s.io/"));
    expect(rbac.length).toBeGreaterThan(0);
    expect(rbac.every((t) => t.policy.sensitive)).toBe(true);
  }, 120_000);
});
