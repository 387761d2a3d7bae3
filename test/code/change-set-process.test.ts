/**
 * Change sets through the real CLI over stdio, against the fixture upstream that records every
 * write: each step carries its own Idempotency-Key (and If-Match when it updates), and a gateway
 * killed mid-set reports afterwards what ran, marks the interrupted step unknown, and never runs
 * a step again. Needs dist/ (built by test/global-setup.ts unless COUNTERSIGN_SKIP_BUILD=1).
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

function mint(name: string): string {
  const out = spawnSync("node", [CLI, "tokens", "create", "--name", name, "--json"], { env, encoding: "utf8" });
  expect(out.status, out.stderr).toBe(0);
  return (JSON.parse(out.stdout) as { token: string }).token;
}

function transportFor(token: string): StdioClientTransport {
  return new StdioClientTransport({ command: "node", args: [CLI, "stdio"], env: { ...env, MCP_TOKEN: token }, stderr: "pipe" });
}

async function connect(transport: StdioClientTransport): Promise<Client> {
  const client = new Client({ name: "code-mode", version: "1" });
  await client.connect(transport);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Result> {
  return (await client.callTool({ name, arguments: args })) as Result;
}

beforeAll(async () => {
  upstream = await startTasksUpstream();
  const work = mkdtempSync(join(tmpdir(), "cs-code-proc-"));
  const generated = join(work, "generated");
  writeGenerated(generated, TASK_TOOLS, "tasks");
  env = { PATH: process.env.PATH ?? "", HOME: work, COUNTERSIGN_DATA_DIR: join(work, "data"), COUNTERSIGN_UPSTREAM_URL: upstream.url, COUNTERSIGN_GENERATED_DIR: generated, COUNTERSIGN_MODE: "code", LOG_LEVEL: "warn" };
});

afterAll(() => upstream.close());

describe("change sets through countersign stdio", () => {
  it("each step is sent once with its own Idempotency-Key, an update with the If-Match its preview read", async () => {
    const client = await connect(transportFor(mint("keys")));
    try {
      const r = await call(client, "run_code", {
        intent: "rename a task and add one",
        code: `await api.tasks.update_task({ project_id: 42, task_id: 17, title: "Plan v2" }); await api.tasks.create_task({ project_id: 42, title: "Review plan v2" }); return "ok";`,
      });
      expect(r.structuredContent?.status, JSON.stringify(r)).toBe("pending_confirmation");
      expect(r.structuredContent!.preview.totals).toEqual({ create: 1, update: 1, delete: 0 });
      const before = upstream.writes.length;
      const done = await call(client, "confirm_action", { confirm_token: r.structuredContent!.confirm_token });
      expect(done.structuredContent?.status, JSON.stringify(done)).toBe("executed");
      const sent = upstream.writes.slice(before);
      expect(sent.map((w) => `${w.method} ${w.path}`)).toEqual(["PATCH /v1/projects/42/tasks/17", "POST /v1/projects/42/tasks"]);
      const keys = sent.map((w) => w.headers["idempotency-key"]);
      expect(keys).toEqual((done.structuredContent!.steps as { action_id: string }[]).map((s) => s.action_id));
      expect(new Set(keys).size).toBe(2);
      expect(sent[0]!.headers["if-match"]).toMatch(/^"v\d+"$/);
      expect(upstream.tasks.get(17)!.title).toBe("Plan v2");
    } finally {
      await client.close();
    }
  });

  it("a gateway killed in the middle of a set: the executed step is kept, the interrupted one is unknown, nothing runs again", async () => {
    const token = mint("killed");
    const transport = transportFor(token);
    const first = await connect(transport);
    const r = await call(first, "run_code", {
      intent: "three tasks",
      code: `for (const title of ["Crash one", "Crash two", "Crash three"]) await api.tasks.create_task({ project_id: 42, title });`,
    });
    const token2 = r.structuredContent!.confirm_token as string;
    const before = upstream.writes.length;
    upstream.writeDelayMs = 1500;
    try {
      const confirming = call(first, "confirm_action", { confirm_token: token2 }).catch((err: unknown) => err);
      // The first step has answered and the second is in flight.
      await expect.poll(() => upstream.writes.length - before === 1 && upstream.inflightWrites === 1, { timeout: 15_000 }).toBe(true);
      process.kill(transport.pid!, "SIGKILL");
      await confirming;
      await first.close().catch(() => undefined);
      await expect.poll(() => upstream.writes.length - before, { timeout: 10_000 }).toBe(2); // the request in flight still lands
    } finally {
      upstream.writeDelayMs = 0;
    }

    const second = await connect(transportFor(token));
    try {
      const again = await call(second, "confirm_action", { confirm_token: token2 });
      expect(again.isError).toBe(true);
      expect(again.structuredContent?.status).toBe("unknown");
      const steps = again.structuredContent!.steps as { status: string }[];
      expect(steps.map((s) => s.status)).toEqual(["executed", "unknown", "not_run"]);
      expect(again.content[0]!.text).toContain("interrupted");
      const third = await call(second, "confirm_action", { confirm_token: token2 });
      expect(third.structuredContent?.status).toBe("unknown");
      expect(upstream.writes.length - before).toBe(2);
      expect([...upstream.tasks.values()].filter((t) => t.title.startsWith("Crash "))).toHaveLength(2);
      expect((await call(second, "list_pending_actions", {})).structuredContent!.actions).toHaveLength(0);
    } finally {
      await second.close();
    }
  });
});
