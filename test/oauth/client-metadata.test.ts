/**
 * Client ID Metadata Documents: a client id that is an HTTPS URL is fetched, checked and cached;
 * private and reserved addresses are refused before any connection, and loopback is accepted only
 * with the development setting.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPrivateAddress } from "../../src/oauth/address-guard.js";
import { pkce, REDIRECT, startOAuthHarness, type OAuthHarness } from "./oauth-harness.js";

let o: OAuthHarness;
let dev: OAuthHarness;
let docs: Server;
let docBase: string;
const hits = new Map<string, number>();

beforeAll(async () => {
  o = await startOAuthHarness();
  dev = await startOAuthHarness({ COUNTERSIGN_OAUTH_LOOPBACK_CLIENT_IDS: "true" });
  docs = createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const self = `${docBase}${req.url}`;
    if (req.url === "/client.json") return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ client_id: self, client_name: "Docs Client", redirect_uris: [REDIRECT] }));
    if (req.url === "/impostor.json") return res.writeHead(200).end(JSON.stringify({ client_id: "https://someone.else/client.json", redirect_uris: [REDIRECT] }));
    if (req.url === "/huge.json") return res.writeHead(200).end(JSON.stringify({ client_id: self, redirect_uris: [REDIRECT], pad: "x".repeat(10_000) }));
    if (req.url === "/moved.json") return res.writeHead(302, { location: "/client.json" }).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => docs.listen(0, "127.0.0.1", r));
  docBase = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await o?.close();
  await dev?.close();
  await new Promise((r) => docs?.close(r));
});

function authorizeAs(h: OAuthHarness, clientId: string, p = pkce()) {
  return h.authorize({ response_type: "code", client_id: clientId, redirect_uri: REDIRECT, code_challenge: p.challenge, code_challenge_method: "S256", state: "s" });
}

describe("address checks", () => {
  it("knows private, loopback, link-local, shared, multicast and mapped addresses from public ones", () => {
    for (const a of ["10.1.2.3", "172.20.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1", "::ffff:7f00:1", "not-an-ip"]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]) expect(isPrivateAddress(a), a).toBe(false);
  });
});

describe("a metadata document on a private address", () => {
  it("is refused before any request is sent, whether written as an address or a name", async () => {
    for (const [clientId, why] of [
      ["https://10.0.0.7/client.json", /10\.0\.0\.7 is a private or reserved address/],
      ["https://169.254.169.254/latest/meta-data.json", /private or reserved/],
      ["https://[::1]/client.json", /private or reserved/],
      ["https://localhost/client.json", /resolves to (127\.0\.0\.1|::1), a private or reserved address/],
    ] as const) {
      const res = await authorizeAs(o, clientId);
      expect(res.status, clientId).toBe(401);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toMatch(why);
    }
  });

  it("http client ids, and loopback ones, are refused without the development setting", async () => {
    const res = await authorizeAs(o, `${docBase}/client.json`);
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/must be https/);
    expect(hits.get("/client.json") ?? 0).toBe(0);
  });
});

describe("a metadata document on loopback (development setting)", () => {
  it("is fetched once, cached, and its client completes the flow", async () => {
    const clientId = `${docBase}/client.json`;
    const p = pkce();
    const first = await authorizeAs(dev, clientId, p);
    expect(first.headers.get("location")).toMatch(/consent\?request=ar_/);
    await authorizeAs(dev, clientId);
    expect(hits.get("/client.json")).toBe(1);
    const id = first.headers.get("location")!.split("request=")[1]!;
    const shown = (await (await fetch(`${dev.base}/console/api/oauth/requests/${id}`, { headers: { cookie: dev.cookie } })).json()) as { client: { name: string; via: string; redirectHost: string } };
    expect(shown.client).toEqual({ id: clientId, name: "Docs Client", via: "metadata_document", redirectHost: "127.0.0.1:7777" });
    const decided = await dev.decide(id, { approve: true });
    const code = new URL(decided.body.redirect as string).searchParams.get("code")!;
    const tokens = await dev.token({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: p.verifier });
    expect(tokens.status).toBe(200);
    expect(await dev.callsOk(tokens.body.access_token as string)).toBe(true);
  });

  it("refuses a document naming another client id, one over the size limit, a redirect, and a missing one", async () => {
    for (const [path, why] of [
      ["/impostor.json", /names another client_id/],
      ["/huge.json", /larger than 5120 bytes/],
      ["/moved.json", /HTTP 302 \(redirects are not followed\)/],
      ["/missing.json", /HTTP 404/],
    ] as const) {
      const res = await authorizeAs(dev, `${docBase}${path}`);
      expect(res.status, path).toBe(401);
      expect(await res.text()).toMatch(why);
    }
    expect(hits.get("/client.json")).toBe(1);
  });

  it("still refuses private addresses other than loopback", async () => {
    const res = await authorizeAs(dev, "http://10.0.0.7/client.json");
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/must be https/);
    const https = await authorizeAs(dev, "https://192.168.0.9/client.json");
    expect(await https.text()).toMatch(/private or reserved/);
  });
});
