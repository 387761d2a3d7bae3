/**
 * Who approves: the spec's x-mcp-approval and the generate config's approval rules (codegen), the
 * serve config's approvals.rules and the token rules (src/approvals/policy.ts).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ToolDescriptor } from "../../codegen/descriptor.js";
import { parseConfig } from "../../codegen/config.js";
import { loadSpec } from "../../codegen/load-spec.js";
import { buildTools } from "../../codegen/operations.js";
import { approvalFor, checkApprovalRules } from "../../src/approvals/policy.js";
import { resolveConfig } from "../../src/config.js";
import type { Principal } from "../../src/context.js";

const SPEC = `
openapi: 3.0.3
info: { title: t, version: "1" }
tags:
  - { name: vault, x-mcp-approval: both }
paths:
  /notes:
    post: { operationId: createNote, tags: [notes], responses: { "201": { description: ok } } }
  /notes/{id}:
    parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
    delete: { operationId: deleteNote, tags: [notes], x-mcp-approval: person, responses: { "204": { description: ok } } }
    put: { operationId: putNote, tags: [notes], x-mcp-approval: nobody, responses: { "200": { description: ok } } }
    get: { operationId: getNote, tags: [notes], x-mcp-approval: person, responses: { "200": { description: ok } } }
  /secrets:
    post: { operationId: storeSecret, tags: [vault], responses: { "201": { description: ok } } }
  /archive:
    post: { operationId: archiveAll, tags: [notes], responses: { "201": { description: ok } } }
`;

async function tools(rules: unknown[] = []): Promise<{ byName: Record<string, ToolDescriptor>; warnings: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "cs-approval-spec-"));
  writeFileSync(join(dir, "spec.yaml"), SPEC);
  const built = buildTools(await loadSpec(join(dir, "spec.yaml")), parseConfig({ rules }, "test config").rules);
  return { byName: Object.fromEntries(built.tools.map((t) => [t.name, t])), warnings: built.warnings.map((w) => w.problem) };
}

const principal = (over: Partial<Principal> = {}): Principal => ({ tokenId: "tok_a", subject: "a", modules: "all", readOnly: false, tier: "default", ...over });

describe("approval policy", () => {
  it("codegen: x-mcp-approval on the operation or its tag, a generate-config approval rule, nothing on reads or bad values", async () => {
    const { byName, warnings } = await tools([{ id: "archive-needs-a-person", action: "approval", approval: "person", reason: "archives everything", match: { operationIdWords: ["archive"] } }]);
    expect(byName.delete_note!.policy.approval).toBe("person");
    expect(byName.store_secret!.policy.approval).toBe("both");
    expect(byName.archive_all!.policy.approval).toBe("person");
    expect(byName.create_note!.policy.approval).toBeUndefined();
    expect(byName.put_note!.policy.approval).toBeUndefined(); // "nobody" is not a value: warned and ignored
    expect(warnings).toContain("must be one of agent, person, both; ignored");
    expect(byName.get_note!.policy.approval).toBeUndefined(); // a read has no pending action
    expect(() => parseConfig({ rules: [{ id: "x", action: "approval", reason: "r", match: { methods: ["DELETE"] } }] }, "c.yaml")).toThrow(/rules\[0\]\.approval must be one of agent, person, both/);
  });

  it("serve config: the first matching rule wins over the tool's own; a token rule only adds a person", async () => {
    const { byName } = await tools();
    const rules = checkApprovalRules([
      { tool: "delete_*", approval: "agent" },
      { methods: ["post"], module: "vault", approval: "person" },
      { sensitive: true, approval: "person" },
      { tokens: ["tok_careful"], approval: "person" },
    ]);
    expect(approvalFor(byName.delete_note!, principal(), rules)).toBe("agent");
    expect(approvalFor(byName.store_secret!, principal(), rules)).toBe("person");
    expect(approvalFor(byName.create_note!, principal(), rules)).toBe("agent");
    expect(approvalFor(byName.create_note!, principal({ tokenId: "tok_careful" }), rules)).toBe("person");
    expect(approvalFor(byName.create_note!, principal(), [])).toBe("agent");
    expect(approvalFor(byName.delete_note!, principal(), [])).toBe("person");
    const both = checkApprovalRules([{ tool: "create_note", approval: "both" }, { tiers: ["interns"], approval: "person" }]);
    expect(approvalFor(byName.create_note!, principal({ tier: "interns" }), both)).toBe("both");
  });

  it("bad rules are refused naming the entry", () => {
    expect(() => checkApprovalRules({})).toThrow(/must be a list/);
    expect(() => checkApprovalRules([{ approval: "person" }])).toThrow(/\[0\] must select with at least one of/);
    expect(() => checkApprovalRules([{ tool: "x" }])).toThrow(/\[0\]\.approval is required/);
    expect(() => checkApprovalRules([{ tool: "x", approval: "boss" }])).toThrow(/\[0\]\.approval must be one of agent, person, both/);
    expect(() => checkApprovalRules([{ methods: ["FETCH"], approval: "person" }])).toThrow(/"FETCH" is not an HTTP method/);
    expect(() => checkApprovalRules([{ tol: "x", approval: "person" }])).toThrow(/\[0\]\.tol is not a known field/);
    expect(() => resolveConfig({ file: { approvals: { rules: [{ tool: "x", approval: "maybe" }] } } })).toThrow(/config approvals\.rules\[0\]\.approval must be one of/);
    expect(resolveConfig({ env: { COUNTERSIGN_APPROVAL_TTL_MS: "3600000" } }).approvals).toMatchObject({ ttlMs: 3_600_000, separateApprover: false, rules: [] });
    expect(resolveConfig({}).approvals.ttlMs).toBe(86_400_000);
  });
});

describe("the sample gateway config (examples/gateway.yaml)", () => {
  it("asks a person for deletes and sensitive writes of the bundled API, and the agent for the rest", async () => {
    const { loadConfig } = await import("../../src/config.js");
    const { workspaceTools } = await import("./harness.js");
    const config = loadConfig({ config: "examples/gateway.yaml" }, {});
    const tools = Object.fromEntries((await workspaceTools()).map((t) => [t.name, t]));
    const p = principal();
    expect(approvalFor(tools.delete_task!, p, config.approvals.rules)).toBe("person");
    const sensitiveWrite = Object.values(tools).find((t) => t.policy.write && t.policy.sensitive && t.binding.method !== "DELETE")!;
    expect(approvalFor(sensitiveWrite, p, config.approvals.rules)).toBe("person");
    expect(approvalFor(tools.create_task!, p, config.approvals.rules)).toBe("agent");
    expect(approvalFor(tools.update_task!, p, config.approvals.rules)).toBe("agent");
  });
});

describe("a token that always needs a person", () => {
  it("tokens create --needs-person marks the record; its principal turns every agent-approved write into person", async () => {
    const { run } = await import("../../src/cli/tokens.js");
    const { createTokenFileStore } = await import("../../src/stores/token-file-store.js");
    const { createAuthenticator } = await import("../../src/tokens/authenticate.js");
    const dataDir = mkdtempSync(join(tmpdir(), "cs-needs-person-"));
    let stdout = "";
    const env = { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_GENERATED_DIR: join(dataDir, "none") };
    const io = { stdout: (t: string) => void (stdout += t), stderr: () => undefined, env, now: () => new Date() };
    expect(await run(["create", "--name", "careful-bot", "--needs-person", "--json"], io)).toBe(0);
    const made = JSON.parse(stdout);
    expect(made).toMatchObject({ name: "careful-bot", needsPerson: true });
    stdout = "";
    expect(await run(["create", "--name", "plain-bot"], io)).toBe(0);
    expect(stdout).not.toContain("needs a person");

    const store = createTokenFileStore({ dir: dataDir });
    const p = await createAuthenticator({ store }).authenticate(made.token);
    expect(p.needsPerson).toBe(true);
    const { byName } = await tools();
    expect(approvalFor(byName.create_note!, p, [])).toBe("person");
    expect(approvalFor(byName.store_secret!, p, [])).toBe("both");
    expect(approvalFor(byName.create_note!, principal(), [])).toBe("agent");
    await store.close();
  });
});
