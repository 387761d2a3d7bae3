/**
 * Change sets in the distributed mode: pending actions (the set and each step's) on a real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropPrefix, sharedRedis, uniquePrefix } from "../redis/redis-server.js";
import { call, startWorkspace, type Workspace } from "./workspace-harness.js";

let redis: { url: string; close(): Promise<void> };
let prefix: string;
let ws: Workspace;

beforeAll(async () => {
  redis = await sharedRedis();
  prefix = uniquePrefix();
  ws = await startWorkspace({ REDIS_URL: redis.url, COUNTERSIGN_REDIS_PREFIX: prefix });
});

afterAll(async () => {
  await ws?.close();
  await dropPrefix(redis.url, prefix);
  await redis.close();
});

describe("change sets on Redis", () => {
  it("previews, confirms in order with references filled, and a repeated confirm runs nothing", async () => {
    const client = await ws.connect(ws.secret, "mode=code");
    const name = `Redis team ${Date.now()}`;
    const users = (await ws.api<{ data: { id: string }[] }>("GET", "/users?limit=2")).body.data;
    const r = await call(client, "run_code", {
      intent: "a team with two members",
      code: `const team = await api.teams.create_team({ name: ${JSON.stringify(name)} });
        for (const id of ${JSON.stringify(users.map((u) => u.id))}) await api.teams.add_team_member({ team_id: team.id, user_id: id });`,
    });
    expect(r.structuredContent?.status, JSON.stringify(r)).toBe("pending_confirmation");
    expect(r.structuredContent!.preview.steps).toHaveLength(3);
    const listed = await call(client, "list_pending_actions", {});
    expect(listed.structuredContent!.actions.map((a: { action_id: string }) => a.action_id)).toEqual([r.structuredContent!.action_id]);

    const done = await call(client, "confirm_action", { confirm_token: r.structuredContent!.confirm_token });
    expect(done.structuredContent?.status, JSON.stringify(done)).toBe("executed");
    const teamId = (done.structuredContent!.steps as { result: { id: string } }[])[0]!.result.id;
    const members = await ws.api<{ data: { user: { id: string } }[] }>("GET", `/teams/${teamId}/members`);
    expect(members.body.data.map((m) => m.user.id).sort()).toEqual(users.map((u) => u.id).sort());

    const again = await call(client, "confirm_action", { confirm_token: r.structuredContent!.confirm_token });
    expect(again.structuredContent?.status).toBe("already_executed");
    expect((await ws.api<{ data: unknown[] }>("GET", `/teams/${teamId}/members`)).body.data).toHaveLength(2);
    expect((await call(client, "list_pending_actions", {})).structuredContent!.actions).toHaveLength(0);
  });
});
