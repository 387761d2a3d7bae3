/**
 * The console API by upstream on a gateway of two: Activity filters by `upstream` (checked: an
 * unknown or repeated one is a 400 naming it), entries and pending actions carry their upstream,
 * Analytics breaks calls down per upstream; members and callers without a credential get nothing.
 * A lone API refuses the parameter and shows no breakdown.
 */
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/app.js";
import { createAdminFileStore } from "../../src/console/admins.js";
import { createMemoryIndex } from "../../src/console/audit-feed.js";
import { createSqliteIndex } from "../../src/console/audit-index-sqlite.js";
import type { AuditRecord } from "../../src/context.js";
import { resolveConfig } from "../../src/config.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { fixtureTools } from "../fixtures/tools/index.js";
import { startFixtureUpstream, type FixtureUpstream } from "../fixtures/upstream/server.mjs";
import { writeGeneratedTemp } from "../support/generated.js";

let upstream: FixtureUpstream;
const open: { gateway: Gateway; http: HttpHandle }[] = [];

async function startGateway(file: Record<string, unknown>, env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "cs-upstreams-activity-"));
  const gateway = await createGateway(resolveConfig({ env: { COUNTERSIGN_DATA_DIR: dataDir, LOG_LEVEL: "silent", ...env }, file }));
  const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  open.push({ gateway, http });
  const admins = createAdminFileStore({ dir: dataDir });
  const admin = (await admins.create("alice")).credential;
  const member = (await admins.create("bob", { modules: "all", readOnly: true, maxExpiryDays: 1 })).credential;
  const base = `http://127.0.0.1:${http.port}`;
  // `null`: no credential at all.
  const get = (path: string, credential: string | null = admin) => fetch(`${base}/console/api${path}`, { headers: credential ? { authorization: `Bearer ${credential}` } : {} });
  return { gateway, base, admin, member, get };
}

beforeAll(async () => {
  upstream = await startFixtureUpstream();
});

afterAll(async () => {
  for (const { gateway, http } of open) {
    await http.close();
    await gateway.close();
  }
  await upstream?.close();
});

type Entry = { tool: string; upstream?: string; outcome: string | null };
const message = async (res: Response) => ((await res.json()) as { error: { message: string } }).error.message;

describe("the console API by upstream", () => {
  let g: Awaited<ReturnType<typeof startGateway>>;
  let secret: string;

  beforeAll(async () => {
    const generated = writeGeneratedTemp(fixtureTools());
    // Beta allows two calls a minute: the third is refused, and its refusal names beta.
    g = await startGateway({ upstreams: { alpha: { generated, url: upstream.url }, beta: { generated, url: upstream.url, rateLimits: { normal: 2 } } } });
    const created = await fetch(`${g.base}/console/api/tokens`, { method: "POST", headers: { authorization: `Bearer ${g.admin}`, "content-type": "application/json" }, body: JSON.stringify({ name: "agent" }) });
    secret = ((await created.json()) as { secret: string }).secret;
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${g.base}/mcp?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
    for (let i = 0; i < 2; i++) await client.callTool({ name: "alpha_get_item", arguments: { item_id: "a1" } });
    for (let i = 0; i < 3; i++) await client.callTool({ name: "beta_get_item", arguments: { item_id: "b1" } }).catch(() => undefined);
    await client.callTool({ name: "list_pending_actions", arguments: {} });
    await client.close();
  });

  it("filters Activity by upstream, and every entry names its own", async () => {
    const all = (await (await g.get("/activity")).json()) as { entries: Entry[]; upstreams: string[] };
    expect(all.upstreams).toEqual(["alpha", "beta"]);
    const beta = (await (await g.get("/activity?upstream=beta")).json()) as { entries: Entry[] };
    expect(beta.entries.map((e) => [e.tool, e.outcome])).toEqual([
      ["beta_get_item", "rate_limited"],
      ["beta_get_item", "ok"],
      ["beta_get_item", "ok"],
    ]);
    expect(beta.entries.every((e) => e.upstream === "beta")).toBe(true);
    const alpha = (await (await g.get("/activity?upstream=alpha")).json()) as { entries: Entry[] };
    expect(alpha.entries.map((e) => e.tool)).toEqual(["alpha_get_item", "alpha_get_item"]);
    // The gateway's own tool has no upstream.
    expect(all.entries.find((e) => e.tool === "list_pending_actions")?.upstream).toBeUndefined();
  });

  it("refuses an unknown, empty-named or repeated upstream with a 400 naming it, on the list and the event stream", async () => {
    const unknown = await g.get("/activity?upstream=gamma");
    expect(unknown.status).toBe(400);
    expect(await message(unknown)).toBe("upstream: unknown upstream 'gamma' (this gateway has alpha, beta)");
    const twice = await g.get("/activity?upstream=alpha&upstream=beta");
    expect(twice.status).toBe(400);
    expect(await message(twice)).toBe("upstream must be given once (one upstream name)");
    const stream = await g.get("/events?upstream=Alpha");
    expect(stream.status).toBe(400);
    expect(await message(stream)).toMatch(/unknown upstream 'Alpha'/);
  });

  it("breaks Analytics down per upstream, the gateway's own tools apart", async () => {
    const a = (await (await g.get("/analytics?range=hour")).json()) as { upstreams: { upstream: string; calls: number; errors: number; rateLimited: number }[] };
    expect(a.upstreams).toEqual([
      { upstream: "beta", calls: 3, errors: 0, rateLimited: 1 },
      { upstream: "alpha", calls: 2, errors: 0, rateLimited: 0 },
      { upstream: "", calls: 1, errors: 0, rateLimited: 0 },
    ]);
  });

  it("gives a member and a caller without a credential nothing by upstream, and never with an agent's token", async () => {
    for (const path of ["/activity?upstream=alpha", "/analytics", "/pending"]) {
      expect((await g.get(path, g.member)).status).toBe(403);
      expect((await g.get(path, null)).status).toBe(401);
      expect((await g.get(path, secret)).status).toBe(401);
    }
  });

  it("shows the upstream of a pending action", async () => {
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${g.base}/mcp?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
    const preview = (await client.callTool({ name: "alpha_create_item", arguments: { project_id: 1, name: "x" } })) as { content: { text: string }[] };
    expect(preview.content[0]!.text).toMatch(/PENDING CONFIRMATION/);
    await client.close();
    const pending = (await (await g.get("/pending")).json()) as { actions: { tool: string; upstream?: string }[] };
    expect(pending.actions.length).toBeGreaterThan(0);
    expect(pending.actions.every((p) => p.upstream === "alpha" && p.tool.startsWith("alpha_"))).toBe(true);
  });
});

