/**
 * The fast lane of a 2025 session (src/mcp/plain-lane.ts): a plain tools/call answered without the
 * SDK's protocol layer must be answered exactly as through it. Each call is sent both ways to one
 * server: raw through an in-memory transport (the SDK's path) and to the lane.
 */
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMcpServer, laneOf } from "../../src/mcp/server.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";

type Message = Record<string, unknown> & { id?: number | string };

/** One session: the server, its lane, and a raw client speaking JSON-RPC on the other end. */
async function open(h: AppHarness, credential: string, capabilities: Record<string, unknown> = {}) {
  const principal = await h.gateway.admit({ transport: "stdio", credential, request: "test start-up" });
  const binding = { transport: "stdio" as const, credential, principal, params: {}, enabledModules: new Set<string>() };
  const server = createMcpServer(h.gateway, binding);
  const [ours, theirs] = InMemoryTransport.createLinkedPair();
  const waiting = new Map<unknown, (m: Message) => void>();
  theirs.onmessage = (m) => waiting.get((m as Message).id)?.(m as Message);
  await server.connect(ours as never);
  await theirs.start();
  let next = 1000;
  /** Through the SDK's protocol layer. */
  const viaSdk = (message: Message): Promise<Message> =>
    new Promise((resolve) => {
      waiting.set(message.id, resolve);
      void theirs.send(message as never);
    });
  await viaSdk({ jsonrpc: "2.0", id: next++, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities, clientInfo: { name: "lane-test", version: "1" } } });
  await theirs.send({ jsonrpc: "2.0", method: "notifications/initialized" } as never);
  const lane = laneOf(server)!;
  /** Through the lane; undefined when it declines the message. */
  const viaLane = (message: Message, signal?: AbortSignal): Promise<Message> | undefined => {
    let reply!: (m: Message) => void;
    const answered = new Promise<Message>((resolve) => (reply = resolve));
    return lane.take(message as unknown as JSONRPCMessage, (m) => reply(m as unknown as Message), signal) ? answered : undefined;
  };
  return { server, binding, lane, viaSdk, viaLane, close: () => theirs.close() };
}

const call = (id: number, name: string, args?: unknown, extra: Record<string, unknown> = {}): Message => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, ...(args !== undefined ? { arguments: args } : {}), ...extra },
});

/** Action ids, tokens and times differ between two pending writes; everything else must not. */
function masked(m: Message): unknown {
  return JSON.parse(JSON.stringify(m).replace(/(act|cfm)_[A-Za-z0-9_-]+/g, "$1_X").replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "T"));
}

describe("the fast lane of a 2025 session", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({ env: { COUNTERSIGN_CONFIRM_ELICITATION: "true" } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.upstream.reset());

  it("answers reads, upstream errors, refusals of bad arguments and binary results exactly as the SDK does, running each once", async () => {
    const s = await open(h, h.token);
    const cases: [string, unknown][] = [
      ["get_item", { item_id: "42" }],
      ["get_status", { code: 404 }],
      ["get_status", { code: 503 }],
      ["get_item", {}],
      ["get_item", { item_id: "1", extra: true }],
      ["get_image", undefined],
      ["get_text", {}],
      ["get_weird", {}],
    ];
    let id = 1;
    for (const [name, args] of cases) {
      const before = h.upstream.requests.length;
      const lane = await s.viaLane(call(id, name, args));
      const sdk = await s.viaSdk(call(id, name, args));
      id++;
      expect(lane, name).toBeDefined();
      expect(lane, `${name} ${JSON.stringify(args)}`).toEqual(sdk);
      const ran = h.upstream.requests.length - before;
      expect(ran === 0 || ran === 2, `${name}: each way runs the call once`).toBe(true);
    }
    await s.close();
  });

  it("answers a write as the SDK does for a client that can be asked nothing: pending, nothing sent upstream", async () => {
    const s = await open(h, h.token);
    const lane = await s.viaLane(call(1, "create_item", { project_id: 7, name: "x" }));
    const sdk = await s.viaSdk(call(1, "create_item", { project_id: 7, name: "x" }));
    expect(masked(lane!)).toEqual(masked(sdk));
    expect(JSON.stringify(lane)).toContain("pending_confirmation");
    expect(h.upstream.requests).toHaveLength(0);
    await s.close();
  });

  it("admits each call: a revoked token is refused on the lane as through the SDK", async () => {
    const secret = await h.mint({ id: "tok_lane_revoked" });
    const s = await open(h, secret);
    await h.gateway.deps.tokens.revoke("tok_lane_revoked", new Date());
    const lane = await s.viaLane(call(1, "get_item", { item_id: "1" }));
    const sdk = await s.viaSdk(call(1, "get_item", { item_id: "1" }));
    expect(lane).toEqual(sdk);
    expect(JSON.stringify(lane)).toMatch(/revoked/);
    expect(h.upstream.requests).toHaveLength(0);
    await s.close();
  });

  it("leaves to the SDK what is not plain", async () => {
    const s = await open(h, h.token);
    expect(s.viaLane(call(1, "no_such_tool", {}))).toBeUndefined();
    expect(s.viaLane(call(2, "list_modules", {}))).toBeUndefined(); // a meta tool
    expect(s.viaLane(call(3, "get_item", { item_id: "1" }, { _meta: { progressToken: "p" } }))).toBeUndefined();
    expect(s.viaLane(call(4, "get_item", "not an object"))).toBeUndefined();
    expect(s.viaLane({ jsonrpc: "2.0", id: 5, method: "tools/list", params: {} })).toBeUndefined();
    expect(s.viaLane({ ...call(6, "get_item", { item_id: "1" }), extra: 1 })).toBeUndefined();
    (s.binding as { logLevel?: string }).logLevel = "info"; // the client asked for log messages
    expect(s.viaLane(call(7, "get_item", { item_id: "1" }))).toBeUndefined();
    await s.close();
    // A client that can be asked (confirm.elicitation is on here): writes go to the SDK, which asks; reads stay on the lane.
    const asking = await open(h, h.token, { elicitation: {} });
    expect(asking.viaLane(call(1, "create_item", { project_id: 7, name: "x" }))).toBeUndefined();
    expect(await asking.viaLane(call(2, "get_item", { item_id: "1" }))).toMatchObject({ id: 2, result: { structuredContent: { id: "1" } } });
    await asking.close();
  });

  it("a cancelled call aborts its upstream request and is never answered; a second call with a running id is left to the SDK", async () => {
    const s = await open(h, h.token);
    let answered = false;
    const pending = s.viaLane(call(1, "get_slow", { ms: 5000 }));
    void pending!.then(() => (answered = true));
    expect(s.viaLane(call(1, "get_item", { item_id: "1" }))).toBeUndefined();
    await expect.poll(() => h.upstream.requests.length).toBe(1);
    expect(s.lane.take({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, reason: "changed my mind" } } as JSONRPCMessage, () => undefined)).toBe(true);
    await expect.poll(() => h.upstream.aborted.length).toBe(1);
    // A cancellation of an id the lane does not run is the SDK's.
    expect(s.lane.take({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 99 } } as JSONRPCMessage, () => undefined)).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    // The transport's own signal (a client that went away) cancels the same way.
    const gone = new AbortController();
    void s.viaLane(call(2, "get_slow", { ms: 5000 }), gone.signal);
    await expect.poll(() => h.upstream.requests.length).toBe(2);
    gone.abort(new Error("the client disconnected"));
    await expect.poll(() => h.upstream.aborted.length).toBe(2);
    await s.close();
  });
});
