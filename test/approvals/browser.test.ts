/**
 * The approval inbox in a real browser (Debian's Chromium via playwright-core) against a real
 * gateway and the sample upstream: approve, reject with a reason, a stale preview refused as
 * conflict, and markup in the arguments shown as text. Screenshots go to
 * test-results/screenshots/console/, or to docs/console/ under `make screenshots`.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { repoRoot } from "../../src/console/server.js";
import { screenshots, steadyClock } from "../support/screenshots.js";
import { agentTokens, startApprovalsGateway, startCountingUpstream, until, type ApprovalsGateway, type CountingUpstream, type Result, type Task } from "./harness.js";

const ROOT = repoRoot();
const shotPath = screenshots("console");
const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;

let up: CountingUpstream;
let g: ApprovalsGateway;
let browser: Browser;
let page: Page;
let agent: Client;
const dialogs: string[] = [];
const { tokens, secrets } = agentTokens("release-bot");

async function call(name: string, args: Record<string, unknown>): Promise<Result> {
  return (await agent.callTool({ name, arguments: args })) as Result;
}

async function task(skip: number): Promise<Task> {
  return (await up.api<{ data: Task[] }>("GET", "/tasks?limit=30")).body.data[skip]!;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: shotPath(name), fullPage: true });
}

async function open(actionId: string): Promise<void> {
  await page.goto(`${g.base}/console/#/approvals`);
  await page.getByRole("heading", { name: "Approvals" }).waitFor();
  await page.getByRole("list", { name: "Awaiting approval" }).waitFor();
  await page.locator(`a[href="#/approvals?id=${actionId}"]`).first().click();
  await page.getByTestId("approval-detail").waitFor();
}

/** Under `make screenshots`, puts the real clock back once the test is done. */
let realClock: (() => void) | undefined;

beforeAll(async () => {
  realClock = steadyClock();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run make install (it installs Debian's chromium)`);
  if (process.env.COUNTERSIGN_SKIP_BUILD !== "1" || !existsSync(join(ROOT, "dist", "console", "index.html"))) {
    execFileSync(join(ROOT, "node_modules", ".bin", "vite"), ["build", "--config", "console/vite.config.ts", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
  }
  up = await startCountingUpstream();
  g = await startApprovalsGateway({ upstream: up, tokens });
  await g.admins.create("alice");
  agent = await g.agent(secrets["release-bot"]!);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: "Europe/Paris", locale: "en-GB" });
  page = await context.newPage();
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const { secret } = await g.admins.createLink("alice");
  await page.goto(`${g.base}/console/signin?t=${secret}`);
  await page.getByText("Signed in as").waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await g?.close();
  await up?.close();
  realClock?.();
});

describe("the approval inbox in Chromium", () => {
  it("approves a delete: the inbox shows it with the state read now, Approve runs it once, the agent learns the result", async () => {
    const t = await task(0);
    const p = await call("delete_task", { task_id: t.id });
    const id = p.structuredContent!.action_id as string;
    expect((await call("confirm_action", { confirm_token: p.structuredContent!.confirm_token })).structuredContent).toMatchObject({ status: "awaiting_approval" });

    await page.goto(`${g.base}/console/#/approvals`);
    await page.getByRole("list", { name: "Awaiting approval" }).waitFor();
    await shot("approvals-inbox");
    await open(id);
    const detail = page.getByTestId("approval-detail");
    expect(await detail.textContent()).toContain("release-bot");
    expect(await detail.textContent()).toContain(`DELETE ${up.baseUrl}/tasks/${t.id}`);
    expect(await detail.textContent()).toMatch(/Destructive/);
    await shot("approvals-detail");
    expect(up.writes.filter((w) => w.path.includes(t.id))).toHaveLength(0);

    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByTestId("decision").waitFor();
    expect(await page.getByTestId("decision").textContent()).toBe("Approved and executed once.");
    await shot("approvals-approved");
    expect(up.writes.filter((w) => w.path.includes(t.id))).toHaveLength(1);
    expect((await up.api("GET", `/tasks/${t.id}`)).status).toBe(404);
    expect((await call("get_action", { action_id: id })).structuredContent).toMatchObject({ status: "executed", decision: { by: "alice" } });
    expect(await page.getByRole("button", { name: "Approve" }).count()).toBe(0);
  });

  it("rejects with a reason the agent then reads; nothing is sent", async () => {
    const t = await task(1);
    const p = await call("delete_task", { task_id: t.id });
    const id = p.structuredContent!.action_id as string;
    await open(id);
    await page.getByRole("button", { name: "Reject…" }).click();
    expect(await page.getByRole("button", { name: "Reject", exact: true }).isDisabled()).toBe(true);
    await page.getByLabel("Reason (the agent sees it)").fill("Not before the release review on Monday");
    await shot("approvals-reject");
    await page.getByRole("button", { name: "Reject", exact: true }).click();
    await page.getByTestId("decision").waitFor();
    expect(await page.getByTestId("decision").textContent()).toContain("Not before the release review on Monday");
    expect(up.writes.filter((w) => w.path.includes(t.id))).toHaveLength(0);
    const got = await call("get_action", { action_id: id });
    expect(got.structuredContent).toMatchObject({ status: "rejected", decision: { by: "alice", reason: "Not before the release review on Monday" } });
  });

  it("shows a stale preview as changed, refuses its approval as conflict, and renders markup in the arguments as text", async () => {
    const t = await task(2);
    const p = await call("update_task", { task_id: t.id, body: { title: XSS } });
    const id = p.structuredContent!.action_id as string;
    await call("confirm_action", { confirm_token: p.structuredContent!.confirm_token });
    const latest = await up.api<Task>("GET", `/tasks/${t.id}`);
    expect((await up.api("PATCH", `/tasks/${t.id}`, { title: "Edited by a person meanwhile" }, { "if-match": latest.etag! })).status).toBe(200);

    await open(id);
    const detail = page.getByTestId("approval-detail");
    await page.getByText("The resource changed since the agent's preview").waitFor();
    expect(await detail.textContent()).toContain(JSON.stringify(XSS)); // the diff shows the value as JSON, as text
    expect(await detail.locator("img").count()).toBe(0);
    expect(await detail.locator("script").count()).toBe(0);
    await shot("approvals-stale");

    const before = up.writes.length;
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByTestId("decision").waitFor();
    expect(await page.getByTestId("decision").textContent()).toMatch(/Refused as a conflict/);
    await shot("approvals-conflict");
    expect(up.writes.length - before).toBe(1); // sent with If-Match and refused by the upstream
    expect((await up.api<Task>("GET", `/tasks/${t.id}`)).body.title).not.toBe(XSS);
    await until(async () => (await call("get_action", { action_id: id })).structuredContent?.status === "failed", 5000, "the agent's view of the conflict");
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
  });
});
