/**
 * The SDK client's own OAuth support, end to end, in both generations (1.x and the 2.x client
 * package): it meets the 401, discovers the metadata,
 * registers, sends the person to /authorize (the consent is given through the console API, as the
 * page would), exchanges the code with its PKCE verifier and calls tools with the access token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { REDIRECT, startOAuthHarness, type OAuthHarness } from "./oauth-harness.js";
import { MemoryOAuthProvider } from "./sdk-provider.js";
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport, UnauthorizedError as V2Unauthorized } from "@modelcontextprotocol/client";

let o: OAuthHarness;
beforeAll(async () => {
  o = await startOAuthHarness();
});
afterAll(async () => {
  await o?.close();
});

/** The part of either generation's Client this test uses. */
interface AnyClient {
  listTools(): Promise<{ tools: { name: string }[] }>;
  callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** What both generations of the SDK client offer for this flow. */
interface Generation {
  name: string;
  connect(provider: MemoryOAuthProvider): Promise<{ transport: { finishAuth(code: string): Promise<void> }; client: AnyClient }>;
  unauthorized: new (...args: never[]) => Error;
}

const GENERATIONS: Generation[] = [
  {
    name: "1.x (@modelcontextprotocol/sdk)",
    async connect(provider) {
      const transport = new StreamableHTTPClientTransport(new URL(`${o.base}/mcp`), { authProvider: provider });
      const client = new Client({ name: "sdk-oauth", version: "1" });
      await client.connect(transport);
      return { transport, client: client as unknown as AnyClient };
    },
    unauthorized: UnauthorizedError,
  },
  {
    name: "2.x (@modelcontextprotocol/client)",
    async connect(provider) {
      const transport = new V2Transport(new URL(`${o.base}/mcp`), { authProvider: provider as never });
      const client = new V2Client({ name: "sdk-oauth-v2", version: "1" });
      await client.connect(transport);
      return { transport, client: client as unknown as AnyClient };
    },
    unauthorized: V2Unauthorized,
  },
];

describe.each(GENERATIONS)("the SDK client's OAuth provider, $name", (gen) => {
  it("registers, is authorized after consent, calls within the consented scope, and refreshes on its own", async () => {
    let authorizeUrl: URL | undefined;
    let pending: { finishAuth(code: string): Promise<void> } | undefined;
    const provider = new MemoryOAuthProvider(REDIRECT, (url) => void (authorizeUrl = url), `SDK ${gen.name}`);
    // The first connect meets the 401, registers and hands the authorization URL to the provider.
    const first = gen.connect(provider).then((c) => (pending = c.transport));
    await expect(first).rejects.toBeInstanceOf(gen.unauthorized);
    expect(provider.info?.client_id).toMatch(/^oc_/);
    expect(authorizeUrl?.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorizeUrl?.searchParams.get("resource")).toBe(`${o.base}/mcp`);
    expect(pending).toBeUndefined();

    // The browser step: the authorization URL leads to the consent page; the person allows one module.
    const held = await fetch(authorizeUrl!, { redirect: "manual" });
    const requestId = held.headers.get("location")!.split("request=")[1]!;
    const decided = await o.decide(requestId, { approve: true, modules: ["items"] });
    const back = new URL(decided.body.redirect as string);
    expect(back.searchParams.get("state")).toBe(authorizeUrl!.searchParams.get("state"));
    expect(back.searchParams.get("iss")).toBe(o.base);
    await finishAuth(gen, provider, back.searchParams);
    expect(provider.saved?.access_token).toMatch(/^cso_/);

    const { client } = await gen.connect(provider);
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
    const later = (await gen.connect(provider)).client;
    expect((await later.callTool({ name: "get_item", arguments: { item_id: "7" } })).isError).toBeFalsy();
    expect(provider.saved!.access_token).not.toBe(before.access_token);
    expect(provider.saved!.refresh_token).not.toBe(before.refresh_token);
    await later.close();
  });
});

/** Exchanges the code the way an application does, on a transport of its generation (2.x checks `iss`, RFC 9207). */
async function finishAuth(gen: Generation, provider: MemoryOAuthProvider, callback: URLSearchParams): Promise<void> {
  const url = new URL(`${o.base}/mcp`);
  if (gen === GENERATIONS[0]) return new StreamableHTTPClientTransport(url, { authProvider: provider }).finishAuth(callback.get("code")!);
  return new V2Transport(url, { authProvider: provider as never }).finishAuth(callback);
}
