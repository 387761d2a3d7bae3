/**
 * The console's member role: a member may allow OAuth clients only within the limits an admin set
 * (modules, read-only, longest expiry), sees and revokes only their own grants, and reaches no
 * other part of the console.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminFileStore } from "../../src/console/admins.js";
import { run } from "../../src/cli/admins.js";
import { pkce, REDIRECT, startOAuthHarness, type ConsoleSession, type OAuthHarness } from "./oauth-harness.js";

let o: OAuthHarness;
let bob: ConsoleSession;
beforeAll(async () => {
  o = await startOAuthHarness();
  await createAdminFileStore({ dir: o.h.gateway.deps.config.dataDir }).create("bob", { modules: ["items"], readOnly: true, maxExpiryDays: 7 });
  bob = await o.signIn("bob");
});
afterAll(async () => {
  await o?.close();
});

async function held(): Promise<{ id: string; clientId: string; verifier: string }> {
  const { body } = await o.register();
  const p = pkce();
  const res = await o.authorize({ response_type: "code", client_id: body.client_id as string, redirect_uri: REDIRECT, code_challenge: p.challenge, code_challenge_method: "S256" });
  return { id: res.headers.get("location")!.split("request=")[1]!, clientId: body.client_id as string, verifier: p.verifier };
}

describe("a member", () => {
  it("is offered only what the limits allow", async () => {
    const { id } = await held();
    const shown = await o.consoleApi("GET", `/oauth/requests/${id}`, undefined, bob);
    expect(shown.status).toBe(200);
    expect(shown.body.limits).toEqual({ modules: ["items"], readOnly: true, maxExpiryDays: 7 });
    expect((shown.body.modules as { name: string }[]).map((m) => m.name)).toEqual(["items"]);
    expect(shown.body.defaults).toMatchObject({ readOnly: true, expires: "7d" });
  });

  it("cannot allow beyond the limits, each refusal naming the limit; within them the grant works", async () => {
    const { id, clientId, verifier } = await held();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ approve: true, modules: "all", readOnly: true, expires: "7d" }, /only the modules items \(not all\)/],
      [{ approve: true, modules: ["items", "misc"], readOnly: true, expires: "7d" }, /not misc/],
      [{ approve: true, modules: ["items"], readOnly: false, expires: "7d" }, /read-only access only/],
      [{ approve: true, modules: ["items"], readOnly: true, expires: "30d" }, /at most 7 days/],
    ];
    for (const [decision, why] of cases) {
      const r = await o.consoleApi("POST", `/oauth/requests/${id}/decision`, decision, bob);
      expect(r.status, JSON.stringify(decision)).toBe(403);
      expect((r.body.error as { message: string }).message).toMatch(why);
    }
    const ok = await o.consoleApi("POST", `/oauth/requests/${id}/decision`, { approve: true, modules: ["items"], readOnly: true, expires: "7d" }, bob);
    expect(ok.status).toBe(200);
    const code = new URL(ok.body.redirect as string).searchParams.get("code")!;
    const tokens = await o.token({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier });
    expect(await o.callsOk(tokens.body.access_token as string)).toBe(true);
  });

  it("sees and revokes only their own grants; an admin sees everyone's", async () => {
    await o.connect(); // alice's grant
    const { id } = await held();
    await o.consoleApi("POST", `/oauth/requests/${id}/decision`, { approve: true, modules: ["items"], readOnly: true, expires: "1d" }, bob);
    const bobs = (await o.consoleApi("GET", "/oauth/grants", undefined, bob)).body.grants as { id: string; user: string }[];
    expect(new Set(bobs.map((g) => g.user))).toEqual(new Set(["bob"]));
    const all = (await o.consoleApi("GET", "/oauth/grants")).body.grants as { id: string; user: string }[];
    const alices = all.find((g) => g.user === "alice")!;
    expect(new Set(all.map((g) => g.user))).toEqual(new Set(["alice", "bob"]));
    const notHis = await o.consoleApi("POST", `/oauth/grants/${alices.id}/revoke`, undefined, bob);
    expect(notHis.status).toBe(404);
    const his = await o.consoleApi("POST", `/oauth/grants/${bobs[0]!.id}/revoke`, undefined, bob);
    expect(his.status).toBe(200);
    expect((his.body.grant as { status: string }).status).toBe("revoked");
  });

  it("reaches no other console route", async () => {
    for (const [method, path] of [["GET", "/tokens"], ["POST", "/tokens"], ["GET", "/activity"], ["GET", "/pending"], ["GET", "/modules"]] as const) {
      const r = await o.consoleApi(method, path, method === "POST" ? { name: "x" } : undefined, bob);
      expect(r.status, path).toBe(403);
      expect((r.body.error as { message: string }).message).toMatch(/Members may only allow OAuth clients/);
    }
    const session = await o.consoleApi("GET", "/session", undefined, bob);
    expect(session.body.admin).toMatchObject({ name: "bob", role: "member" });
  });
});

describe("countersign admins create --member", () => {
  it("stores the limits, and refuses unknown modules and limits without --member", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env: { COUNTERSIGN_DATA_DIR: o.h.gateway.deps.config.dataDir, COUNTERSIGN_GENERATED_DIR: "generated/workspace" } };
    expect(await run(["create", "--name", "carol", "--member", "--modules", "tasks,projects", "--read-only", "--max-days", "14", "--json"], io)).toBe(0);
    expect(JSON.parse(out.join(""))).toMatchObject({ name: "carol", role: "member", limits: { modules: ["tasks", "projects"], readOnly: true, maxExpiryDays: 14 } });
    expect(await run(["create", "--name", "dave", "--member", "--modules", "nope"], io)).toBe(2);
    expect(err.join("")).toMatch(/unknown module nope/);
    expect(await run(["create", "--name", "erin", "--read-only"], io)).toBe(2);
    expect(err.join("")).toMatch(/add --member/);
    expect(await run(["create", "--name", "frank", "--member", "--max-days", "0"], io)).toBe(2);
    expect(err.join("")).toMatch(/--max-days must be a whole number of days from 1 to 365/);
  });
});
