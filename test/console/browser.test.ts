/**
 * The console in a real browser: Debian's Chromium driven by playwright-core, against a real
 * gateway on a real port. Screenshots of every page go to test-results/screenshots/console/, or to
 * docs/console/ under `make screenshots`.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startAppHarness, type AppHarness } from "../app-harness.js";
import { startHttpServer, type HttpHandle } from "../../src/transports/http/index.js";
import { createAdminFileStore, type AdminStore } from "../../src/console/admins.js";
import { repoRoot } from "../../src/console/server.js";
import { screenshots, steadyClock } from "../support/screenshots.js";

const ROOT = repoRoot();
const shotPath = screenshots("console");
const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let h: AppHarness;
let http: HttpHandle;
let base: string;
let admins: AdminStore;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const dialogs: string[] = [];

async function agent(token: string): Promise<Client> {
  const client = new Client({ name: "browser-test-agent", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

async function shot(name: string, p: Page = page): Promise<void> {
  await p.screenshot({ path: shotPath(name), fullPage: true });
}

/** Under `make screenshots`, puts the real clock back once the test is done. */
let realClock: (() => void) | undefined;

beforeAll(async () => {
  realClock = steadyClock();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run make install (it installs Debian's chromium)`);
  // The built UI is what the gateway serves; build it unless the caller already did (make test).
  if (process.env.COUNTERSIGN_SKIP_BUILD !== "1" || !existsSync(join(ROOT, "dist", "console", "index.html"))) {
    execFileSync(join(ROOT, "node_modules", ".bin", "vite"), ["build", "--config", "console/vite.config.ts", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
  }
  h = await startAppHarness();
  http = await startHttpServer(h.gateway, { port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${http.port}`;
  admins = createAdminFileStore({ dir: h.gateway.deps.config.dataDir });
  await admins.create("alice");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "Europe/Paris", locale: "en-GB" });
  page = await context.newPage();
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await h?.close();
  realClock?.();
});

describe("console in Chromium", () => {
  it("signs in with a one-time link; a second use of the link is refused", async () => {
    const { secret } = await admins.createLink("alice");
    const link = `${base}/console/signin?t=${secret}`;
    await page.goto(link);
    await page.getByText("Signed in as").waitFor();
    expect(await page.locator(".who strong").textContent()).toBe("alice");
    expect(await page.locator("#boot").count()).toBe(0); // the static loading line is gone once the page renders
    await page.getByRole("heading", { name: "Tokens" }).waitFor();

    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const second = await other.newPage();
    await second.goto(link);
    await second.getByRole("alert").waitFor();
    expect(await second.getByRole("alert").textContent()).toMatch(/already used or has expired/);
    expect(await second.getByText("Signed in as").count()).toBe(0);
    await shot("signin-refused", second);
    await other.close();
  });

  it("creates a token whose shown secret works from the SDK client, then revokes it and the client gets 401", async () => {
    await page.goto(`${base}/console/#/tokens`);
    await page.getByRole("button", { name: "New token" }).click();
    await page.getByLabel("Name").fill("laptop claude");
    await page.getByLabel("All modules").uncheck();
    await page.getByRole("checkbox", { name: /^items/ }).check();
    await page.getByLabel("Expires after").selectOption("30d");
    await shot("tokens-create");
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = (await page.getByTestId("secret").textContent())!.trim();
    expect(secret).toMatch(/^csk_/);
    expect(await page.locator('[data-snippet="claude-desktop"]').textContent()).toContain(secret);
    await shot("tokens-created");

    const client = await agent(secret);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain("get_item");
    expect(tools).not.toContain("create_charge");

    await page.getByRole("button", { name: "Done, I stored it" }).click();
    const row = page.locator("tr", { hasText: "laptop claude" });
    await row.getByRole("button", { name: "Revoke laptop claude" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke token" }).click();
    await row.getByText("revoked").waitFor();
    await shot("tokens");
    await expect(client.listTools()).rejects.toThrow(/401|revoked/i);
    await client.close().catch(() => undefined);
  });

  it("shows an agent's call in Activity within a second, with markup in its arguments as text", async () => {
    await page.goto(`${base}/console/#/activity`);
    await page.getByText("● Live").waitFor();
    const client = await agent(h.token);
    const hostile = `<img src=x onerror=alert(1)> and </script><script>alert(2)</script>`;
    const started = Date.now();
    await client.callTool({ name: "search_items", arguments: { q: hostile } });
    const row = page.locator("tr", { hasText: "search_items" }).first();
    await row.waitFor({ timeout: 5000 });
    const latency = Date.now() - started;
    expect(latency).toBeLessThan(1000);
    await row.getByRole("button", { name: /Details of search_items/ }).click();
    const args = page.getByTestId("detail-args");
    await args.waitFor();
    expect(await args.textContent()).toContain("<img src=x onerror=alert(1)>");
    expect(await args.textContent()).toContain("</script>");
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.locator("main script").count()).toBe(0);
    expect(dialogs).toEqual([]);
    await shot("activity");
    await client.close();
  });

  it("shows the newest 50 calls first and older ones on request", async () => {
    for (let i = 0; i < 60; i++) {
      await h.gateway.deps.auditSink.write({ ts: new Date().toISOString(), requestId: `bulk-${i}`, transport: "http", tokenId: "tok_test2", subject: "tester-2", tool: "bulk_tool", outcome: "ok", durationMs: 1 });
    }
    await page.goto(`${base}/console/#/activity?tool=bulk_tool`);
    const rows = page.locator("table.timeline tbody tr");
    await rows.first().waitFor();
    expect(await rows.count()).toBe(50);
    await page.getByRole("button", { name: "Show older calls" }).click();
    await page.waitForFunction(() => document.querySelectorAll("table.timeline tbody tr").length === 60);
    expect(await page.getByRole("button", { name: "Show older calls" }).count()).toBe(0);
  });

  it("shows one token's timeline from the Tokens page", async () => {
    await page.goto(`${base}/console/#/tokens`);
    await page.locator("tr", { hasText: "tok_test1" }).getByRole("link", { name: "Activity" }).click();
    await page.getByRole("heading", { name: /Activity of tester-1/ }).waitFor();
    await page.locator("tr", { hasText: "search_items" }).first().waitFor();
    expect(await page.locator("tbody tr", { hasText: "console." }).count()).toBe(0);
  });

  it("analytics reflect a burst of calls", async () => {
    const client = await agent(h.otherToken);
    const burst = 25;
    for (let i = 0; i < burst; i++) await client.callTool({ name: "get_item", arguments: { item_id: String(i) } });
    await page.goto(`${base}/console/#/analytics`);
    const total = page.getByTestId("total-calls");
    await total.waitFor();
    expect(Number(await total.textContent())).toBeGreaterThanOrEqual(burst);
    await page.locator(".uplot").waitFor();
    expect(await page.locator(".bars li", { hasText: "get_item" }).count()).toBe(1);
    await shot("analytics");
    await client.close();
  });

  it("the tools catalog is searchable and says why a tool is excluded", async () => {
    await page.goto(`${base}/console/#/tools`);
    await page.getByRole("heading", { name: /^items/ }).waitFor();
    await shot("tools");
    await page.getByLabel("Search tools").fill("charge");
    await page.getByRole("status").filter({ hasText: /tools?$/ }).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    expect(await page.locator("tbody tr").first().textContent()).toContain("create_charge");
  });

  it("pending actions across tokens show their preview", async () => {
    const client = await agent(h.token);
    const answer = await client.callTool({ name: "create_item", arguments: { project_id: 1, name: "from the agent" } });
    expect(JSON.stringify(answer)).toContain("confirm");
    const listed = await fetch(`${base}/console/api/pending`, { headers: { cookie: (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ") } });
    expect(((await listed.json()) as { actions: unknown[] }).actions.length).toBeGreaterThan(0);
    await page.goto(`${base}/console/#/pending`);
    await page.locator("article.pending").first().waitFor();
    const text = await page.locator("article.pending").first().textContent();
    expect(text).toContain("POST");
    expect(text).toContain("tester-1");
    await shot("pending");
    await client.close();
  });

  it("a cross-site form post to a console mutation is refused", async () => {
    const before = (await h.gateway.deps.tokens.list()).length;
    // Another origin (localhost vs 127.0.0.1 are different sites) serving a self-submitting form.
    const evil: Server = createServer((_req, res) => {
      res.setHeader("content-type", "text/html");
      res.end(`<form id=f method=POST action="${base}/console/api/tokens" enctype="text/plain"><input name='{"name":"evil","x":"' value='"}'></form><script>document.getElementById("f").submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));
    const port = (evil.address() as { port: number }).port;
    try {
      const response = page.waitForResponse((r) => r.url().endsWith("/console/api/tokens") && r.request().method() === "POST");
      await page.goto(`http://localhost:${port}/`);
      expect((await response).status()).toBe(403);
    } finally {
      evil.close();
    }
    expect((await h.gateway.deps.tokens.list()).length).toBe(before);
  });

  it("an agent token is refused by every console API route, from the page too", async () => {
    await page.goto(`${base}/console/#/tokens`);
    const statuses = await page.evaluate(async (token) => {
      const routes = [["GET", "/session"], ["POST", "/signout"], ["GET", "/modules"], ["GET", "/tokens"], ["POST", "/tokens"], ["POST", "/tokens/tok_test1/revoke"], ["GET", "/activity"], ["GET", "/activity/0"], ["GET", "/analytics"], ["GET", "/tools"], ["GET", "/pending"], ["GET", "/events"]];
      const out: number[] = [];
      for (const [method, path] of routes) {
        const res = await fetch(`/console/api${path}`, { method, headers: { authorization: `Bearer ${token}` }, credentials: "omit" });
        out.push(res.status);
      }
      return out;
    }, h.token);
    expect(statuses).toEqual(new Array(12).fill(401));
  });

  it("is readable at phone width", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, storageState: await context.storageState() });
    const p = await phone.newPage();
    await p.goto(`${base}/console/#/tokens`);
    await p.getByRole("heading", { name: "Tokens" }).waitFor();
    await shot("tokens-phone", p);
    const wide = await p.evaluate(() => [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.closest(".table-wrap, nav")).map((e) => e.tagName + "." + e.className));
    expect(wide).toEqual([]);
    await phone.close();
  });

  it("signs out: the sign-in page says so and the API answers 401 afterwards", async () => {
    await page.goto(`${base}/console/#/tokens`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You are signed out.").waitFor();
    const status = await page.evaluate(async () => (await fetch("/console/api/tokens")).status);
    expect(status).toBe(401);
  });
});
