/**
 * The console in Chromium on a gateway of two upstreams: the token form's Upstreams choice mints a
 * token that sees one upstream's tools only; Activity shows and filters by upstream; Analytics
 * breaks calls down per upstream. Screenshots go to test-results/screenshots/upstreams/, or to
 * docs/upstreams/ under `make screenshots`.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/app.js";
import { createAdminFileStore, type AdminStore } from "../../src/console/admins.js";
import { repoRoot } from "../../src/console/server.js";
import { resolveConfig } from "../../src/config.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { fixtureTools } from "../fixtures/tools/index.js";
import { startFixtureUpstream, type FixtureUpstream } from "../fixtures/upstream/server.mjs";
import { writeGeneratedTemp } from "../support/generated.js";
import { screenshots, steadyClock } from "../support/screenshots.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";

const CHROMIUM = "/usr/bin/chromium";
const shotPath = screenshots("upstreams");
let upstream: FixtureUpstream;
let gateway: Gateway;
let http: HttpHandle;
let base: string;
let admins: AdminStore;
let browser: Browser;

/** Under `make screenshots`, puts the real clock back once the test is done. */
let realClock: (() => void) | undefined;

beforeAll(async () => {
  realClock = steadyClock();
  if (!existsSync(join(repoRoot(), "dist", "console", "index.html"))) throw new Error("dist/console is missing: run make build");
  upstream = await startFixtureUpstream();
  const dataDir = mkdtempSync(join(tmpdir(), "cs-upstreams-console-ui-"));
  const generated = writeGeneratedTemp(fixtureTools());
  gateway = await createGateway(resolveConfig({ env: { COUNTERSIGN_DATA_DIR: dataDir, LOG_LEVEL: "silent" }, file: { upstreams: { alpha: { generated, url: upstream.url }, beta: { generated, url: upstream.url, rateLimits: { normal: 3 } } } } }));
  http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${http.port}`;
  admins = createAdminFileStore({ dir: dataDir });
  await admins.create("alice");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"], headless: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await gateway?.close();
  await upstream?.close();
  realClock?.();
});

describe("console token form with upstreams", () => {
  it("mints a token for the upstream picked, which lists only that upstream's tools", async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const { secret: link } = await admins.createLink("alice");
    await page.goto(`${base}/console/signin?t=${link}`);
    await page.getByRole("heading", { name: "Tokens" }).waitFor();
    await page.getByRole("button", { name: "New token" }).click();
    await page.getByLabel("Name").fill("beta bot");
    await page.getByLabel("All upstreams").uncheck();
    await page.getByRole("checkbox", { name: "beta", exact: true }).check();
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = (await page.getByTestId("secret").textContent())!.trim();
    expect(secret).toMatch(/^csk_/);
    await page.getByRole("button", { name: "Done, I stored it" }).click();
    await page.locator("tr", { hasText: "beta bot" }).getByText("upstreams beta").waitFor();

    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names.some((n) => n.startsWith("beta_"))).toBe(true);
    expect(names.some((n) => n.startsWith("alpha_"))).toBe(false);
    await client.close();
  });
});

describe("console by upstream", () => {
  it("Activity shows each call's upstream and filters by one; Analytics breaks calls down per upstream", async () => {
    const secret = mintToken();
    await gateway.deps.tokens.create({ id: "tok_shots", hash: hashToken(secret), name: "release-bot", modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() });
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp?mode=all`), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
    for (let i = 0; i < 4; i++) await client.callTool({ name: "alpha_get_item", arguments: { item_id: `a${i}` } });
    await client.callTool({ name: "alpha_search_items", arguments: { q: "open" } }).catch(() => undefined);
    // Beta allows three calls a minute: the fourth is refused on beta's budget alone.
    for (let i = 0; i < 4; i++) await client.callTool({ name: "beta_get_item", arguments: { item_id: `b${i}` } }).catch(() => undefined);
    await client.callTool({ name: "search_tools", arguments: { query: "item" } });
    await client.close();

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const { secret: link } = await admins.createLink("alice");
    await page.goto(`${base}/console/signin?t=${link}`);
    await page.getByRole("heading", { name: "Tokens" }).waitFor();
    await page.goto(`${base}/console/#/activity`);
    await page.getByRole("columnheader", { name: "Upstream" }).waitFor();
    const cells = () => page.locator("table.timeline tbody td[data-label='Upstream']").allTextContents();
    await page.waitForFunction(() => document.querySelectorAll("table.timeline tbody tr").length >= 10);
    expect(new Set(await cells())).toEqual(new Set(["alpha", "beta", "gateway"]));
    await page.getByLabel("Upstream").selectOption("beta");
    await page.waitForFunction(() => [...document.querySelectorAll("table.timeline tbody td[data-label='Upstream']")].every((td) => td.textContent === "beta"));
    expect(await cells()).toEqual(["beta", "beta", "beta", "beta"]);
    await page.locator("tr", { hasText: "rate_limited" }).first().waitFor();
    expect(page.url()).toContain("upstream=beta");
    await page.screenshot({ path: shotPath("activity"), fullPage: true });

    await page.goto(`${base}/console/#/analytics`);
    await page.getByRole("heading", { name: "Per upstream" }).waitFor();
    const row = (u: string) => page.locator(`table.per-upstream tr[data-upstream='${u}'] td`).allTextContents();
    expect((await row("alpha"))[0]).toBe("5");
    expect((await row("beta"))[0]).toBe("4");
    expect((await row("beta"))[3]).toMatch(/^1 \(25/);
    expect((await row(""))[0]).toBe("1");
    await page.screenshot({ path: shotPath("analytics"), fullPage: true });
    // A row's link opens Activity filtered to that upstream.
    await page.getByRole("link", { name: "alpha", exact: true }).click();
    await page.waitForFunction(() => [...document.querySelectorAll("table.timeline tbody td[data-label='Upstream']")].every((td) => td.textContent === "alpha"));
    expect(await page.getByLabel("Upstream").inputValue()).toBe("alpha");
  });
});
