/**
 * Quotas on pending actions, seen through the whole chain: a token over its cap gets
 * quota_exceeded naming the limit and how to free room, nothing is stored, and confirming or
 * cancelling frees room again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppHarness, type AppHarness } from "../app-harness.js";
import { callAs } from "../support/call.js";

describe("pending-action quotas through the chain", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_MAX_PENDING_PER_TOKEN: "2", COUNTERSIGN_MAX_PENDING_ARGS_BYTES: "2048" } });
  });
  afterAll(() => h.close());

  it("refuses a third open action and one over the size cap, stores nothing, and frees room on cancel", async () => {
    const token = await h.mint({ id: "tok_quota" });
    const write = (name: string) => callAs(h.gateway, token, "create_item", { project_id: 1, name });
    const first = await write("one");
    expect(first.structuredContent).toMatchObject({ status: "pending_confirmation" });
    expect((await write("two")).structuredContent).toMatchObject({ status: "pending_confirmation" });
    const third = await write("three");
    expect(third.isError).toBe(true);
    expect(third.structuredContent?.error).toMatchObject({ code: "quota_exceeded", kind: "open_actions", limit: 2 });
    expect(JSON.stringify(third.content)).toMatch(/confirm_action|cancel_action/);
    expect(await h.gateway.deps.pendingActions.list("tok_quota")).toHaveLength(2);

    const cancelled = await callAs(h.gateway, token, "cancel_action", { confirm_token: first.structuredContent!.confirm_token });
    expect(cancelled.structuredContent).toMatchObject({ status: "cancelled" });
    const big = await write("x".repeat(4096));
    expect(big.structuredContent?.error).toMatchObject({ code: "quota_exceeded", kind: "action_bytes", limit: 2048 });
    expect((await write("three again")).structuredContent).toMatchObject({ status: "pending_confirmation" });
    // Another token has its own room.
    expect((await callAs(h.gateway, h.otherToken, "create_item", { project_id: 1, name: "other" })).structuredContent).toMatchObject({ status: "pending_confirmation" });
  });
});
