/**
 * Discovery and the 401 (RFC 9728, RFC 8414): a refused bearer says why and where to sign in, and
 * the metadata documents point a client from /mcp to the authorization server's endpoints.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOAuthHarness, type OAuthHarness } from "./oauth-harness.js";

let o: OAuthHarness;
beforeAll(async () => {
  o = await startOAuthHarness();
});
afterAll(async () => {
  await o?.close();
});

/** The parameters of a `WWW-Authenticate: Bearer` challenge. */
function challenge(header: string | null): Record<string, string> {
  expect(header).toMatch(/^Bearer /);
  return Object.fromEntries([...header!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

describe("the 401 on /mcp", () => {
  it("names the reason and the protected-resource metadata for a wrong, expired or revoked csk_ token", async () => {
    const revoked = await o.h.mint({ revokedAt: new Date().toISOString() });
    const expired = await o.h.mint({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    const cases: [string, RegExp][] = [
      ["csk_wrong", /^Malformed token/],
      [revoked, /^Token revoked on /],
      [expired, /^Token expired on /],
    ];
    for (const [token, reason] of cases) {
      const res = await o.rawCall(token);
      expect(res.status).toBe(401);
      const c = challenge(res.headers.get("www-authenticate"));
      expect(c.error).toBe("invalid_token");
      expect(c.error_description).toMatch(reason);
      expect(c.resource_metadata).toBe(`${o.base}/.well-known/oauth-protected-resource/mcp`);
    }
  });

  it("still admits a csk_ token exactly as before", async () => {
    const client = await o.agent(o.h.token);
    const out = await client.callTool({ name: "get_item", arguments: { item_id: "7" } });
    expect(out.isError).toBeFalsy();
    await client.close();
  });
});

describe("metadata", () => {
  it("the protected resource names /mcp and this gateway as its authorization server", async () => {
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const res = await fetch(o.base + path);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ resource: `${o.base}/mcp`, authorization_servers: [o.base], bearer_methods_supported: ["header"] });
    }
  });

  it("the authorization server lists its endpoints, S256 only, public clients and metadata-document client ids", async () => {
    const meta = (await (await fetch(`${o.base}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      issuer: o.base,
      authorization_endpoint: `${o.base}/oauth/authorize`,
      token_endpoint: `${o.base}/oauth/token`,
      registration_endpoint: `${o.base}/oauth/register`,
      code_challenge_methods_supported: ["S256"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      token_endpoint_auth_methods_supported: ["none"],
      client_id_metadata_document_supported: true,
    });
  });

  it("answers CORS preflights of browser-based clients on the endpoints they call", async () => {
    for (const path of ["/oauth/register", "/oauth/token", "/.well-known/oauth-authorization-server"]) {
      const res = await fetch(o.base + path, { method: "OPTIONS", headers: { origin: "http://localhost:6274", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
      expect(res.status, path).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-allow-headers")).toMatch(/content-type/);
    }
    const meta = await fetch(`${o.base}/.well-known/oauth-protected-resource/mcp`, { headers: { origin: "http://localhost:6274" } });
    expect(meta.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("refuses a Host outside the allow-list (DNS rebinding) on the OAuth endpoints too", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${o.base}/.well-known/oauth-authorization-server`, { headers: { host: "evil.example" } }, (res) => (res.resume(), resolve(res.statusCode!)));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe("registration turned off", () => {
  it("drops registration_endpoint from the metadata and refuses /oauth/register with the way that still works", async () => {
    const off = await startOAuthHarness({ COUNTERSIGN_OAUTH_REGISTRATION: "false" });
    try {
      const meta = (await (await fetch(`${off.base}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(meta.registration_endpoint).toBeUndefined();
      const res = await off.register();
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: "invalid_client_metadata" });
      expect(res.body.error_description).toMatch(/turned off.*Client ID Metadata Document/);
    } finally {
      await off.close();
    }
  });
});
