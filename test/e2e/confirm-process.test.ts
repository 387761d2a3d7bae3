/**
 * Preview and confirm through the real CLI over stdio (`countersign stdio`, spawned by an SDK
 * client as Claude Desktop would): a pending action survives a real process restart, two
 * processes sharing a data dir execute an action once, and a token revoked with
 * `countersign tokens revoke` between preview and confirm can no longer confirm.
 * Needs dist/ (built by test/global-setup.ts unless COUNTERSIGN_SKIP_BUILD=1).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeGenerated } from "../support/generated.js";
import { startTasksUpstream, TASK_TOOLS, type TasksUpstream } from "../fixtures/confirm/tasks-api.js";

type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };

const CLI = join(process.cwd(), "bin/countersign.js");
let upstream: TasksUpstream;
let env: Record<string, string>;

function mint(name: string): { id: string; token: string } {
  const out = spawnSync("node", [CLI, "tokens", "create", "--name", name, "--json"], { env, encoding: "utf8" });
  expect(out.status, out.stderr).toBe(0);
  const parsed = JSON.parse(out.stdout) as { id: string; token: string };
  return { id: parsed.id, token: parsed.token };
}

async function stdioClient(token: string): Promise<Client> {
  const client = new Client({ name: "desktop-like", version: "1" });
  await client.connect(new StdioClientTransport({ command: "node", args: [CLI, "stdio"], env: { ...env, MCP_TOKEN: token }, stderr: "pipe" }));
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Result> {
  return (await client.callTool({ name, arguments: args })) as Result;
}

beforeAll(async () => {
  upstream = await startTasksUpstream();
  const work = mkdtempSync(join(tmpdir(), "cs-e2e-confirm-proc-"));
  const generated = join(work, "generated");
  writeGenerated(generated, TASK_TOOLS, "tasks");
  env = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    COUNTERSIGN_DATA_DIR: join(work, "data"),
    COUNTERSIGN_UPSTREAM_URL: upstream.url,
    COUNTERSIGN_GENERATED_DIR: generated,
    LOG_LEVEL: "warn",
  };
});

afterAll(() => upstream.close());

describe("confirm through countersign stdio", () => {
  it("a pending action made before the process restarts is confirmed by the next process", async () => {
    const { token } = mint("restart");
    const first = await stdioClient(token);
    const p = await call(first, "update_task", { project_id: 42, task_id: 18, title: "Venue booked" });
    expect(p.structuredContent?.status).toBe("pending_confirmation");
    await first.close();
    expect(upstream.writes).toHaveLength(0);

    const second = await stdioClient(token);
    try {
      const listed = await call(second, "list_pending_actions", {});
      expect(listed.structuredContent?.actions.map((a: { action_id: string }) => a.action_id)).toEqual([p.structuredContent!.action_id]);
      const done = await call(second, "confirm_action", { confirm_token: p.structuredContent!.confirm_token });
      expect(done.structuredContent).toMatchObject({ status: "executed", action_id: p.structuredContent!.action_id });
      expect(upstream.tasks.get(18)!.title).toBe("Venue booked");
      expect(upstream.writes).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it("a gateway killed while executing an action reports it as unknown afterwards and never re-runs it", async () => {
    const { token } = mint("killed");
    const transport = new StdioClientTransport({ command: "node", args: [CLI, "stdio"], env: { ...env, MCP_TOKEN: token }, stderr: "pipe" });
    const first = new Client({ name: "desktop-like", version: "1" });
    await first.connect(transport);
    const p = await call(first, "create_task", { project_id: 42, title: "Cut off mid-call" });
    const before = upstream.writes.length;
    upstream.writeDelayMs = 1500;
    try {
      const confirming = call(first, "confirm_action", { confirm_token: p.structuredContent!.confirm_token }).catch((err: unknown) => err);
      await expect.poll(() => upstream.inflightWrites, { timeout: 10_000 }).toBe(1);
      process.kill(transport.pid!, "SIGKILL");
      await confirming;
      await first.close().catch(() => undefined);
      await expect.poll(() => upstream.writes.length - before, { timeout: 10_000 }).toBe(1); // the request in flight still lands

      const second = await stdioClient(token);
      try {
        const r = await call(second, "confirm_action", { confirm_token: p.structuredContent!.confirm_token });
        expect(r.structuredContent).toMatchObject({ status: "unknown", action_id: p.structuredContent!.action_id });
        expect(r.isError).toBe(true);
        await new Promise((res) => setTimeout(res, 200));
        expect(upstream.writes.length - before).toBe(1);
        expect([...upstream.tasks.values()].filter((t) => t.title === "Cut off mid-call")).toHaveLength(1);
      } finally {
        await second.close();
      }
    } finally {
      upstream.writeDelayMs = 0;
    }
  });

  it("two gateway processes on one data dir: previewed in one, 20 confirms split across both, one write", async () => {
    const { token } = mint("two-processes");
    const [one, two] = await Promise.all([stdioClient(token), stdioClient(token)]);
    try {
      const p = await call(one, "create_task", { project_id: 42, title: "Exactly once across processes" });
      expect(p.structuredContent?.status).toBe("pending_confirmation");
      const before = upstream.writes.length;
      upstream.writeDelayMs = 100;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i % 2 ? one : two, "confirm_action", { confirm_token: p.structuredContent!.confirm_token })));
      const statuses = results.map((r) => r.structuredContent?.status);
      expect(statuses.filter((s) => s === "executed")).toHaveLength(1);
      expect(statuses.filter((s) => s === "already_executed")).toHaveLength(19);
      expect(upstream.writes.length - before).toBe(1);
      expect([...upstream.tasks.values()].filter((t) => t.title === "Exactly once across processes")).toHaveLength(1);
    } finally {
      upstream.writeDelayMs = 0;
      await Promise.all([one.close(), two.close()]);
    }
  });

  it("a token revoked between preview and confirm cannot confirm", async () => {
    const { id, token } = mint("revoked");
    const client = await stdioClient(token);
    try {
      const p = await call(client, "create_task", { project_id: 42, title: "Never created" });
      expect(p.structuredContent?.status).toBe("pending_confirmation");
      const revoked = spawnSync("node", [CLI, "tokens", "revoke", id], { env, encoding: "utf8" });
      expect(revoked.status, revoked.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 1100)); // the stdio process re-reads tokens within 1 s
      const before = upstream.writes.length;
      const r = await call(client, "confirm_action", { confirm_token: p.structuredContent!.confirm_token });
      expect(r.isError).toBe(true);
      expect(r.structuredContent?.error).toMatchObject({ code: "unauthorized", reason: "revoked" });
      expect(upstream.writes.length).toBe(before);
      expect([...upstream.tasks.values()].some((t) => t.title === "Never created")).toBe(false);
    } finally {
      await client.close();
    }
  });
});
