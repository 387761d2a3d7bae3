/**
 * The SDK client's own OAuth support, end to end: it meets the 401, discovers the metadata,
 * registers, sends the person to /authorize (the consent is given through the console API, as the
 * page would), exchanges the code with its PKCE verifier and calls tools with the access token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { REDIRECT, startOAuthHarness, type OAuthHarness } from "./oauth-harness.js";
import { MemoryOAuthProvider } from "./sdk-provider.js";

let o: OAuthHarness;
beforeAll(async () => {
  o = await startOAuthHarness();
});
afterAll(async () => {
  await o?.close();
});

describe("the SDK client's OAuth provider", () => {
  it("registers, is authorized after consent, calls within the consented scope, and refreshes on its own", async () => {
    let authorizeUrl: URL | undefined;
    const provider = new MemoryOAuthProvider(REDIRECT, (url) => void (authorizeUrl = url));
    const mcp = new URL(`${o.base}/mcp`);
    const first = new StreamableHTTPClientTransport(mcp, { authProvider: provider });
    await expect(new Client({ name: "sdk-oauth", version: "1" }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.info?.client_id).toMatch(/^oc_/);
    expect(authorizeUrl?.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorizeUrl?.searchParams.get("resource")).toBe(`${o.base}/mcp`);

    // The browser step: the authorization URL leads to the consent page; the person allows one module.
    const held = await fetch(authorizeUrl!, { redirect: "manual" });
    const requestId = held.headers.get("location")!.split("request=")[1]!;
    const decided = await o.decide(requestId, { approve: true, modules: ["items"] });
    const back = new URL(decided.body.redirect as string);
    expect(back.searchParams.get("state")).toBe(authorizeUrl!.searchParams.get("state"));
    expect(back.searchParams.get("iss")).toBe(o.base);
    await first.finishAuth(back.searchParams.get("code")!);
    expect(provider.saved?.access_token).toMatch(/^cso_/);

    const client = new Client({ name: "sdk-oauth", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(mcp, { authProvider: provider }));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("get_item");
    expect(names).not.toContain("get_status");
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "7" } })).isError).toBeFalsy();
    const outside = await client.callTool({ name: "get_status", arguments: { code: 200 } });
    expect(outside.structuredContent).toMatchObject({ error: { code: "forbidden" } });
    await client.close();

    // An hour later the access token has expired: the client refreshes it without the person.
    const before = provider.saved!;
    o.advance(3_600_000 + 1000);
    const later = new Client({ name: "sdk-oauth", version: "1" });
    await later.connect(new StreamableHTTPClientTransport(mcp, { authProvider: provider }));
    expect((await later.callTool({ name: "get_item", arguments: { item_id: "7" } })).isError).toBeFalsy();
    expect(provider.saved!.access_token).not.toBe(before.access_token);
    expect(provider.saved!.refresh_token).not.toBe(before.refresh_token);
    await later.close();
  });
});
