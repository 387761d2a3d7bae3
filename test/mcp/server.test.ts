/**
 * The MCP server adapter and each meta-tool, driven by the SDK's own Client over an in-memory
 * transport: a session that admits every request itself (as stdio does), so revocation, rate
 * limits and meta-tools are seen exactly as a local client sees them.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMcpServer } from "../../src/mcp/server.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";

type Result = { isError?: boolean; structuredContent?: Record<string, any>; content: { type: string; text?: string }[] };

async function session(h: AppHarness, credential: string, params: Record<string, string> = {}): Promise<Client> {
  const principal = await h.gateway.admit({ transport: "stdio", credential, request: "test start-up" });
  const server = createMcpServer(h.gateway, { transport: "stdio", credential, principal, params, enabledModules: new Set() });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "server-test", version: "1" });
  await client.connect(b);
  return client;
}

describe("MCP server adapter", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_PAGE_SIZE: "10", COUNTERSIGN_MODE: "all" } });
  });
  afterAll(() => h.close());

  it("lists tools a page at a time and refuses a made-up cursor", async () => {
    const client = await session(h, h.token);
    const first = await client.listTools();
    expect(first.tools).toHaveLength(10);
    expect(first.nextCursor).toBeTruthy();
    const second = await client.listTools({ cursor: first.nextCursor });
    expect(second.tools[0]!.name).not.toBe(first.tools[0]!.name);
    await expect(client.listTools({ cursor: "not-a-cursor" })).rejects.toThrow(/Invalid cursor/);
    await client.close();
  });

  it("admits every request: a token revoked mid-session fails on its next list and its next call", async () => {
    const secret = await h.mint({ id: "tok_revoked_mid" });
    const client = await session(h, secret);
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "1" } })).isError).toBeFalsy();
    const tokens = h.gateway.deps.tokens;
    await tokens.revoke("tok_revoked_mid", new Date());
    await expect(client.listTools()).rejects.toThrow(/-32001.*revoked/i);
    const refused = (await client.callTool({ name: "get_item", arguments: { item_id: "1" } })) as Result;
    expect(refused.isError).toBe(true);
    expect(refused.structuredContent?.error).toMatchObject({ code: "unauthorized", reason: "revoked" });
    await client.close();
  });

  it("get_activity shows this token's own calls", async () => {
    const secret = await h.mint({ id: "tok_activity" });
    const client = await session(h, secret);
    await client.callTool({ name: "get_item", arguments: { item_id: "activity-1" } });
    const activity = (await client.callTool({ name: "get_activity", arguments: { limit: 5 } })) as Result;
    expect(activity.structuredContent?.events.map((e: { tool: string }) => e.tool)).toEqual(["get_item"]);
    await client.close();
  });

  it("search_tools, describe_tool and call_tool find and run a tool the token may use", async () => {
    const client = await session(h, h.token);
    const found = (await client.callTool({ name: "search_tools", arguments: { query: "item" } })) as Result;
    expect(JSON.stringify(found.structuredContent)).toContain("get_item");
    const described = (await client.callTool({ name: "describe_tool", arguments: { name: "get_item" } })) as Result;
    expect(described.structuredContent).toMatchObject({ name: "get_item" });
    const called = (await client.callTool({ name: "call_tool", arguments: { name: "get_item", arguments: { item_id: "via-call-tool" } } })) as Result;
    expect(called.isError).toBeFalsy();
    expect(h.upstream.requests.some((r) => r.url.includes("via-call-tool"))).toBe(true);
    const meta = (await client.callTool({ name: "call_tool", arguments: { name: "confirm_action", arguments: {} } })) as Result;
    expect(meta.isError).toBe(true);
    expect(JSON.stringify(meta.content)).toContain("is a gateway tool");
    await client.close();
  });

  it("a write through call_tool is a pending action like a direct one; confirm runs it once, cancel discards", async () => {
    const client = await session(h, h.token);
    const before = h.upstream.requests.filter((r) => r.method === "POST").length;
    const pending = (await client.callTool({ name: "call_tool", arguments: { name: "create_item", arguments: { project_id: 1, name: "Through call_tool" } } })) as Result;
    expect(pending.structuredContent).toMatchObject({ status: "pending_confirmation" });
    const listed = (await client.callTool({ name: "list_pending_actions", arguments: {} })) as Result;
    expect(listed.structuredContent?.actions.map((a: { action_id: string }) => a.action_id)).toContain(pending.structuredContent!.action_id);
    const done = (await client.callTool({ name: "confirm_action", arguments: { confirm_token: pending.structuredContent!.confirm_token } })) as Result;
    expect(done.structuredContent).toMatchObject({ status: "executed" });
    const again = (await client.callTool({ name: "confirm_action", arguments: { confirm_token: pending.structuredContent!.confirm_token } })) as Result;
    expect(again.structuredContent).toMatchObject({ status: "already_executed" });
    expect(h.upstream.requests.filter((r) => r.method === "POST").length - before).toBe(1);
    const other = (await client.callTool({ name: "create_item", arguments: { project_id: 1, name: "Cancel me" } })) as Result;
    const cancelled = (await client.callTool({ name: "cancel_action", arguments: { confirm_token: other.structuredContent!.confirm_token } })) as Result;
    expect(cancelled.structuredContent).toMatchObject({ status: "cancelled" });
    expect(h.upstream.requests.filter((r) => r.method === "POST").length - before).toBe(1);
    await client.close();
  });
});
