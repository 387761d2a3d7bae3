/** Stripe: form-encoded bodies with deepObject-style nesting, no tags (modules from paths). */
import { describe, expect, it } from "vitest";
import { byOperationId, expectSound, fixture, generateSpec } from "./helpers.js";

describe("form-encoded (Stripe)", () => {
  it("generates every operation as a tool or an exclusion, with form bodies and encodings", async () => {
    const { tools, manifest } = await generateSpec(fixture("stripe.json.gz"));
    expect(tools.length + manifest.excluded.length).toBe(452);
    expectSound(tools);
    const form = tools.filter((t) => t.binding.body?.mediaType === "application/x-www-form-urlencoded");
    expect(form.length).toBeGreaterThan(100);
    const withEncoding = form.find((t) => t.binding.body?.encoding && Object.values(t.binding.body.encoding).some((e) => e.style === "deepObject"));
    expect(withEncoding, "a form body with deepObject encoding").toBeDefined();
    // No tags: modules come from the first path segment after the /v1 version prefix.
    expect(manifest.modules.map((m) => m.name)).toContain("customers");
    expect(manifest.modules.map((m) => m.name)).not.toContain("v1");
    const customers = byOperationId(tools, "GetCustomers");
    expect(customers.name).toBe("get_customers");
    expect(customers.module).toBe("customers");
    // Billing and payments are excluded by rule, with the rule named in the reason.
    expect(manifest.excluded.find((e) => e.path === "/v1/invoices")?.reason).toMatch(/rule billing/);
    expect(tools.some((t) => t.binding.path.startsWith("/v1/invoices"))).toBe(false);
  }, 120_000);
});
