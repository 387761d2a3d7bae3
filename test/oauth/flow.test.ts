/**
 * The authorization code flow against a real gateway: registration, /authorize, consent by a
 * signed-in console user, /token, calls with the access token through the same chain as a csk_
 * token, and each way it must fail (bad input, another identity, replays).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pkce, REDIRECT, startOAuthHarness, type OAuthHarness } from "./oauth-harness.js";

let o: OAuthHarness;
beforeAll(async () => {
  o = await startOAuthHarness();
});
afterAll(async () => {
  await o?.close();
});

async function requestFor(clientId: string, extra: Record<string, string> = {}) {
  const p = pkce();
  const res = await o.authorize({ response_type: "code", client_id: clientId, redirect_uri: REDIRECT, code_challenge: p.challenge, code_challenge_method: "S256", state: "xyz", ...extra });
  return { res, p, location: res.headers.get("location") };
}

const requestId = (location: string | null) => new URL(location!, "http://x").hash.split("request=")[1]!;

describe("registration (RFC 7591)", () => {
  it("registers a public client and answers its id", async () => {
    const r = await o.register({ client_name: "Inspector", redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ client_name: "Inspector", redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" });
    expect(r.body.client_id).toMatch(/^oc_/);
  });

  it("refuses bad metadata, naming what is wrong", async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ client_name: "x" }, "invalid_redirect_uri", /redirect_uris must be a non-empty array/],
      [{ redirect_uris: ["http://evil.example/cb"] }, "invalid_redirect_uri", /http is only allowed on loopback/],
      [{ redirect_uris: ["https://app.example/cb#frag"] }, "invalid_redirect_uri", /fragment/],
      [{ redirect_uris: [REDIRECT], token_endpoint_auth_method: "client_secret_basic" }, "invalid_client_metadata", /public clients/],
      [[REDIRECT], "invalid_client_metadata", /JSON object/],
    ];
    for (const [meta, error, description] of cases) {
      const r = await o.register(meta as Record<string, unknown>);
      expect(r.status, JSON.stringify(meta)).toBe(400);
      expect(r.body.error).toBe(error);
      expect(r.body.error_description).toMatch(description);
    }
    const notJson = await fetch(`${o.base}/oauth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(await notJson.json()).toMatchObject({ error: "invalid_client_metadata", error_description: "the body is not valid JSON" });
  });
});

describe("/authorize", () => {
  it("holds a valid request for consent on the console page", async () => {
    const { body } = await o.register();
    const { res, location } = await requestFor(body.client_id as string, { resource: `${o.base}/mcp` });
    expect(res.status).toBe(302);
    expect(location).toMatch(/^\/console\/#\/consent\?request=ar_/);
  });

  it("never redirects to an unregistered redirect URI, or for an unknown client: the person sees why", async () => {
    const { body } = await o.register();
    const wrong = await o.authorize({ response_type: "code", client_id: body.client_id as string, redirect_uri: "http://127.0.0.1:7777/other", code_challenge: pkce().challenge, code_challenge_method: "S256" });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get("location")).toBeNull();
    expect(await wrong.text()).toMatch(/redirect_uri http:\/\/127\.0\.0\.1:7777\/other is not one registered/);
    const unknown = await o.authorize({ response_type: "code", client_id: "oc_nobody", redirect_uri: REDIRECT });
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toMatch(/invalid_client: unknown client_id/);
  });

  it("accepts a loopback redirect on another port (RFC 8252 §7.3)", async () => {
    const { body } = await o.register();
    const p = pkce();
    const res = await o.authorize({ response_type: "code", client_id: body.client_id as string, redirect_uri: "http://127.0.0.1:51234/callback", code_challenge: p.challenge, code_challenge_method: "S256" });
    expect(res.headers.get("location")).toMatch(/consent\?request=ar_/);
  });

  it("sends PKCE and resource errors back to the client with its state", async () => {
    const { body } = await o.register();
    const id = body.client_id as string;
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ code_challenge_method: "plain" }, "invalid_request", /S256/],
      [{ code_challenge: "" }, "invalid_request", /code_challenge is required/],
      [{ resource: "https://other.example/mcp" }, "invalid_target", /not served here/],
      [{ response_type: "token" }, "unsupported_response_type", /code/],
    ];
    for (const [extra, error, description] of cases) {
      const { location } = await requestFor(id, extra);
      const url = new URL(location!);
      expect(url.origin + url.pathname).toBe(REDIRECT);
      expect(url.searchParams.get("error")).toBe(error);
      expect(url.searchParams.get("error_description")).toMatch(description);
      expect(url.searchParams.get("state")).toBe("xyz");
    }
  });
});

describe("consent and /token", () => {
  it("exchanges the code once, for a 1-hour access token and a refresh token", async () => {
    const { tokens } = await o.connect();
    expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: 3600 });
    expect(tokens.access_token).toMatch(/^cso_/);
    expect(tokens.refresh_token).toMatch(/^csr_/);
    const client = await o.agent(tokens.access_token!);
    const out = await client.callTool({ name: "get_item", arguments: { item_id: "7" } });
    expect(out.isError).toBeFalsy();
    await client.close();
  });

  it("a declined request goes back as access_denied; a request is decided only once", async () => {
    const { body } = await o.register();
    const { location } = await requestFor(body.client_id as string);
    const id = requestId(location);
    const declined = await o.decide(id, { approve: false });
    const url = new URL(declined.body.redirect as string);
    expect(url.searchParams.get("error")).toBe("access_denied");
    expect(url.searchParams.get("state")).toBe("xyz");
    const again = await o.decide(id, { approve: true });
    expect(again.status).toBe(404);
  });

  it("consent needs the console session and its CSRF token", async () => {
    const { body } = await o.register();
    const { location } = await requestFor(body.client_id as string);
    const id = requestId(location);
    const noSession = await fetch(`${o.base}/console/api/oauth/requests/${id}/decision`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"approve":true}' });
    expect(noSession.status).toBe(401);
    const noCsrf = await fetch(`${o.base}/console/api/oauth/requests/${id}/decision`, { method: "POST", headers: { cookie: o.cookie, "content-type": "application/json" }, body: '{"approve":true}' });
    expect(noCsrf.status).toBe(403);
    const agent = await fetch(`${o.base}/console/api/oauth/requests/${id}`, { headers: { authorization: `Bearer ${o.h.token}` } });
    expect(agent.status).toBe(401);
    const bad = await o.decide(id, { approve: true, modules: ["nope"] });
    expect(bad.status).toBe(400);
    expect((bad.body.error as { message: string }).message).toMatch(/unknown module nope/);
    // The request is still there after the refusals: the person can decide.
    expect((await o.decide(id, { approve: true })).status).toBe(200);
  });

  it("refuses a wrong code_verifier, another redirect_uri and another client", async () => {
    const { body } = await o.register();
    const clientId = body.client_id as string;
    for (const [change, description] of [
      [{ code_verifier: pkce().verifier }, /PKCE/],
      [{ redirect_uri: "http://127.0.0.1:7777/elsewhere" }, /redirect_uri differs/],
      [{ client_id: "oc_other" }, /another client/],
    ] as const) {
      const { location, p } = await requestFor(clientId);
      const decided = await o.decide(requestId(location), { approve: true });
      const code = new URL(decided.body.redirect as string).searchParams.get("code")!;
      const form: Record<string, string> = { grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: p.verifier };
      const r = await o.token(Object.assign(form, change));
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_grant");
      expect(r.body.error_description).toMatch(description);
    }
  });

  it("a replayed code is refused and revokes what the first exchange issued", async () => {
    const { clientId, tokens, code, pkce: p } = await o.connect();
    const replay = await o.token({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: p.verifier });
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: "invalid_grant" });
    expect(replay.body.error_description).toMatch(/already used/);
    const call = await o.rawCall(tokens.access_token!);
    expect(call.status).toBe(401);
  });

  it("answers RFC 6749 errors for a malformed token request", async () => {
    expect((await o.token({})).body).toMatchObject({ error: "invalid_request", error_description: "grant_type is required" });
    expect((await o.token({ grant_type: "password" })).body).toMatchObject({ error: "unsupported_grant_type" });
    expect((await o.token({ grant_type: "authorization_code", code: "x" })).body.error_description).toMatch(/redirect_uri is required/);
    const json = await fetch(`${o.base}/oauth/token`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: "invalid_request" });
    expect(json.headers.get("cache-control")).toBe("no-store");
  });
});

describe("refresh tokens", () => {
  it("rotate on use; reusing a spent one revokes the grant and its access tokens", async () => {
    const { clientId, tokens } = await o.connect();
    const first = await o.token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: clientId });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token);
    const fresh = first.body.access_token as string;
    expect(await o.callsOk(fresh)).toBe(true);

    const reuse = await o.token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: clientId });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe("invalid_grant");
    expect(reuse.body.error_description).toMatch(/already used: the grant is revoked/);
    const cut = await o.rawCall(fresh);
    expect(cut.status).toBe(401);
    expect(cut.headers.get("www-authenticate")).toMatch(/error_description="Access revoked on /);
    // The rotated one dies with the grant.
    const rotated = await o.token({ grant_type: "refresh_token", refresh_token: first.body.refresh_token as string, client_id: clientId });
    expect(rotated.body.error_description).toMatch(/revoked.*refresh token was used twice/);
  });

  it("is refused for another client", async () => {
    const { tokens } = await o.connect();
    const other = await o.token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: "oc_someone" });
    expect(other.body).toMatchObject({ error: "invalid_grant" });
  });
});

describe("access tokens in the chain", () => {
  it("consent narrowed to one module: a call outside it is refused, a call inside runs", async () => {
    const { tokens } = await o.connect({ approve: true, modules: ["items"], readOnly: true });
    const client = await o.agent(tokens.access_token!);
    const inside = await client.callTool({ name: "get_item", arguments: { item_id: "7" } });
    expect(inside.isError).toBeFalsy();
    const outside = await client.callTool({ name: "get_status", arguments: { code: 200 } });
    expect(outside.isError).toBe(true);
    expect(outside.structuredContent).toMatchObject({ error: { code: "forbidden" } });
    const write = await client.callTool({ name: "create_item", arguments: { name: "x" } });
    expect(write.isError).toBe(true);
    await client.close();
  });

  it("the audit names the person and the client; registration, grant, refresh and revocation are recorded", async () => {
    const { clientId, tokens } = await o.connect();
    await o.token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: clientId });
    const client = await o.agent(tokens.access_token!);
    await client.callTool({ name: "get_item", arguments: { item_id: "7" } });
    await client.close();
    const grants = (await (await fetch(`${o.base}/console/api/oauth/grants`, { headers: { cookie: o.cookie } })).json()) as { grants: { id: string; clientId: string }[] };
    const grant = grants.grants.find((g) => g.clientId === clientId)!;
    const revoked = await fetch(`${o.base}/console/api/oauth/grants/${grant.id}/revoke`, { method: "POST", headers: { cookie: o.cookie, "x-csrf-token": o.csrf } });
    expect(revoked.status).toBe(200);
    await o.h.gateway.deps.auditSink.flush();
    const records = await o.h.gateway.deps.auditSink.query({});
    const call = records.find((r) => r.tool === "get_item" && r.tokenId === grant.id);
    expect(call?.subject).toBe("alice via Test Client");
    const mine = records.filter((r) => r.args && (r.args as { clientId?: string }).clientId === clientId).map((r) => r.tool);
    expect(mine).toEqual(expect.arrayContaining(["oauth.register", "oauth.grant", "oauth.refresh", "oauth.revoke"]));
  });

  it("a grant revoked in the console cuts the client on its next call", async () => {
    const { clientId, tokens } = await o.connect();
    const client = await o.agent(tokens.access_token!);
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "7" } })).isError).toBeFalsy();
    const { grants } = (await (await fetch(`${o.base}/console/api/oauth/grants`, { headers: { cookie: o.cookie } })).json()) as { grants: { id: string; clientId: string }[] };
    const id = grants.find((g) => g.clientId === clientId)!.id;
    const noCsrf = await fetch(`${o.base}/console/api/oauth/grants/${id}/revoke`, { method: "POST", headers: { cookie: o.cookie } });
    expect(noCsrf.status).toBe(403);
    await fetch(`${o.base}/console/api/oauth/grants/${id}/revoke`, { method: "POST", headers: { cookie: o.cookie, "x-csrf-token": o.csrf } });
    await expect(client.callTool({ name: "get_item", arguments: { item_id: "7" } })).rejects.toThrow(/revoked/i);
    const again = await o.token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: clientId });
    expect(again.body.error_description).toMatch(/revoked/);
    await client.close().catch(() => undefined);
  });

  it("an expired access token is refused with its reason, and a refresh brings a working one", async () => {
    const { clientId, tokens } = await o.connect();
    o.advance(3_600_000 + 1000);
    const res = await o.rawCall(tokens.access_token!);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/error="invalid_token", error_description="Access token expired on .*: refresh it"/);
    const refreshed = await o.token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: clientId });
    expect(refreshed.status).toBe(200);
    expect(await o.callsOk(refreshed.body.access_token as string)).toBe(true);
  });

  it("a grant's own end stops its access and refresh tokens, each saying so", async () => {
    const { clientId, tokens } = await o.connect({ approve: true, expires: "1d" });
    o.advance(86_400_000 + 1000);
    const res = await o.rawCall(tokens.access_token!);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/Access (token expired|granted until .* has ended)/);
    const refreshed = await o.token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: clientId });
    expect(refreshed.body.error).toBe("invalid_grant");
    expect(refreshed.body.error_description).toMatch(/expired/);
  });

  it("an agent token mints nothing: a csk_ token is no refresh token, no code and no access token's way in", async () => {
    const { clientId } = await o.connect();
    const asRefresh = await o.token({ grant_type: "refresh_token", refresh_token: o.h.token, client_id: clientId });
    expect(asRefresh.body).toMatchObject({ error: "invalid_grant", error_description: "unknown refresh token" });
    const asCode = await o.token({ grant_type: "authorization_code", code: o.h.token, redirect_uri: REDIRECT, client_id: clientId, code_verifier: pkce().verifier });
    expect(asCode.body).toMatchObject({ error: "invalid_grant" });
    const consent = await fetch(`${o.base}/console/api/oauth/grants`, { headers: { authorization: `Bearer ${o.h.token}` } });
    expect(consent.status).toBe(401);
  });

  it("an access token cannot mint tokens: it is refused by the console API and is no admin credential", async () => {
    const { tokens } = await o.connect();
    const res = await fetch(`${o.base}/console/api/tokens`, { method: "POST", headers: { authorization: `Bearer ${tokens.access_token}`, "content-type": "application/json" }, body: '{"name":"x"}' });
    expect(res.status).toBe(401);
    const grants = await fetch(`${o.base}/console/api/oauth/grants`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(grants.status).toBe(401);
  });
});

describe("rate limits", () => {
  it("per address on every OAuth endpoint, per client at /token: 429 with Retry-After and an RFC 6749 body", async () => {
    const low = await startOAuthHarness({ COUNTERSIGN_OAUTH_IP_REQUESTS_PER_MINUTE: "3", COUNTERSIGN_OAUTH_CLIENT_REQUESTS_PER_MINUTE: "2" });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(`${low.base}/.well-known/oauth-authorization-server`)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await low.close();
    }
    const perClient = await startOAuthHarness({ COUNTERSIGN_OAUTH_CLIENT_REQUESTS_PER_MINUTE: "2" });
    try {
      const form = { grant_type: "refresh_token", refresh_token: "csr_nope", client_id: "oc_flooder" };
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push((await perClient.token(form)).status);
      expect(codes).toEqual([400, 400, 429]);
      const res = await fetch(`${perClient.base}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
      expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await res.json()).toMatchObject({ error: "temporarily_unavailable" });
      // Another client is not held back by this one.
      expect((await perClient.token({ ...form, client_id: "oc_other" })).status).toBe(400);
    } finally {
      await perClient.close();
    }
  });
});
