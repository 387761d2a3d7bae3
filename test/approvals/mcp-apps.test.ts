/**
 * The pending-action card for MCP Apps hosts: an SDK v2 client that declares the
 * `io.modelcontextprotocol/ui` extension calls a write, reads the `ui://` resource the result
 * names and renders it in real Chromium inside a sandboxed iframe; a tiny host page relays the
 * card's postMessage JSON-RPC (ui/initialize, tools/call) to the real gateway through that client.
 * A client without the extension sees no card at all. Screenshots: mcp-app-card*.png in
 * test-results/screenshots/console/, or in docs/console/ under `make screenshots`.
 */
import { existsSync } from "node:fs";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from "playwright-core";
import { screenshots, steadyClock } from "../support/screenshots.js";
import { agentTokens, startApprovalsGateway, startCountingUpstream, until, type ApprovalsGateway, type CountingUpstream, type Result, type Task } from "./harness.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const shotPath = screenshots("console");
const UI = "io.modelcontextprotocol/ui";
const MIME = "text/html;profile=mcp-app";
const CARD = "ui://countersign/pending-action";
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;

/** The host page: renders the card in a sandboxed iframe and relays its requests to `window.relay` (the SDK client). */
const HOST = `<!doctype html><html><body style="margin:0;background:#fff">
<iframe id="app" sandbox="allow-scripts" style="border:0;width:760px;height:560px"></iframe>
<script>
  const frame = document.getElementById("app");
  window.toolResult = null;
  function send(m) { frame.contentWindow.postMessage(m, "*"); }
  window.addEventListener("message", async (event) => {
    if (event.source !== frame.contentWindow) return;
    const m = event.data;
    window.seen = (window.seen || []).concat([m.method]);
    if (m.method === "ui/initialize") send({ jsonrpc: "2.0", id: m.id, result: { protocolVersion: "2026-01-26", hostInfo: { name: "test-host", version: "1" }, hostCapabilities: { serverTools: {} }, hostContext: {} } });
    else if (m.method === "ui/notifications/initialized") send({ jsonrpc: "2.0", method: "ui/notifications/tool-result", params: window.toolResult });
    else if (m.method === "tools/call") {
      try { send({ jsonrpc: "2.0", id: m.id, result: await window.relay(m.params) }); }
      catch (e) { send({ jsonrpc: "2.0", id: m.id, error: { code: -32603, message: String(e && e.message || e) } }); }
    }
  });
  window.render = (html, result) => { window.toolResult = result; frame.srcdoc = html; };
</script></body></html>`;

let up: CountingUpstream;
let g: ApprovalsGateway;
let browser: Browser;
let context: BrowserContext;
/** A fresh page per card rendered. */
let page: Page | undefined;
let apps: Client;
let plain: Client;
/** Every tools/call the card sent, as the host relayed it. */
const relayed: { name: string; arguments: Record<string, unknown> }[] = [];
const { tokens, secrets } = agentTokens("apps-agent", "plain-agent");

