/**
 * SEP-2243 custom headers: a tool argument declared with `x-mcp-header` is mirrored by 2026-07-28
 * clients into an `Mcp-Param-*` header, and a tools/call whose header is missing, malformed or
 * disagrees with the argument is refused (400, -32020) before anything runs, on the direct path and
 * through the SDK's handler alike.
 */
import { request as httpRequest } from "node:http";
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ToolDescriptor } from "../../../codegen/descriptor.js";
import { startHttpServer, type HttpHandle } from "../../../src/transports/http/index.js";
import { checkParamHeaders, decodeParamHeader, mirroredArguments } from "../../../src/transports/http/param-headers.js";
import { startAppHarness, type AppHarness } from "../../app-harness.js";
import { fixtureTools } from "../../fixtures/tools/index.js";

const MODERN = "2026-07-28";
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "param-headers-test", version: "1" },
};
/** A `_meta` key the direct path leaves to the SDK's handler. */
const VIA_SDK = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };

/** The fixture tools, with get_item's `item_id` mirrored as Mcp-Param-Item and get_status's `code` as Mcp-Param-Code. */
function mirroredTools(): ToolDescriptor[] {
  const mark = (t: ToolDescriptor, arg: string, header: string): ToolDescriptor => {
    const schema = t.inputSchema as { properties: Record<string, object> };
    return { ...t, inputSchema: { ...schema, properties: { ...schema.properties, [arg]: { ...schema.properties[arg], "x-mcp-header": header } } } };
  };
  return fixtureTools().map((t) => (t.name === "get_item" ? mark(t, "item_id", "Item") : t.name === "get_status" ? mark(t, "code", "Code") : t));
}

interface Answer {
  status: number;
  body: { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: Record<string, unknown> } };
}

function post(url: string, headers: Record<string, string>, body: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) as Answer["body"] }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

function callHeaders(token: string, name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    authorization: `Bearer ${token}`,
    "mcp-protocol-version": MODERN,
    "mcp-method": "tools/call",
    "mcp-name": name,
    ...extra,
  };
}

function callBody(id: number, name: string, args: Record<string, unknown>, meta: Record<string, unknown> = ENVELOPE) {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args, _meta: meta } };
}

describe("Mcp-Param-* header values", () => {
  it("decodes the =?base64?…?= wrapper and takes anything else literally", () => {
    expect(decodeParamHeader("=?base64?SGVsbG8=?=")).toBe("Hello");
    expect(decodeParamHeader("=?base64?WsO8cmljaA==?=")).toBe("Zürich");
    expect(decodeParamHeader("SGVsbG8=")).toBe("SGVsbG8=");
    expect(decodeParamHeader("=?base64?SGVsbG8=")).toBe("=?base64?SGVsbG8=");
    expect(decodeParamHeader("=?base64?SGVsbG8?=")).toBeUndefined(); // no padding
    expect(decodeParamHeader("=?base64?SGVs!!!bG8=?=")).toBeUndefined(); // not the alphabet
    expect(decodeParamHeader("=?base64?/w==?=")).toBeUndefined(); // not UTF-8
  });

  it("finds mirrored arguments through properties only, and checks each against the body", () => {
    const schema = {
      type: "object",
      properties: { region: { type: "string", "x-mcp-header": "Region" }, n: { type: "integer", "x-mcp-header": "N" }, deep: { type: "object", properties: { on: { type: "boolean", "x-mcp-header": "On" } } } },
      anyOf: [{ properties: { region: { "x-mcp-header": "Ignored" } } }],
    };
    const mirrored = mirroredArguments(schema);
    expect(mirrored.map((m) => [m.path.join("."), m.header])).toEqual([["region", "Region"], ["n", "N"], ["deep.on", "On"]]);
    expect(() => checkParamHeaders(mirrored, { region: "eu", n: 42, deep: { on: true } }, { "mcp-param-region": "eu", "mcp-param-n": "42.0", "mcp-param-on": "true" })).not.toThrow();
    // Absent and null arguments need no header; a header for them is ignored.
    expect(() => checkParamHeaders(mirrored, { n: null }, { "mcp-param-region": "anything" })).not.toThrow();
    expect(() => checkParamHeaders(mirrored, { n: 42 }, { "mcp-param-n": "43" })).toThrow(/Mcp-Param-N header says "43" but argument 'n' is 42/);
    expect(() => checkParamHeaders(mirrored, { deep: { on: false } }, { "mcp-param-on": "true" })).toThrow(/argument 'deep.on' is false/);
    expect(() => checkParamHeaders(mirrored, { region: "eu" }, {})).toThrow(/argument 'region' is "eu" but the Mcp-Param-Region header is missing/);
  });
});

