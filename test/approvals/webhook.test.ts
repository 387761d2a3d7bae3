/**
 * The approval webhook against a local receiver: a signed JSON delivery retried through two 503s,
 * a Slack-format delivery that never succeeds and shows as failed in the console API, and nothing
 * sent for writes that need no person.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { agentTokens, consoleApi, startApprovalsGateway, startCountingUpstream, until, type ApprovalsGateway, type CountingUpstream, type Result, type Task } from "./harness.js";

const SECRET = "whsec_test_5f1c2a";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver answering each POST with the next status of `statuses` (then 200). */
async function receiver(statuses: number[]): Promise<{ url: string; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, close: () => new Promise((r) => server.close(() => r())) };
}

function validSignature(r: Received): boolean {
  const expected = Buffer.from(`sha256=${createHmac("sha256", SECRET).update(`${String(r.headers["x-countersign-timestamp"])}.${r.body}`).digest("hex")}`);
  const given = Buffer.from(String(r.headers["x-countersign-signature"] ?? ""));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

let up: CountingUpstream;
let flaky: Awaited<ReturnType<typeof receiver>>;
let down: Awaited<ReturnType<typeof receiver>>;
let json: ApprovalsGateway;
let slack: ApprovalsGateway;
let agentJson: Client;
let agentSlack: Client;
let admin: string;
const { tokens, secrets } = agentTokens("agent");

async function task(skip: number): Promise<Task> {
  return (await up.api<{ data: Task[] }>("GET", "/tasks?limit=30")).body.data[skip]!;
}

beforeAll(async () => {
  up = await startCountingUpstream();
  flaky = await receiver([503, 503]);
  down = await receiver(Array(10).fill(500));
  json = await startApprovalsGateway({
    upstream: up,
    tokens,
    env: { COUNTERSIGN_APPROVALS_WEBHOOK_URL: flaky.url, COUNTERSIGN_APPROVALS_WEBHOOK_SECRET: SECRET, COUNTERSIGN_APPROVALS_WEBHOOK_BACKOFF_MS: "20", COUNTERSIGN_APPROVALS_CONSOLE_URL: "https://gateway.example.com/console/" },
  });
  slack = await startApprovalsGateway({
    upstream: up,
    tokens,
    env: { COUNTERSIGN_APPROVALS_WEBHOOK_URL: down.url, COUNTERSIGN_APPROVALS_WEBHOOK_FORMAT: "slack", COUNTERSIGN_APPROVALS_WEBHOOK_ATTEMPTS: "3", COUNTERSIGN_APPROVALS_WEBHOOK_BACKOFF_MS: "10" },
  });
  admin = (await slack.admins.create("ops")).credential;
  agentJson = await json.agent(secrets.agent!);
  agentSlack = await slack.agent(secrets.agent!);
}, 60_000);

afterAll(async () => {
  await json?.close();
  await slack?.close();
  await flaky?.close();
  await down?.close();
  await up?.close();
});

describe("approval webhook", () => {
  it("delivers a signed JSON announcement with a console link, retrying through two 503s", async () => {
    const t = await task(0);
    const p = (await agentJson.callTool({ name: "delete_task", arguments: { task_id: t.id } })) as Result;
    const id = p.structuredContent!.action_id as string;
    await until(() => flaky.got.length >= 3, 10_000, "three attempts");
    const final = flaky.got[2]!;
    expect(validSignature(final)).toBe(true);
    expect(flaky.got.every(validSignature)).toBe(true);
    expect(final.headers["x-countersign-event"]).toBe("approval_requested");
    const body = JSON.parse(final.body);
    expect(body).toMatchObject({
      event: "approval_requested",
      action_id: id,
      tool: "delete_task",
      method: "DELETE",
      approval: "person",
      requested_by: "agent",
      console_url: `https://gateway.example.com/console/#/approvals?id=${id}`,
      warnings: [expect.stringContaining("Destructive")],
    });
    expect(body.summary).toContain(t.id);
    // A tampered body does not verify.
    expect(validSignature({ ...final, body: final.body.replace("delete_task", "create_task") })).toBe(false);
    await until(async () => (await json.gateway.deps.approvals.store.get(id))?.delivery?.ok === true, 5000, "the delivery record");
    expect((await json.gateway.deps.approvals.store.get(id))?.delivery).toMatchObject({ ok: true, attempts: 3, status: 200 });
    expect(flaky.got).toHaveLength(3);
  });

  it("a write that needs no person is not announced; a both-action is announced when the agent confirms", async () => {
    const before = flaky.got.length;
    const t = await task(1);
    const created = (await agentJson.callTool({ name: "create_task", arguments: { project_id: t.project_id, title: "no person needed" } })) as Result;
    expect(created.structuredContent).toMatchObject({ status: "pending_confirmation" });
    expect(created.structuredContent!.approval).toBeUndefined();
    const both = (await agentJson.callTool({ name: "update_task", arguments: { task_id: t.id, body: { title: "needs both" } } })) as Result;
    expect(flaky.got.length).toBe(before);
    await agentJson.callTool({ name: "confirm_action", arguments: { confirm_token: both.structuredContent!.confirm_token } });
    await until(() => flaky.got.length === before + 1, 5000, "the announcement of the confirmed both-action");
    expect(JSON.parse(flaky.got.at(-1)!.body)).toMatchObject({ action_id: both.structuredContent!.action_id, approval: "both" });
  });

  it("a delivery that keeps failing is given up after its attempts and shows as failed in the console API (Slack format, unsigned)", async () => {
    const t = await task(2);
    const p = (await agentSlack.callTool({ name: "delete_task", arguments: { task_id: t.id } })) as Result;
    const id = p.structuredContent!.action_id as string;
    await until(async () => (await slack.gateway.deps.approvals.store.get(id))?.delivery !== undefined, 10_000, "the failed delivery record");
    expect(down.got).toHaveLength(3);
    expect(down.got[0]!.headers["x-countersign-signature"]).toBeUndefined();
    const message = JSON.parse(down.got[0]!.body);
    expect(message.text).toMatch(/^Approval needed: Delete a task/);
    expect(JSON.stringify(message.blocks)).toContain(`/console/#/approvals?id=${id}|Open in the console>`);
    const inbox = await consoleApi(slack.base, admin, "GET", "/approvals");
    expect(inbox.body.approvals.find((a: any) => a.actionId === id).delivery).toMatchObject({ ok: false, attempts: 3, status: 500, error: "HTTP 500" });
  });
});
