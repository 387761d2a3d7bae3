/** GitHub's 13 MB spec (1223 operations): every operation becomes a tool or a listed exclusion. */
import { describe, expect, it } from "vitest";
import { byOperationId, expectSound, fixture, generateSpec } from "./helpers.js";

describe("GitHub (stress)", () => {
  it("accounts for all 1223 operations and every schema compiles", async () => {
    const { tools, manifest } = await generateSpec(fixture("stress-github-api.github.com.json.gz"));
    expect(tools.length + manifest.excluded.length).toBe(1223);
    expect(manifest.tools.map((t) => t.name)).toEqual(tools.map((t) => t.name).sort());
    expectSound(tools);
    for (const e of manifest.excluded) expect(e.reason.length).toBeGreaterThan(5);
    const get = byOperationId(tools, "repos/get");
    expect(get.name).toBe("repos_get");
    expect(get.binding.arguments.map((a) => a.name)).toEqual(["owner", "repo"]);
    expect(get.outputSchema?.type).toBe("object");
    // Token minting is excluded by rule.
    expect(manifest.excluded.some((e) => e.operationId === "apps/create-installation-access-token")).toBe(true);
  }, 180_000);
});
