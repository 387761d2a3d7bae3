/**
 * mcp-remote's OAuth flow, headless, with the person's part in real Chromium: mcp-remote meets the
 * 401, registers and prints the authorization URL; the browser (signed in to the console) opens it,
 * narrows the consent to one module on the consent page and allows; the redirect reaches
 * mcp-remote's callback, which exchanges the code; the MCP client behind mcp-remote then calls.
 * Screenshots of the consent page go to test-results/screenshots/oauth/, or to docs/oauth/ under
 * `make screenshots`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { createAdminFileStore } from "../../src/console/admins.js";
import { repoRoot } from "../../src/console/server.js";
import { screenshots, steadyClock } from "../support/screenshots.js";
import { startOAuthHarness, type OAuthHarness } from "./oauth-harness.js";

const ROOT = repoRoot();
const shotPath = screenshots("oauth");
const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let o: OAuthHarness;
let browser: Browser;
let context: BrowserContext;
let page: Page;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Under `make screenshots`, puts the real clock back once the test is done. */
let realClock: (() => void) | undefined;

beforeAll(async () => {
  realClock = steadyClock();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run make install (it installs Debian's chromium)`);
  if (process.env.COUNTERSIGN_SKIP_BUILD !== "1" || !existsSync(join(ROOT, "dist", "console", "index.html"))) {
    execFileSync(join(ROOT, "node_modules", ".bin", "vite"), ["build", "--config", "console/vite.config.ts", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
  }
  o = await startOAuthHarness();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  context = await browser.newContext({ viewport: { width: 1100, height: 760 }, timezoneId: "Europe/Paris", locale: "en-GB" });
  page = await context.newPage();
  page.on("dialog", (d) => void d.accept());
  const { secret } = await createAdminFileStore({ dir: o.h.gateway.deps.config.dataDir }).createLink("alice");
  await page.goto(`${o.base}/console/signin?t=${secret}`);
  await page.getByText("Signed in as").waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await o?.close();
  realClock?.();
});

describe("mcp-remote with the consent given in Chromium", () => {
  it("connects after consent narrowed to one module; a call outside it is refused; revoking in the console cuts it", async () => {
    const port = await freePort();
    let stderr = "";
    let urlSeen: (url: string) => void = () => {};
    const authorizeUrl = new Promise<string>((resolve) => (urlSeen = resolve));
    const transport = new StdioClientTransport({
      command: join(ROOT, "node_modules/.bin/mcp-remote"),
      args: [`${o.base}/mcp`, String(port), "--allow-http", "--transport", "http-only", "--host", "127.0.0.1"],
      // BROWSER=true: mcp-remote's attempt to open a browser runs `true`; the test is the browser.
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", BROWSER: "true", MCP_REMOTE_CONFIG_DIR: mkdtempSync(join(tmpdir(), "cs-mcp-remote-")) },
      stderr: "pipe",
    });
    transport.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)/.exec(stderr);
      if (m) urlSeen(m[1]!);
    });
    const client = new Client({ name: "claude-desktop-via-mcp-remote", version: "1" });
    const connected = client.connect(transport);

    const url = await authorizeUrl;
    expect(new URL(url).searchParams.get("code_challenge_method")).toBe("S256");
    await page.goto(url);
    await page.getByRole("heading", { name: /Connect .*\?/ }).waitFor();
    expect(await page.getByRole("heading").first().textContent()).toBe("Connect MCP CLI Proxy?");
    await page.getByText(`127.0.0.1:${port}`).first().waitFor();
    await page.screenshot({ path: shotPath("consent"), fullPage: true });
    await page.getByLabel("All modules").uncheck();
    await page.getByRole("checkbox", { name: "items" }).check();
    await page.getByLabel("Read-only (writes are refused)").check();
    await page.getByLabel("Access ends after").selectOption("7d");
    await page.screenshot({ path: shotPath("consent-one-module"), fullPage: true });
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL(new RegExp(`^http://127\\.0\\.0\\.1:${port}/oauth/callback`));

    await connected;
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("get_item");
    expect(names).not.toContain("get_status");
    expect((await client.callTool({ name: "get_item", arguments: { item_id: "7" } })).isError).toBeFalsy();
    const outside = await client.callTool({ name: "get_status", arguments: { code: 200 } });
    expect(outside.isError).toBe(true);
    expect(JSON.stringify(outside.content)).toMatch(/forbidden|not in|scope/i);

    await page.goto(`${o.base}/console/#/connections`);
    const row = page.locator("tr", { hasText: "MCP CLI Proxy" });
    await row.getByText("items (read-only)").waitFor();
    await page.screenshot({ path: shotPath("connections"), fullPage: true });
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByText("revoked").waitFor();
    await expect(client.callTool({ name: "get_item", arguments: { item_id: "7" } })).rejects.toThrow();
    await client.close().catch(() => undefined);
  }, 90_000);
});

describe("consent before signing in", () => {
  it("shows why to sign in, and the request comes back after the sign-in link is opened in the same tab", async () => {
    const { body } = await o.register({ client_name: "Late Client", redirect_uris: ["http://127.0.0.1:7777/callback"] });
    const res = await o.authorize({ response_type: "code", client_id: body.client_id as string, redirect_uri: "http://127.0.0.1:7777/callback", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" });
    const fresh = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const tab = await fresh.newPage();
    await tab.goto(o.base + res.headers.get("location")!);
    await tab.getByText("A client asks to connect as you").waitFor();
    const { secret } = await createAdminFileStore({ dir: o.h.gateway.deps.config.dataDir }).createLink("alice");
    await tab.goto(`${o.base}/console/signin?t=${secret}`);
    await tab.getByRole("heading", { name: "Connect Late Client?" }).waitFor();
    expect(tab.url()).toContain("#/consent?request=ar_");
    await fresh.close();
  });
});
