/**
 * A real gateway on a real port with the OAuth endpoints, a signed-in console user, and the steps
 * of the authorization code flow as plain HTTP calls (the browser's part included), for the tests.
 */
import { createHash, randomBytes } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { createAdminFileStore } from "../../src/console/admins.js";
import type { Deps } from "../../src/gateway.js";

export const REDIRECT = "http://127.0.0.1:7777/callback";

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** A fresh PKCE pair (RFC 7636, S256). */
export function pkce(): Pkce {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export interface ConsoleSession {
  cookie: string;
  csrf: string;
}

export interface OAuthHarness {
  h: AppHarness;
  http: HttpHandle;
  base: string;
  /** Cookie and CSRF token of the signed-in console user. */
  cookie: string;
  csrf: string;
  /** Signs in another console user (created beforehand): their cookie and CSRF token. */
  signIn(name: string): Promise<ConsoleSession>;
  /** A console API call as `who` (the signed-in admin alice by default). */
  consoleApi(method: string, path: string, body?: unknown, who?: ConsoleSession): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Moves the gateway's clock forward. */
  advance(ms: number): void;
  register(meta?: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }>;
  /** GET /oauth/authorize without following the redirect. */
  authorize(params: Record<string, string>): Promise<Response>;
  /** The console user's decision on a held request: the redirect URL the API answers. */
  decide(requestId: string, decision: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }>;
  token(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Registration, authorization, consent and code exchange in one: the token response and the client. */
  connect(decision?: Record<string, unknown>): Promise<{ clientId: string; tokens: Record<string, string>; code: string; pkce: Pkce }>;
  /** An MCP client calling with `token` as its bearer. */
  agent(token: string): Promise<Client>;
  /** One tools/call of get_item through an MCP client: whether it ran. */
  callsOk(token: string): Promise<boolean>;
  /** A raw tools/call with `token` (for 401s). */
  rawCall(token: string, name?: string): Promise<Response>;
  close(): Promise<void>;
}

/** Starts the harness; `env` adds configuration. */
export async function startOAuthHarness(env: Record<string, string> = {}, overrides: Partial<Deps> = {}): Promise<OAuthHarness> {
  let skew = 0;
  // Every test talks from 127.0.0.1: the per-address limit is tested on its own.
  const h = await startAppHarness({ env: { COUNTERSIGN_OAUTH_IP_REQUESTS_PER_MINUTE: "100000", ...env }, overrides: { now: () => Date.now() + skew, ...overrides } });
  const http = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${http.port}`;
  const admins = createAdminFileStore({ dir: h.gateway.deps.config.dataDir });
  await admins.create("alice");
  async function signIn(name: string): Promise<ConsoleSession> {
    const { secret } = await admins.createLink(name);
    const signin = await fetch(`${base}/console/signin?t=${secret}`, { redirect: "manual" });
    const cookie = (signin.headers.get("set-cookie") ?? "").split(";")[0]!;
    const { csrf } = (await (await fetch(`${base}/console/api/session`, { headers: { cookie } })).json()) as { csrf: string };
    return { cookie, csrf };
  }
  const session = await signIn("alice");
  const cookie = session.cookie;

  async function json(res: Response) {
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const self: OAuthHarness = {
    h,
    http,
    base,
    cookie,
    csrf: session.csrf,
    signIn,
    async consoleApi(method, path, body, who = session) {
      const headers: Record<string, string> = { cookie: who.cookie, "x-csrf-token": who.csrf };
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${base}/console/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return json(res);
    },
    advance(ms) {
      skew += ms;
    },
    async register(meta = { client_name: "Test Client", redirect_uris: [REDIRECT] }) {
      return json(await fetch(`${base}/oauth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(meta) }));
    },
    authorize(params) {
      return fetch(`${base}/oauth/authorize?${new URLSearchParams(params)}`, { redirect: "manual" });
    },
    async decide(requestId, decision) {
      return json(await fetch(`${base}/console/api/oauth/requests/${requestId}/decision`, { method: "POST", headers: { cookie, "x-csrf-token": session.csrf, "content-type": "application/json" }, body: JSON.stringify(decision) }));
    },
    async token(form) {
      return json(await fetch(`${base}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() }));
    },
    async connect(decision = { approve: true }) {
      const reg = await self.register();
      const clientId = reg.body.client_id as string;
      const p = pkce();
      const res = await self.authorize({ response_type: "code", client_id: clientId, redirect_uri: REDIRECT, code_challenge: p.challenge, code_challenge_method: "S256", state: "s1", resource: `${base}/mcp` });
      const requestId = new URL(res.headers.get("location")!, base).hash.split("request=")[1]!;
      const decided = await self.decide(requestId, decision);
      const code = new URL(decided.body.redirect as string).searchParams.get("code")!;
      const tokens = await self.token({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: p.verifier });
      if (tokens.status !== 200) throw new Error(`token exchange failed: ${JSON.stringify(tokens.body)}`);
      return { clientId, tokens: tokens.body as Record<string, string>, code, pkce: p };
    },
    async agent(token) {
      const client = new Client({ name: "oauth-test-agent", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      return client;
    },
    async callsOk(token) {
      const client = await self.agent(token);
      try {
        return !(await client.callTool({ name: "get_item", arguments: { item_id: "7" } })).isError;
      } finally {
        await client.close();
      }
    },
    rawCall(token, name = "get_item") {
      return fetch(`${base}/mcp`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: { item_id: "7" } } }),
      });
    },
    async close() {
      await http.close();
      await h.close();
    },
  };
  return self;
}
