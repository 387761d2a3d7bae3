/**
 * The console's token form over a gateway of two upstreams: the API offers the upstreams, refuses
 * unknown ones and callers without an admin credential, and a token created for one upstream
 * sees only its tools over MCP.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/app.js";
import { createAdminFileStore } from "../../src/console/admins.js";
import { resolveConfig } from "../../src/config.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { fixtureTools } from "../fixtures/tools/index.js";
import { startFixtureUpstream, type FixtureUpstream } from "../fixtures/upstream/server.mjs";
import { writeGeneratedTemp } from "../support/generated.js";

let upstream: FixtureUpstream;
let gateway: Gateway;
let http: HttpHandle;
let base: string;
let admin: string;

beforeAll(async () => {
  upstream = await startFixtureUpstream();
  const dataDir = mkdtempSync(join(tmpdir(), "cs-upstreams-console-"));
  const generated = writeGeneratedTemp(fixtureTools());
  const config = resolveConfig({
    env: { COUNTERSIGN_DATA_DIR: dataDir, LOG_LEVEL: "silent" },
    file: { upstreams: { alpha: { generated, url: upstream.url }, beta: { generated, url: upstream.url } } },
  });
  gateway = await createGateway(config);
  http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${http.port}`;
  admin = (await createAdminFileStore({ dir: dataDir }).create("alice")).credential;
});

afterAll(async () => {
  await http?.close();
  await gateway?.close();
  await upstream?.close();
});

const post = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${admin}` }) =>
  fetch(`${base}/console/api/tokens`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) });

describe("console tokens on a gateway of several upstreams", () => {
  it("offers the upstreams to the form", async () => {
    const res = await fetch(`${base}/console/api/modules`, { headers: { authorization: `Bearer ${admin}` } });
    const body = (await res.json()) as { upstreams: string[]; modules: { name: string }[] };
    expect(body.upstreams).toEqual(["alpha", "beta"]);
    expect(body.modules.every((m) => /^(alpha|beta)_/.test(m.name))).toBe(true);
  });

  it("refuses an unknown upstream, a malformed list, an empty one, and a caller without an admin credential", async () => {
    const unknown = await post({ name: "x", upstreams: ["beta", "gamma"] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toBe("upstreams: unknown upstream gamma (this gateway has alpha, beta)");
    expect((await post({ name: "x", upstreams: "beta" })).status).toBe(400);
    expect((await post({ name: "x", upstreams: [] })).status).toBe(400);
    expect((await post({ name: "x", upstreams: ["beta"] }, {})).status).toBe(401);
    const tokens = (await (await fetch(`${base}/console/api/tokens`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { tokens: unknown[] };
    expect(tokens.tokens).toHaveLength(0);
  });

  it("a token created for one upstream lists and calls only its tools", async () => {
    const res = await post({ name: "beta-bot", upstreams: ["beta"] });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { token: { upstreams: unknown }; secret: string };
    expect(created.token.upstreams).toEqual(["beta"]);
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${created.secret}` } } }));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names.some((n) => n.startsWith("beta_"))).toBe(true);
    expect(names.some((n) => n.startsWith("alpha_"))).toBe(false);
    const alpha = gateway.registry.tools.find((t) => t.name.startsWith("alpha_") && !t.policy.write)!;
    const refused = (await client.callTool({ name: alpha.name, arguments: {} })) as { isError?: boolean; content: { text: string }[] };
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toMatch(/outside this token's scope \(upstreams: beta\)/);
    await client.close();
  });
});
