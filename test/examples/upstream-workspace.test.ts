import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream, type RunningUpstream } from "../../examples/upstream/server.js";
import { callEveryOperation, type Prepare } from "./call-every-op.js";

const SPEC = "openapi/workspace.yaml";
const TOKEN = "workspace-test-token";

describe("sample upstream serving the bundled workspace spec", () => {
  let dir: string;
  let up: RunningUpstream;
  const store = () => up.engine.store;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "upstream-ws-"));
    up = await startUpstream({ spec: SPEC, port: 0, dataDir: dir, token: TOKEN, durable: false });
  });
  afterAll(async () => {
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Inputs that depend on state: the generated ones are valid against the schema but not always in context.
  const prepare: Record<string, Prepare> = {
    addProjectMember: ({ pathParams, body }) => {
      const members = new Set(store().all("ProjectMember").filter((m) => m.__project_id === pathParams.project_id).map((m) => (m.user as { id: string }).id));
      (body as Record<string, unknown>).user_id = store().all("User").find((u) => !members.has(String(u.id)))!.id;
    },
    addTeamMember: ({ pathParams, body }) => {
      const members = new Set(store().all("TeamMember").filter((m) => m.__team_id === pathParams.team_id).map((m) => (m.user as { id: string }).id));
      (body as Record<string, unknown>).user_id = store().all("User").find((u) => !members.has(String(u.id)))!.id;
    },
    reopenTask: async ({ pathParams, call }) => {
      expect((await call("POST", `/tasks/${pathParams.task_id}/complete`, {})).status).toBe(200);
    },
    addTaskDependency: ({ pathParams, body }) => {
      (body as Record<string, unknown>).depends_on_task_id = store().all("Task").find((t) => t.id !== pathParams.task_id)!.id;
    },
    completeProcessStep: ({ pathParams }) => {
      const run = store().all("ProcessInstance").find((r) => r.id === pathParams.instance_id)!;
      pathParams.step_id = String(run.current_step_id);
    },
    removeTaskLabel: ({ pathParams }) => {
      const task = store().all("Task").find((t) => t.id === pathParams.task_id)!;
      pathParams.label_id = (task.label_ids as string[])[0];
    },
    removeCommentReaction: async ({ pathParams, call }) => {
      expect((await call("POST", `/comments/${pathParams.comment_id}/reactions`, { emoji: "🎉" })).status).toBe(200);
      pathParams.emoji = "🎉";
    },
    submitTimesheet: ({ pathParams }) => {
      pathParams.timesheet_id = String(store().all("Timesheet").find((t) => t.state === "open")!.id);
    },
    stopTimer: async ({ call }) => {
      expect((await call("POST", "/timers", {})).status).toBe(201);
    },
    moveWikiPage: ({ body }) => {
      (body as Record<string, unknown>).parent_id = null;
    },
    syncIntegration: ({ pathParams }) => {
      pathParams.integration_id = String(store().all("Integration").find((i) => i.status === "active")!.id);
    },
    importWorkspace: async (input) => {
      const res = await input.call("GET", "/exports/workspace");
      input.body = Buffer.from(await res.arrayBuffer());
    },
  };

  it("answers every operation (excluded ones included) with a 2xx that matches the response schema", async () => {
    const outcomes = await callEveryOperation(up, TOKEN, prepare);
    const failures = outcomes.filter((o) => o.problems.length > 0).map((o) => `${o.operationId} ${o.method} ${o.path}: ${o.problems.join("; ")}`);
    expect(failures).toEqual([]);
    expect(outcomes.length).toBe(up.engine.spec.operations.length);
    expect(outcomes.length).toBeGreaterThanOrEqual(290);
  }, 120_000);
});
