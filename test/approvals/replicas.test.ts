/**
 * Approvals on the distributed mode: two real gateway processes on one real Redis, an admin
 * signed in on each. The agent previews on A; both admins approve the same action at once, one on
 * each replica: the counting upstream sees exactly one write, one admin is told it ran, the other
 * who ran it; the agent's session on A is told of each decision, whichever replica took it.
 * (Needs `make build`: the replicas run the built CLI.)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminFileStore } from "../../src/console/admins.js";
import { dropPrefix, sharedRedis, uniquePrefix } from "../redis/redis-server.js";
import { replicaEnv, startCountingUpstream, tokensCli, writeGeneratedApi, type CountingUpstream } from "../redis/replicas-harness.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { consoleApi, until } from "./harness.js";

const CLI = join(import.meta.dirname, "..", "..", "bin", "countersign.js");
let redis: { url: string; close(): Promise<void> };
let upstream: CountingUpstream;
const prefix = uniquePrefix();
const children: ChildProcess[] = [];
let a: string;
let b: string;
let alice: string;
let bob: string;

async function replica(dataDir: string, generated: string, configFile: string): Promise<string> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--generated", generated, "--upstream", upstream.url, "--config", configFile], {
    env: replicaEnv(redis.url, prefix, { COUNTERSIGN_DATA_DIR: dataDir }),
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let err = "";
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start in 30 s:\n${err}`)), 30_000);
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /countersign: listening on (\S+)\/mcp/.exec(err);
      if (m) (clearTimeout(timer), resolve(m[1]!));
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`replica exited with ${code}:\n${err}`))));
  });
}

beforeAll(async () => {
  redis = await sharedRedis();
  upstream = await startCountingUpstream();
  const generated = writeGeneratedApi();
  const configDir = mkdtempSync(join(tmpdir(), "cs-approvals-config-"));
  const configFile = join(configDir, "countersign.json");
  writeFileSync(configFile, JSON.stringify({ approvals: { rules: [{ tool: "update_item", approval: "person" }] } }));
  const dirA = mkdtempSync(join(tmpdir(), "cs-approvals-a-"));
  const dirB = mkdtempSync(join(tmpdir(), "cs-approvals-b-"));
  alice = (await createAdminFileStore({ dir: dirA }).create("alice")).credential;
  bob = (await createAdminFileStore({ dir: dirB }).create("bob")).credential;
  [a, b] = await Promise.all([replica(dirA, generated, configFile), replica(dirB, generated, configFile)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null) return resolve(undefined);
          c.once("exit", resolve);
          c.kill("SIGTERM");
        }),
    ),
  );
  await upstream?.close();
  await dropPrefix(redis.url, prefix);
  await redis?.close();
});

describe("approvals across replicas", () => {
  it("two admins approving the same action at once, on two replicas, make one upstream write", async () => {
    const minted = await tokensCli(redis.url, prefix, ["create", "--name", "replica agent"]);
    const client = new Client({ name: "on-a", version: "1" });
    const notices: { action_id?: string; status?: string }[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void notices.push(n.params.data as { action_id?: string }));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${a}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${String(minted.token)}` } } }));
    for (let round = 0; round < 5; round++) {
      const p = (await client.callTool({ name: "update_item", arguments: { item_id: `r${round}`, name: `renamed ${round}` } })) as { structuredContent: Record<string, any> };
      expect(p.structuredContent).toMatchObject({ status: "pending_confirmation", approval: "person" });
      const id = p.structuredContent.action_id as string;
      // The agent's confirm on A starts the session's watch for the decision, wherever it is taken.
      expect(((await client.callTool({ name: "confirm_action", arguments: { confirm_token: p.structuredContent.confirm_token } })) as { structuredContent: Record<string, any> }).structuredContent.status).toBe("awaiting_approval");
      // The inbox on B shows what was asked on A.
      expect((await consoleApi(b, bob, "GET", "/approvals")).body.approvals.map((x: any) => x.actionId)).toContain(id);
      const before = upstream.counts.PATCH;
      const [ra, rb] = await Promise.all([consoleApi(a, alice, "POST", `/approvals/${id}/approve`, {}), consoleApi(b, bob, "POST", `/approvals/${id}/approve`, {})]);
      expect(upstream.counts.PATCH - before).toBe(1);
      expect(upstream.idempotencyKeys.at(-1)).toBe(id);
      const answers = [ra, rb].sort((x, y) => x.status - y.status);
      expect(answers[0]).toMatchObject({ status: 200, body: { verdict: "approved", outcome: "executed" } });
      expect(answers[1]).toMatchObject({ status: 409, body: { error: { code: "already_decided", message: expect.stringMatching(/approved by (alice|bob) and executed/) } } });
      const got = (await client.callTool({ name: "get_action", arguments: { action_id: id } })) as { structuredContent: Record<string, any> };
      expect(got.structuredContent).toMatchObject({ status: "executed", decision: { verdict: "approved" } });
      await until(() => notices.some((n) => n.action_id === id && n.status === "executed"), 10_000, "the decision notice on A's session");
    }
    await client.close().catch(() => undefined);
  }, 60_000);
});