async function v2Client(token: string, withUi: boolean): Promise<Client> {
  const client = new Client({ name: withUi ? "apps-host" : "plain-host", version: "1" }, { capabilities: withUi ? { extensions: { [UI]: { mimeTypes: [MIME] } } } : {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${g.base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

async function task(skip: number): Promise<Task> {
  return (await up.api<{ data: Task[] }>("GET", "/tasks?limit=30")).body.data[skip]!;
}

/** Waits until the card's state line matches. */
async function cardSays(frame: Frame, text: RegExp): Promise<void> {
  await until(async () => text.test((await frame.getByTestId("state").textContent({ timeout: 1000 }).catch(() => null)) ?? ""), 10_000, `the card to say ${text}`);
}

/** Reads the resource the result names and renders it with the result; returns the card's frame. */
async function render(result: Result & { _meta?: any }): Promise<Frame> {
  const uri = result._meta?.ui?.resourceUri as string;
  const read = await apps.readResource({ uri });
  const html = (read.contents[0] as { text: string }).text;
  await page?.close();
  page = await context.newPage();
  await page.setContent(HOST);
  await page.evaluate(([h, r]) => (window as any).render(h, r), [html, result] as const);
  const frame = (await (await page.waitForSelector("#app", { state: "attached" })).contentFrame())!;
  await cardSays(frame, /\S/);
  return frame;
}

/** Under `make screenshots`, puts the real clock back once the test is done. */
let realClock: (() => void) | undefined;

beforeAll(async () => {
  realClock = steadyClock();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run make install (it installs Debian's chromium)`);
  up = await startCountingUpstream();
  g = await startApprovalsGateway({ upstream: up, tokens });
  apps = await v2Client(secrets["apps-agent"]!, true);
  plain = await v2Client(secrets["plain-agent"]!, false);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  context = await browser.newContext({ viewport: { width: 800, height: 600 } });
  await context.exposeFunction("relay", async (params: { name: string; arguments: Record<string, unknown> }) => {
    relayed.push(params);
    return apps.callTool(params);
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await apps?.close().catch(() => undefined);
  await plain?.close().catch(() => undefined);
  await g?.close();
  await up?.close();
  realClock?.();
});

describe("a client that declares the UI extension", () => {
  it("lists the card, names it on writes and serves it as MCP Apps HTML", async () => {
    const { resources } = await apps.listResources();
    expect(resources).toEqual([expect.objectContaining({ uri: CARD, mimeType: MIME })]);
    await apps.callTool({ name: "enable_modules", arguments: { modules: ["tasks"] } });
    const { tools } = await apps.listTools();
    expect(tools.find((t) => t.name === "create_task")?._meta).toMatchObject({ ui: { resourceUri: CARD } });
    expect(tools.find((t) => t.name === "list_tasks")?._meta?.ui).toBeUndefined();
    const read = await apps.readResource({ uri: CARD });
    expect(read.contents[0]).toMatchObject({ uri: CARD, mimeType: MIME });
    const html = (read.contents[0] as { text: string }).text;
    expect(html).not.toMatch(/innerHTML|<script[^>]+src=|<link[^>]+href=|https?:\/\//);
  });

  it("refuses a resource that is not the card, naming it", async () => {
    await expect(apps.readResource({ uri: "ui://countersign/other" })).rejects.toThrow(/Unknown resource "ui:\/\/countersign\/other"/);
  });

  it("shows the preview with Confirm / Cancel; Confirm runs the write once", async () => {
    const t = await task(0);
    const result = (await apps.callTool({ name: "create_task", arguments: { project_id: t.project_id, title: "From the card" } })) as Result & { _meta?: any };
    expect(result.structuredContent).toMatchObject({ status: "pending_confirmation" });
    expect(result._meta).toEqual({ ui: { resourceUri: CARD } });
    const frame = await render(result);
    await expect(frame.getByTestId("summary").textContent()).resolves.toBe(result.structuredContent!.preview.summary);
    await expect(frame.getByTestId("method").textContent()).resolves.toBe("POST");
    await expect(frame.getByTestId("body").textContent()).resolves.toContain("From the card");
    await expect(frame.getByTestId("refresh").isHidden()).resolves.toBe(true);
    await page!.screenshot({ path: shotPath("mcp-app-card") });

    const before = up.writes.length;
    relayed.length = 0;
    await frame.getByTestId("confirm").click();
    await cardSays(frame, /Done/);
    expect(relayed).toEqual([{ name: "confirm_action", arguments: { confirm_token: result.structuredContent!.confirm_token } }]);
    expect(up.writes.slice(before).map((w) => w.method)).toEqual(["POST"]);
    await expect(frame.getByTestId("confirm").isHidden()).resolves.toBe(true);

    // The same tool call replayed runs nothing more.
    const again = (await apps.callTool({ name: "confirm_action", arguments: { confirm_token: result.structuredContent!.confirm_token } })) as Result;
    expect(again.structuredContent).toMatchObject({ status: "already_executed" });
    expect(up.writes.length).toBe(before + 1);
  });

  it("Cancel discards the action: nothing is sent", async () => {
    const t = await task(1);
    const result = (await apps.callTool({ name: "create_task", arguments: { project_id: t.project_id, title: "Never sent" } })) as Result & { _meta?: any };
    const frame = await render(result);
    const before = up.writes.length;
    relayed.length = 0;
    await frame.getByTestId("cancel").click();
    await cardSays(frame, /Cancelled/);
    expect(relayed.map((c) => c.name)).toEqual(["cancel_action"]);
    expect(up.writes.length).toBe(before);
  });

  it("a write that needs a person shows the waiting state; Refresh asks get_action and runs nothing", async () => {
    const t = await task(2);
    const result = (await apps.callTool({ name: "delete_task", arguments: { task_id: t.id } })) as Result & { _meta?: any };
    expect(result.structuredContent).toMatchObject({ status: "pending_confirmation", approval: "person" });
    const frame = await render(result);
    await expect(frame.getByTestId("state").textContent()).resolves.toMatch(/waiting for a person's approval/i);
    await expect(frame.getByTestId("confirm").isHidden()).resolves.toBe(true);
    await expect(frame.getByTestId("cancel").isHidden()).resolves.toBe(true);
    await page!.screenshot({ path: shotPath("mcp-app-card-waiting") });
    const before = up.writes.length;
    relayed.length = 0;
    await frame.getByTestId("refresh").click();
    await until(() => relayed.length === 1, 10_000, "the get_action call");
    expect(relayed).toEqual([{ name: "get_action", arguments: { action_id: result.structuredContent!.action_id } }]);
    await cardSays(frame, /waiting for a person's approval/i);
    expect(up.writes.length).toBe(before);
  });

  it("an update that needs both shows the field diff; Confirm hands it to a person and sends nothing", async () => {
    const t = await task(5);
    const result = (await apps.callTool({ name: "update_task", arguments: { task_id: t.id, body: { title: "Renamed on the card" } } })) as Result & { _meta?: any };
    expect(result.structuredContent).toMatchObject({ status: "pending_confirmation", approval: "both" });
    const frame = await render(result);
    const row = frame.getByTestId("diff").locator("tbody tr", { hasText: "title" });
    await expect(row.locator("td").allTextContents()).resolves.toEqual([expect.stringContaining("title"), t.title, "Renamed on the card"]);
    await page!.screenshot({ path: shotPath("mcp-app-card-diff") });
    const before = up.writes.length;
    relayed.length = 0;
    await frame.getByTestId("confirm").click();
    await cardSays(frame, /waiting for a person's approval/i);
    expect(relayed.map((c) => c.name)).toEqual(["confirm_action"]);
    await expect(frame.getByTestId("refresh").isVisible()).resolves.toBe(true);
    expect(up.writes.length).toBe(before);
  });

  it("renders markup in the arguments as text", async () => {
    const t = await task(3);
    const result = (await apps.callTool({ name: "create_task", arguments: { project_id: t.project_id, title: XSS } })) as Result & { _meta?: any };
    const frame = await render(result);
    await expect(frame.getByTestId("body").textContent()).resolves.toContain(XSS.replace(/"/g, '\\"'));
    await expect(frame.locator("img").count()).resolves.toBe(0);
    await expect(frame.evaluate(() => (window as any).__xss)).resolves.toBeUndefined();
    await expect(page!.evaluate(() => (window as any).__xss)).resolves.toBeUndefined();
  });
});

describe("a client without the extension", () => {
  it("gets today's results: no card metadata, no resources", async () => {
    const t = await task(4);
    const result = (await plain.callTool({ name: "create_task", arguments: { project_id: t.project_id, title: "Plain" } })) as Result & { _meta?: any };
    expect(result.structuredContent).toMatchObject({ status: "pending_confirmation" });
    expect(result._meta).toBeUndefined();
    const { tools } = await plain.listTools();
    expect(tools.some((tool) => tool._meta?.ui !== undefined)).toBe(false);
    expect((await plain.listResources()).resources).toEqual([]);
    await expect(plain.readResource({ uri: CARD })).rejects.toThrow(/Unknown resource/);
  });

  it("is refused the card without a token", async () => {
    const res = await fetch(`${g.base}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri: CARD } }),
    });
    expect(res.status).toBe(401);
  });
});