describe("2026-07-28 tools/call with mirrored arguments", () => {
  let h: AppHarness;
  let server: HttpHandle;

  beforeAll(async () => {
    h = await startAppHarness({ tools: mirroredTools() });
    server = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });
  beforeEach(() => h.upstream.reset());

  it("lists the declaration, and the SDK v2 client's own mirrored headers are accepted (Base64 for non-ASCII values)", async () => {
    const client = new ClientV2({ name: "param-headers-test", version: "1.0.0" }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(new TransportV2(new URL(server.url), { requestInit: { headers: { Authorization: `Bearer ${h.token}` } } }));
    const { tools } = await client.listTools();
    const item = tools.find((t) => t.name === "get_item")!;
    expect((item.inputSchema.properties as Record<string, Record<string, unknown>>).item_id).toMatchObject({ type: "string", "x-mcp-header": "Item" });
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "42" } })).structuredContent).toEqual({ id: "42", name: "Widget" });
    const zurich = await client.callTool({ name: "get_item", arguments: { item_id: "Zürich" } });
    expect(zurich.isError, JSON.stringify(zurich)).toBeFalsy();
    const status = await client.callTool({ name: "get_status", arguments: { code: 200 } });
    expect(status.isError, JSON.stringify(status)).toBeFalsy();
    expect(h.upstream.requests).toHaveLength(3);
    await client.close();
  });

  for (const [path, meta] of [["the direct path", ENVELOPE], ["the SDK's handler", { ...ENVELOPE, ...VIA_SDK }]] as const) {
    it(`refuses a missing, disagreeing or malformed header with 400/-32020 naming it, and runs nothing (${path})`, async () => {
      const cases: [Record<string, string>, RegExp][] = [
        [{}, /argument 'item_id' is "42" but the Mcp-Param-Item header is missing/],
        [{ "mcp-param-item": "43" }, /the Mcp-Param-Item header says "43" but argument 'item_id' is "42"/],
        [{ "mcp-param-item": "=?base64?NDI?=" }, /Mcp-Param-Item header's =\?base64\?…\?= value is not canonical Base64/],
      ];
      for (const [extra, message] of cases) {
        const answer = await post(server.url, callHeaders(h.token, "get_item", extra), callBody(7, "get_item", { item_id: "42" }, meta));
        expect(answer.status, JSON.stringify(answer.body)).toBe(400);
        expect(answer.body.id).toBe(7);
        expect(answer.body.error).toMatchObject({ code: -32020, data: { code: "header_mismatch", header: "Mcp-Param-Item", argument: "item_id" } });
        expect(answer.body.error!.message).toMatch(message);
      }
      expect(h.upstream.requests).toHaveLength(0);
      // The same call with its header agreeing (plain, or Base64-wrapped) runs.
      for (const value of ["42", "=?base64?NDI=?="]) {
        const ok = await post(server.url, callHeaders(h.token, "get_item", { "mcp-param-item": value }), callBody(8, "get_item", { item_id: "42" }, meta));
        expect(ok.status).toBe(200);
        expect(ok.body.result).toMatchObject({ structuredContent: { id: "42" } });
      }
      expect(h.upstream.requests).toHaveLength(2);
    });
  }

  it("compares integers as numbers", async () => {
    const ok = await post(server.url, callHeaders(h.token, "get_status", { "mcp-param-code": "200.0" }), callBody(1, "get_status", { code: 200 }));
    expect(ok.status).toBe(200);
    const bad = await post(server.url, callHeaders(h.token, "get_status", { "mcp-param-code": "201" }), callBody(2, "get_status", { code: 200 }));
    expect(bad.body.error).toMatchObject({ code: -32020 });
    expect(h.upstream.requests).toHaveLength(1);
  });

  it("a wrong or missing identity is refused 401 before the headers are compared", async () => {
    for (const token of ["csk_not_a_token", ""]) {
      const headers = callHeaders(token, "get_item", { "mcp-param-item": "43" });
      if (!token) delete headers.authorization;
      const answer = await post(server.url, headers, callBody(3, "get_item", { item_id: "42" }));
      expect(answer.status).toBe(401);
      expect(answer.body.error).toMatchObject({ code: -32001 });
    }
    expect(h.upstream.requests).toHaveLength(0);
  });

  it("a replayed request's headers do not carry over to another argument value", async () => {
    const headers = callHeaders(h.token, "get_item", { "mcp-param-item": "42" });
    expect((await post(server.url, headers, callBody(4, "get_item", { item_id: "42" }))).status).toBe(200);
    const replay = await post(server.url, headers, callBody(5, "get_item", { item_id: "99" }));
    expect(replay.status).toBe(400);
    expect(replay.body.error).toMatchObject({ code: -32020 });
    expect(h.upstream.requests.map((r) => r.url)).toEqual(["/v1/items/42"]);
  });

  it("a 2025-11-25 session sends no such headers and is not asked for them", async () => {
    const client = new ClientV1({ name: "param-headers-test", version: "1.0.0" });
    await client.connect(new TransportV1(new URL(server.url), { requestInit: { headers: { Authorization: `Bearer ${h.token}` } } }));
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "42" } })).structuredContent).toEqual({ id: "42", name: "Widget" });
    await client.close();
  });
});
