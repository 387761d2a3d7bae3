/**
 * Confirmation by elicitation: with `confirm.elicitation` on, a client that declared form
 * elicitation is asked right away over its stateful Streamable HTTP session.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema, type ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/app.js";
import { resolveConfig } from "../../src/config.js";
import { createRegistry } from "../../src/registry.js";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { startTasksUpstream, TASK_TOOLS, type TasksUpstream } from "../fixtures/confirm/tasks-api.js";

type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

let upstream: TasksUpstream;
let gateway: Gateway;
let http: HttpHandle;
const secret = mintToken();
const clients: Client[] = [];
let asked: string[] = [];
let reply: ElicitResult = { action: "accept", content: { confirm: true } };

async function connect(withElicitation: boolean): Promise<Client> {
  const client = new Client({ name: "elicit-test", version: "1.0.0" }, { capabilities: withElicitation ? { elicitation: { form: {} } } : {} });
  if (withElicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return reply;
    });
  }
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
  clients.push(client);
  return client;
}

beforeAll(async () => {
  upstream = await startTasksUpstream();
  const dataDir = mkdtempSync(join(tmpdir(), "cs-elicit-"));
  const config = resolveConfig({ env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_UPSTREAM_URL: upstream.url, COUNTERSIGN_CONFIRM_ELICITATION: "true", LOG_LEVEL: "silent" } });
  const tokens = createMemoryTokenStore([{ id: "tok_e", hash: hashToken(secret), name: "eve", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() }]);
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

describe("confirmation by elicitation", () => {
  it("asks the person with the preview; accept runs the write", async () => {
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

  it("a dismissed question leaves the action pending with its confirm token", async () => {
    reply = { action: "cancel" };
    const client = await connect(true);
    const r = (await client.callTool({ name: "create_task", arguments: { project_id: 42, title: "Later" } })) as Result;
    expect(r.structuredContent).toMatchObject({ status: "pending_confirmation", confirm_token: expect.stringMatching(/^cfm_/) });
    expect(r.content[0]!.text).toContain("dismissed");
    expect(upstream.writes).toHaveLength(0);
  });

  it("a client without elicitation gets the confirm-token flow", async () => {
    const client = await connect(false);
    const r = (await client.callTool({ name: "create_task", arguments: { project_id: 42, title: "Token flow" } })) as Result;
    expect(asked).toHaveLength(0);
    expect(r.structuredContent).toMatchObject({ status: "pending_confirmation" });
    expect(upstream.writes).toHaveLength(0);
  });
});
