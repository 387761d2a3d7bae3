/**
 * OAuth on the distributed mode: two gateways on one real Redis, sharing nothing else. A client
 * authorized through A calls through B (B's lookups served from its cache); the grant revoked in
 * A's console is refused by A on the next call and by B within a second; a refresh token spent on
 * A and replayed on B revokes the grant everywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropPrefix, sharedRedis, uniquePrefix } from "../redis/redis-server.js";
import { REDIRECT, startOAuthHarness, type OAuthHarness } from "./oauth-harness.js";

let redis: { url: string; close(): Promise<void> };
const prefix = uniquePrefix();
let a: OAuthHarness;
let b: OAuthHarness;

beforeAll(async () => {
  redis = await sharedRedis();
  const env = { REDIS_URL: redis.url, COUNTERSIGN_REDIS_PREFIX: prefix };
  a = await startOAuthHarness(env);
  b = await startOAuthHarness(env);
}, 30_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await dropPrefix(redis.url, prefix);
  await redis?.close();
});

/** The status of a call with `token` on `h`, once it is 401 or a second has passed. */
async function statusWithin(h: OAuthHarness, token: string): Promise<number> {
  const started = Date.now();
  let status = (await h.rawCall(token)).status;
  while (status !== 401 && Date.now() - started < 1000) status = (await h.rawCall(token)).status;
  return status;
}

describe("OAuth across replicas (Redis)", () => {
  it("authorized on A, calls on B; revoked in A's console, refused by B on the next call", async () => {
    const { tokens } = await a.connect();
    const client = await b.agent(tokens.access_token!);
    // Twice: the second lookup on B comes from its cache, which the revocation must still reach.
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "7" } })).isError).toBeFalsy();
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "7" } })).isError).toBeFalsy();
    const { grants } = (await a.consoleApi("GET", "/oauth/grants")).body as { grants: { id: string }[] };
    // B's console lists the grant A's person gave.
    const onB = (await b.consoleApi("GET", "/oauth/grants")).body.grants as { id: string }[];
    expect(onB.map((g) => g.id)).toContain(grants[0]!.id);
    expect((await a.consoleApi("POST", `/oauth/grants/${grants[0]!.id}/revoke`)).status).toBe(200);
    // The revoking replica refuses the very next call; the others once the revocation's message
    // reaches them (pub/sub, as for csk_ tokens): within a second.
    expect((await a.rawCall(tokens.access_token!)).status).toBe(401);
    expect(await statusWithin(b, tokens.access_token!)).toBe(401);
    expect((await b.rawCall(tokens.access_token!)).headers.get("www-authenticate")).toMatch(/Access revoked on /);
    await client.close().catch(() => undefined);
  });

  it("a code is exchanged once across replicas, and a refresh token spent on A and replayed on B revokes the grant", async () => {
    const { clientId, tokens, code, pkce } = await a.connect();
    const replay = await b.token({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: pkce.verifier });
    expect(replay.body).toMatchObject({ error: "invalid_grant" });
    expect(await b.rawCall(tokens.access_token!).then((r) => r.status)).toBe(401);
    expect(await statusWithin(a, tokens.access_token!)).toBe(401);

    const second = await a.connect();
    const rotated = await a.token({ grant_type: "refresh_token", refresh_token: second.tokens.refresh_token!, client_id: second.clientId });
    expect(rotated.status).toBe(200);
    const reuse = await b.token({ grant_type: "refresh_token", refresh_token: second.tokens.refresh_token!, client_id: second.clientId });
    expect(reuse.body.error_description).toMatch(/already used: the grant is revoked/);
    expect((await b.rawCall(rotated.body.access_token as string)).status).toBe(401);
    expect(await statusWithin(a, rotated.body.access_token as string)).toBe(401);
  });
});
