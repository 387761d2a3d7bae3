/**
 * The stdio transport's reading of stdin (src/transports/stdio.ts): lines split anywhere, CRLF,
 * lines that are not JSON skipped, messages that are not JSON-RPC refused without ending the
 * session, plain calls and the rest alike answered, and an oversized message closing it.
 */
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStdio } from "../../src/transports/stdio.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";

type Message = { jsonrpc: "2.0"; id?: number | string; result?: any; error?: any; method?: string };

/** One stdio session on in-memory pipes: what was written to it raw, and the answers by id. */
async function open(h: AppHarness) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const principal = await h.gateway.admit({ transport: "stdio", credential: h.token, request: "test start-up" });
  const handle = await startStdio(h.gateway, { credential: h.token, principal }, { stdin, stdout });
  const answers = new Map<unknown, Message>();
  let pending = "";
  stdout.setEncoding("utf8");
  stdout.on("data", (c: string) => {
    pending += c;
    for (let nl = pending.indexOf("\n"); nl !== -1; nl = pending.indexOf("\n")) {
      const m = JSON.parse(pending.slice(0, nl)) as Message;
      pending = pending.slice(nl + 1);
      if (m.id !== undefined) answers.set(m.id, m);
    }
  });
  const answer = async (id: number | string) => {
    await expect.poll(() => answers.has(id)).toBe(true);
    return answers.get(id)!;
  };
  return { stdin, handle, answers, answer };
}

const line = (m: unknown) => `${JSON.stringify(m)}\n`;
const initialize = (id: number) => ({ jsonrpc: "2.0", id, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "stdio-test", version: "1" } } });
const call = (id: number | string, name: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args, ...extra } });

describe("the stdio transport's reader", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(() => h.close());

  it("reads messages split anywhere and with CRLF, skips lines that are not JSON, and answers plain and other calls alike", async () => {
    const s = await open(h);
    const text = [line(initialize(1)), line({ jsonrpc: "2.0", method: "notifications/initialized" }), "not json at all\n", line(call(2, "get_item", { item_id: "7" })).replace("\n", "\r\n"), line(call("three", "get_item", { item_id: "8" }, { _meta: { progressToken: "p" } }))].join("");
    // Cut into 5-byte pieces, so lines and a CRLF fall across chunks.
    for (let i = 0; i < text.length; i += 5) s.stdin.write(text.slice(i, i + 5));
    expect((await s.answer(1)).result.protocolVersion).toBe("2025-11-25");
    const plain = await s.answer(2);
    const withMeta = await s.answer("three");
    expect(plain.result.isError).toBeFalsy();
    expect(JSON.stringify(plain.result.content)).toContain("7");
    expect(withMeta.result.isError).toBeFalsy();
    expect(JSON.stringify(withMeta.result.content)).toContain("8");
    await s.handle.close();
  });

  it("a message that is not JSON-RPC is refused and the session goes on", async () => {
    const s = await open(h);
    s.stdin.write(line(initialize(1)));
    await s.answer(1);
    s.stdin.write(line({ jsonrpc: "1.0", id: 2, method: "tools/call" }));
    s.stdin.write(line([call(3, "get_item", { item_id: "1" })]));
    s.stdin.write(line(call(4, "get_item", { item_id: "9" })));
    expect((await s.answer(4)).result.isError).toBeFalsy();
    expect(s.answers.has(2)).toBe(false);
    expect(s.answers.has(3)).toBe(false);
    await s.handle.close();
  });

  it("a message over 10 MB closes the session, and nothing of it runs", async () => {
    const s = await open(h);
    s.stdin.write(line(initialize(1)));
    await s.answer(1);
    const before = h.upstream.requests.length;
    s.stdin.write(JSON.stringify(call(2, "get_item", { item_id: "x".repeat(11 * 1024 * 1024) })).slice(0, -1));
    s.stdin.write("}\n");
    await expect.poll(() => s.stdin.listenerCount("data")).toBe(0);
    s.stdin.write(line(call(3, "get_item", { item_id: "1" })));
    await new Promise((r) => setTimeout(r, 100));
    expect(s.answers.has(2)).toBe(false);
    expect(s.answers.has(3)).toBe(false);
    expect(h.upstream.requests.length).toBe(before);
  });
});
