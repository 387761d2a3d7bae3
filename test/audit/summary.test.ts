import { describe, expect, it } from "vitest";
import { summarize, type SummaryInput } from "../../src/audit/summary.js";
import { classify } from "../../src/audit/outcome.js";
import { GatewayError } from "../../src/errors.js";

const createTask: Omit<SummaryInput, "type" | "outcome"> = {
  tool: "create_task",
  title: "Create a task",
  write: true,
  pathArgs: ["project_id"],
  args: { project_id: 42, title: "Ship Q2 launch" },
};

describe("summarize", () => {
  it("reads like a sentence for each kind of event", () => {
    expect(summarize({ ...createTask, type: "confirmed", outcome: "executed" })).toBe("Created task 'Ship Q2 launch' in project 42");
    expect(summarize({ ...createTask, type: "pending", outcome: "pending" })).toBe("Awaiting confirmation: create task 'Ship Q2 launch' in project 42");
    expect(summarize({ ...createTask, type: "cancelled", outcome: "cancelled" })).toBe("Cancelled: create task 'Ship Q2 launch' in project 42");
    expect(summarize({ ...createTask, type: "denied", outcome: "denied", error: "outside the token's modules" })).toBe("Denied: create task 'Ship Q2 launch' in project 42 (outside the token's modules)");
    expect(summarize({ ...createTask, type: "rate_limited", outcome: "rate_limited" })).toBe("Rate limited: create task 'Ship Q2 launch' in project 42");
    expect(summarize({ ...createTask, type: "tool_call", outcome: "upstream_error", upstreamStatus: 404 })).toBe("Failed: create task 'Ship Q2 launch' in project 42 (upstream 404)");
    expect(summarize({ ...createTask, type: "tool_call", outcome: "invalid", error: "/title: required" })).toBe("Invalid arguments: create task 'Ship Q2 launch' in project 42 (/title: required)");
  });

  it("puts an id next to the noun the title names, and others after 'in'", () => {
    const input = { tool: "update_task", title: "Update a task", write: true, pathArgs: ["project_id", "task_id"], args: { project_id: 1, task_id: 7, name: "Renamed" } };
    expect(summarize({ ...input, type: "confirmed", outcome: "executed" })).toBe("Updated task 7 'Renamed' in project 1");
    expect(summarize({ tool: "get_user", title: "Get user", pathArgs: ["id"], args: { id: "u-1" }, type: "tool_call", outcome: "ok" })).toBe("Get user u-1");
  });

  it("handles two verbs, wrapped bodies and unknown verbs", () => {
    expect(summarize({ tool: "x", title: "Rename or describe an attachment", write: true, pathArgs: ["attachment_id"], args: { attachment_id: 3 }, type: "confirmed", outcome: "executed" })).toBe("Renamed or described attachment 3");
    expect(summarize({ tool: "x", title: "Create issue", write: true, args: { body: { title: "Bug" } }, type: "confirmed", outcome: "executed" })).toBe("Created issue 'Bug'");
    expect(summarize({ tool: "frob_widget", title: "Frobnicate widget", write: true, args: {}, type: "confirmed", outcome: "executed" })).toBe("Done: frobnicate widget");
  });

  it("stays one bounded line whatever the arguments hold", () => {
    const line = summarize({ ...createTask, args: { project_id: 1, title: `line one\nline two ${"x".repeat(500)}` }, type: "pending", outcome: "pending" });
    expect(line).not.toContain("\n");
    expect(line.length).toBeLessThanOrEqual(200);
    expect(line).toContain("'line one line two");
  });
});

describe("classify", () => {
  it("maps errors and results to outcome and type", () => {
    expect(classify({ threw: true, error: new GatewayError("rate_limited", "x", { details: { bucket: "sensitive" } }), confirmed: false })).toMatchObject({ outcome: "rate_limited", type: "rate_limited", bucket: "sensitive" });
    expect(classify({ threw: true, error: new GatewayError("confirmation_invalid", "x", { details: { status: "expired", action_id: "a1" } }), confirmed: false })).toMatchObject({ outcome: "expired", type: "expired", actionId: "a1" });
    expect(classify({ threw: true, error: new Error("boom"), confirmed: false })).toMatchObject({ outcome: "error", errorCode: "internal", error: "Internal gateway error" });
    expect(classify({ threw: false, result: { content: [], structuredContent: { status: "pending_confirmation" } }, confirmed: false })).toMatchObject({ outcome: "pending", type: "pending" });
    expect(classify({ threw: false, result: { content: [] }, confirmed: true })).toMatchObject({ outcome: "executed", type: "confirmed" });
    // A tool error result carrying a GatewayError code is classified like the error itself.
    const asResult = { isError: true, content: [], structuredContent: { error: { code: "forbidden", message: "no", retryable: false, reason: "excluded" } } };
    expect(classify({ threw: false, result: asResult, confirmed: false })).toMatchObject({ outcome: "denied", type: "denied", error: "no" });
    // A refusal is never relabelled by what a stage announced earlier.
    expect(classify({ threw: true, error: new GatewayError("forbidden", "no"), confirmed: true, announced: { type: "confirmed" } }).type).toBe("denied");
  });
});