describe("the console API of a lone API", () => {
  it("refuses the upstream filter (there is none) and breaks nothing down", async () => {
    const g = await startGateway({}, { COUNTERSIGN_GENERATED_DIR: writeGeneratedTemp(fixtureTools()), COUNTERSIGN_UPSTREAM_URL: upstream.url });
    const res = await g.get("/activity?upstream=alpha");
    expect(res.status).toBe(400);
    expect(await message(res)).toBe("upstream: this gateway serves one API (no upstreams: in its configuration), so there is no upstream 'alpha'");
    expect(((await (await g.get("/activity")).json()) as { upstreams: string[] }).upstreams).toEqual([]);
    expect(((await (await g.get("/analytics")).json()) as { upstreams: unknown[] }).upstreams).toEqual([]);
  });
});

describe("the audit indexes by upstream", () => {
  const at = Date.now() - 1000;
  const rec = (i: number, upstream?: string): AuditRecord => ({ ts: new Date(at + i).toISOString(), requestId: `r${i}`, transport: "http", tokenId: "tok_1", tool: upstream ? `${upstream}_get_item` : "search_tools", ...(upstream ? { upstream } : {}), outcome: i % 3 === 0 ? "rate_limited" : "ok", durationMs: 2 });
  const sample = [rec(0, "alpha"), rec(1, "beta"), rec(2, "alpha"), rec(3), rec(4, "beta"), rec(5, "alpha")];

  it("memory and SQLite answer the same filter and breakdown", () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-upstreams-index-"));
    for (const index of [createMemoryIndex(), createSqliteIndex({ file: join(dir, "index.sqlite") })]) {
      for (const r of sample) index.add(r);
      expect(index.query({ upstream: "alpha" }).map((e) => e.record.requestId)).toEqual(["r5", "r2", "r0"]);
      expect(index.query({ upstream: "alpha", outcome: "rate_limited" }).map((e) => e.record.requestId)).toEqual(["r0"]);
      expect(index.query({ upstream: "beta" }).map((e) => e.record.requestId)).toEqual(["r4", "r1"]);
      const byUpstream = Object.fromEntries(index.analytics("hour", Date.now()).upstreams.map((u) => [u.upstream, u]));
      expect(byUpstream).toEqual({
        alpha: { upstream: "alpha", calls: 3, errors: 0, rateLimited: 1 },
        beta: { upstream: "beta", calls: 2, errors: 0, rateLimited: 0 },
        "": { upstream: "", calls: 1, errors: 0, rateLimited: 1 },
      });
      index.close();
    }
  });

  it("an index file written before upstreams gets the column, filled from its records", () => {
    const file = join(mkdtempSync(join(tmpdir(), "cs-upstreams-index-old-")), "index.sqlite");
    const Database = createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
    const old = new Database(file);
    old.exec("CREATE TABLE calls (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, token TEXT, tool TEXT, module TEXT, outcome TEXT, record TEXT NOT NULL)");
    const insert = old.prepare("INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?, ?)");
    sample.forEach((r, i) => insert.run(i, Date.parse(r.ts), r.tokenId, r.tool, null, r.outcome, JSON.stringify(r)));
    old.close();
    const index = createSqliteIndex({ file });
    expect(index.query({ upstream: "beta" }).map((e) => e.record.requestId)).toEqual(["r4", "r1"]);
    index.add(rec(6, "beta"));
    expect(index.query({ upstream: "beta" }).map((e) => e.record.requestId)).toEqual(["r6", "r4", "r1"]);
    index.close();
  });
});
