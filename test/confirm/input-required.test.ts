/**
 * Confirmation as an input request (MCP 2026-07-28): a write answers `input_required` with the
 * preview and a sealed requestState; the retry with the person's answer runs it once or cancels it.
 * The SDK v2 client pinned to 2026-07-28 drives the accept and decline flows; raw requests replay,
 * tamper with and borrow a state.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport, type ElicitResult } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createRequestStateSealer } from "../../src/confirm/request-state.js";
import { createRegistry } from "../../src/registry.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { startTasksUpstream, TASK_TOOLS, type TasksUpstream } from "../fixtures/confirm/tasks-api.js";

type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };
const MODERN = "2026-07-28";

let upstream: TasksUpstream;
let gateway: Gateway;
let http: HttpHandle;
const secret = mintToken();
const other = mintToken();
const clients: Client[] = [];
let asked: string[] = [];
let reply: ElicitResult = { action: "accept", content: { confirm: true } };

async function connect(withElicitation: boolean): Promise<Client> {
  const client = new Client(
    { name: "mrtr-test", version: "1.0.0" },
    { capabilities: withElicitation ? { elicitation: { form: {} } } : {}, versionNegotiation: { mode: { pin: MODERN } } },
  );
  if (withElicitation) {
    client.setRequestHandler("elicitation/create", async (req) => {
      asked.push((req.params as { message: string }).message);
      return reply;
    });
  }
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
  expect(client.getProtocolEra()).toBe("modern");
  clients.push(client);
  return client;
}

/** One raw 2026-07-28 tools/call; `extra` adds inputResponses / requestState to its params. */
async function rawCall(token: string, id: number, name: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(http.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${token}`,
      "mcp-protocol-version": MODERN,
      "mcp-method": "tools/call",
      "mcp-name": name,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: {
        name,
        arguments: args,
        ...extra,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN,
          "io.modelcontextprotocol/clientCapabilities": { elicitation: { form: {} } },
          "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
        },
      },
    }),
  });
  return { status: res.status, body: await res.json() };
}

const ACCEPT = { confirm: { action: "accept", content: { confirm: true } } };

beforeAll(async () => {
  upstream = await startTasksUpstream();
  const dataDir = mkdtempSync(join(tmpdir(), "cs-mrtr-"));
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_UPSTREAM_URL: upstream.url, COUNTERSIGN_CONFIRM_ELICITATION: "true", LOG_LEVEL: "silent" } });
  const record = (id: string, hash: string) => ({ id, hash, name: id, modules: "all" as const, readOnly: false, tier: "default", createdAt: new Date().toISOString() });
  const tokens = createMemoryTokenStore([record("tok_m", hashToken(secret)), record("tok_o", hashToken(other))]);
  gateway = await createGateway(config, { registry: createRegistry(TASK_TOOLS), tokens });
  http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await http.close();
  await gateway.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.writes.length = 0;
  asked = [];
});

describe("confirmation as an input request (2026-07-28)", () => {
  it("shows the preview; accept runs the write once", async () => {
    reply = { action: "accept", content: { confirm: true } };
    const client = await connect(true);
    const r = (await client.callTool({ name: "update_task", arguments: { project_id: 42, task_id: 17, title: "Approved title" } })) as Result;
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain("Update a task (project_id=42, task_id=17)");
    expect(asked[0]).toContain('~ title: "Draft launch plan" → "Approved title"');
    expect(asked[0]).not.toContain("cfm_");
    expect(r.structuredContent).toMatchObject({ status: "executed" });
    expect(upstream.writes).toHaveLength(1);
    expect(upstream.tasks.get(17)!.title).toBe("Approved title");
  });

  it("decline cancels the action and sends nothing", async () => {
    reply = { action: "decline" };
    const client = await connect(true);
    const r = (await client.callTool({ name: "delete_task", arguments: { project_id: 42, task_id: 18 } })) as Result;
    expect(asked).toHaveLength(1);
    expect(r.structuredContent).toMatchObject({ status: "cancelled", declined_by: "user" });
    expect((await gateway.deps.pendingActions.get(r.structuredContent!.action_id))?.state).toBe("cancelled");
    expect(upstream.writes).toHaveLength(0);
    expect(upstream.tasks.has(18)).toBe(true);
  });

  it("a client without elicitation keeps the confirm-token flow", async () => {
    const client = await connect(false);
    const r = (await client.callTool({ name: "create_task", arguments: { project_id: 42, title: "Token flow" } })) as Result;
    expect(r.structuredContent).toMatchObject({ status: "pending_confirmation", confirm_token: expect.stringMatching(/^cfm_/) });
    expect(upstream.writes).toHaveLength(0);
  });

  it("the first round is input_required with one elicitation and a sealed state that hides the confirm token", async () => {
    const first = await rawCall(secret, 1, "create_task", { project_id: 42, title: "Sealed" });
    expect(first.status).toBe(200);
    const result = first.body.result;
    expect(result.resultType).toBe("input_required");
    expect(Object.keys(result.inputRequests)).toEqual(["confirm"]);
    expect(result.inputRequests.confirm).toMatchObject({ method: "elicitation/create", params: { mode: "form", message: expect.stringContaining("Create a task") } });
    expect(result.requestState).toEqual(expect.any(String));
    expect(result.requestState).not.toContain("cfm_");
    expect(Buffer.from(result.requestState.split(".")[1], "base64url").toString("latin1")).not.toContain("cfm_");
    expect(upstream.writes).toHaveLength(0);
  });

  it("a replayed acceptance is refused and runs nothing a second time", async () => {
    const first = await rawCall(secret, 2, "create_task", { project_id: 42, title: "Once" });
    const state = first.body.result.requestState as string;
    const accepted = await rawCall(secret, 3, "create_task", { project_id: 42, title: "Once" }, { inputResponses: ACCEPT, requestState: state });
    expect(accepted.body.result.structuredContent).toMatchObject({ status: "executed" });
    expect(upstream.writes).toHaveLength(1);
    const replayed = await rawCall(secret, 4, "create_task", { project_id: 42, title: "Once" }, { inputResponses: ACCEPT, requestState: state });
    expect(replayed.body).toMatchObject({ id: 4, error: { code: -32602, message: expect.stringMatching(/already answered/), data: { code: "confirmation_invalid" } } });
    expect(upstream.writes).toHaveLength(1);
  });

  it("a tampered state is refused with -32602 and the action stays pending", async () => {
    const first = await rawCall(secret, 5, "create_task", { project_id: 42, title: "Tamper" });
    const state = first.body.result.requestState as string;
    const flipped = state.slice(0, -2) + (state.at(-2) === "A" ? "B" : "A") + state.at(-1);
    for (const bad of [`${state}-TAMPERED`, flipped, "rs1.", "not-a-state"]) {
      const res = await rawCall(secret, 6, "create_task", { project_id: 42, title: "Tamper" }, { inputResponses: ACCEPT, requestState: bad });
      expect(res.body.error, bad).toMatchObject({ code: -32602 });
      expect(res.body.id).toBe(6);
    }
    expect(upstream.writes).toHaveLength(0);
  });

  it("another token, or another tool, cannot use the state", async () => {
    const first = await rawCall(secret, 7, "create_task", { project_id: 42, title: "Mine" });
    const state = first.body.result.requestState as string;
    const borrowed = await rawCall(other, 8, "create_task", { project_id: 42, title: "Mine" }, { inputResponses: ACCEPT, requestState: state });
    expect(borrowed.body.error).toMatchObject({ code: -32602, data: { code: "confirmation_invalid" } });
    const moved = await rawCall(secret, 9, "delete_task", { project_id: 42, task_id: 17 }, { inputResponses: ACCEPT, requestState: state });
    expect(moved.body.error).toMatchObject({ code: -32602 });
    expect(upstream.writes).toHaveLength(0);
  });

  it("an expired state is refused", () => {
    const sealer = createRequestStateSealer(Buffer.alloc(32, 7));
    const binding = { tokenId: "tok_m", tool: "create_task" };
    const sealed = sealer.seal({ actionId: "act_1", confirmToken: "cfm_x", expiresAt: 1_000 }, binding);
    expect(sealer.open(sealed, binding, 999)).toEqual({ actionId: "act_1", confirmToken: "cfm_x", expiresAt: 1_000 });
    expect(() => sealer.open(sealed, binding, 1_001)).toThrow(/expired/);
    // Another replica with the same secret key opens it; one with another key does not.
    expect(createRequestStateSealer(Buffer.alloc(32, 7)).open(sealed, binding, 0).actionId).toBe("act_1");
    expect(() => createRequestStateSealer(Buffer.alloc(32, 8)).open(sealed, binding, 0)).toThrow(/altered/);
  });

  it("a retry without an answer asks again about the same action", async () => {
    const first = await rawCall(secret, 10, "create_task", { project_id: 42, title: "Again" });
    const state = first.body.result.requestState as string;
    const again = await rawCall(secret, 11, "create_task", { project_id: 42, title: "Again" }, { inputResponses: {}, requestState: state });
    expect(again.body.result).toMatchObject({ resultType: "input_required", requestState: state, inputRequests: { confirm: { method: "elicitation/create" } } });
    expect(upstream.writes).toHaveLength(0);
  });
});
