/**
 * With confirm elicitation on, a client's user is asked about writes the agent may confirm, but
 * never about one that needs a console admin: accepting there would decide nothing.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { agentTokens, startApprovalsGateway, startCountingUpstream, type ApprovalsGateway, type CountingUpstream, type Result, type Task } from "./harness.js";

let up: CountingUpstream;
let g: ApprovalsGateway;
let client: Client;
const asked: string[] = [];
const { tokens, secrets } = agentTokens("eve");

beforeAll(async () => {
  up = await startCountingUpstream();
  g = await startApprovalsGateway({ upstream: up, tokens, env: { COUNTERSIGN_CONFIRM_ELICITATION: "true" } });
  client = new Client({ name: "eliciting", version: "1" }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params.message);
    return { action: "accept", content: { confirm: true } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${g.base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${secrets.eve!}` } } }));
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await g?.close();
  await up?.close();
});

it("asks the user about an agent-approved write, not about one that needs a person", async () => {
  const t = (await up.api<{ data: Task[] }>("GET", "/tasks?limit=5")).body.data[0]!;
  const created = (await client.callTool({ name: "create_task", arguments: { project_id: t.project_id, title: "asked by elicitation" } })) as Result;
  expect(created.structuredContent).toMatchObject({ status: "executed" });
  expect(asked).toHaveLength(1);
  const before = up.writes.length;
  const deleted = (await client.callTool({ name: "delete_task", arguments: { task_id: t.id } })) as Result;
  expect(deleted.structuredContent).toMatchObject({ status: "pending_confirmation", approval: "person" });
  expect(asked).toHaveLength(1);
  expect(up.writes.length).toBe(before);
});
