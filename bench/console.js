/**
 * The console's figures (issue 17), written to bench/results/console.json:
 *   - activity and analytics queries on the embedded SQLite audit index holding 1,000,000 records
 *     (target: each under 100 ms);
 *   - first paint of the console (Activity page) in Chromium with 100,000 records in the index;
 *   - event-to-screen latency: an agent's call until its row is on the Activity page (target < 1 s).
 *
 *   node bench/console.js [--records 1000000] [--paint-records 100000] [--events 30]   (after make build)
 *   node bench/console.js --only browser|queries   re-measures one part, keeping the other from
 *                                                  bench/results/console.json (each part has its own time)
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createSqliteIndex } from "../dist/src/console/audit-index-sqlite.js";
import { round, summarize } from "./lib/stats.js";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({ options: { only: { type: "string" }, records: { type: "string", default: "1000000" }, "paint-records": { type: "string", default: "100000" }, events: { type: "string", default: "30" }, runs: { type: "string", default: "30" } } });
const RECORDS = Number(values.records);
const PAINT_RECORDS = Number(values["paint-records"]);
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const TOOLS = Array.from({ length: 40 }, (_, i) => `tool_${String(i).padStart(2, "0")}`);
const OUTCOMES = ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "pending", "error", "rate_limited", "denied", "upstream_error"];

/** `n` synthetic agent calls spread evenly over the last week, oldest first, 50 tokens, 40 tools. */
function* synthetic(n, now) {
  const span = 7 * 86_400_000 - 60_000;
  for (let i = 0; i < n; i++) {
    const tool = TOOLS[(i * 7) % TOOLS.length];
    yield {
      ts: new Date(now - span + Math.floor((i / n) * span)).toISOString(),
      requestId: `bench-${i}`,
      transport: "http",
      tokenId: `tok_bench${String(i % 50).padStart(4, "0")}`,
      subject: `bench agent ${i % 50}`,
      tool,
      module: `module_${TOOLS.indexOf(tool) % 8}`,
      outcome: OUTCOMES[i % OUTCOMES.length],
      durationMs: 2 + ((i * 13) % 400),
      args: { id: i, q: `search ${i % 1000}` },
      summary: `${tool} for item ${i}`,
    };
  }
}

function fill(file, n, now) {
  const index = createSqliteIndex({ file, maxRecords: n + 1 });
  const t0 = performance.now();
  for (const r of synthetic(n, now)) index.add(r);
  index.flush();
  const ms = performance.now() - t0;
  return { index, ms };
}

function timeIt(fn) {
  const samples = [];
  fn(); // warm the statement and the page cache
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return summarize(samples);
}

async function queries(dir) {
  const now = Date.now();
  const file = join(dir, "million.sqlite");
  process.stderr.write(`console bench: writing ${RECORDS} records into ${file}\n`);
  const { index, ms } = fill(file, RECORDS, now);
  process.stderr.write(`console bench: ${RECORDS} records in ${Math.round(ms)} ms\n`);
  const out = {
    records: index.size(),
    fill_ms: round(ms, 0),
    fill_records_per_s: round((RECORDS / ms) * 1000, 0),
    activity: {
      newest_100: timeIt(() => index.query({ limit: 100 })),
      one_token_100: timeIt(() => index.query({ tokenId: "tok_bench0007", limit: 100 })),
      tool_and_outcome_100: timeIt(() => index.query({ tool: "tool_13", outcome: "ok", limit: 100 })),
      tool_and_outcome_never_together: timeIt(() => index.query({ tool: "tool_13", outcome: "error", limit: 100 })),
      time_range_3_days_ago_100: timeIt(() => index.query({ since: now - 3 * 86_400_000, until: now - 2 * 86_400_000, limit: 100 })),
      token_in_time_range_100: timeIt(() => index.query({ tokenId: "tok_bench0031", since: now - 5 * 86_400_000, until: now - 4 * 86_400_000, limit: 100 })),
    },
    analytics: {
      hour: timeIt(() => index.analytics("hour", now)),
      day: timeIt(() => index.analytics("day", now)),
      week: timeIt(() => index.analytics("week", now)),
    },
    calls_today_per_token: timeIt(() => index.countsSince(now - 12 * 3_600_000)),
    week_total_calls_check: index.analytics("week", now).totals.calls,
  };
  index.close();
  return out;
}

/** Starts `countersign demo` on a data dir; resolves with its URLs, dev token and sign-in link. */
function startDemo(dataDir) {
  const child = spawn(process.execPath, [join(ROOT, "bin/countersign.js"), "demo", "--port", "0", "--upstream-port", "0", "--data-dir", dataDir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${out}`)), 60_000);
    child.stdout.on("data", (d) => {
      out += d;
      const link = /(http:\/\/\S+\/console\/signin\?t=\S+)/.exec(out)?.[1];
      const token = /^\s+(csk_\w+)\s*$/m.exec(out)?.[1];
      const mcp = /gateway \(Streamable HTTP\)\s+(\S+)/.exec(out)?.[1];
      if (link && token && mcp) {
        clearTimeout(timer);
        resolve({ child, link, token, mcp });
      }
    });
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => reject(new Error(`demo exited ${code}:\n${out}`)));
  });
}

async function browserFigures(dir, records = PAINT_RECORDS, withEvents = true) {
  const dataDir = join(dir, `demo-${records}`);
  const now = Date.now();
  process.stderr.write(`console bench: ${records} records for the first-paint run\n`);
  if (records > 0) fill(join(dataDir, "console", "audit-index.sqlite"), records, now).index.close();
  const demo = await startDemo(dataDir);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, headless: true });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(demo.link);
    await page.getByText("Signed in as").waitFor();
    const base = new URL(demo.link).origin;

    // First paint: a new tab opening the Activity page, until the newest rows are on screen
    // (measured in the page, from navigation start).
    const paints = [];
    const rows = [];
    for (let i = 0; i < 10; i++) {
      const tab = await context.newPage();
      await tab.goto(`${base}/console/#/activity`, { waitUntil: "commit" });
      // Checked in the page on every frame, so the time is the page's own, not a round trip's.
      const at = await tab.waitForFunction(() => (document.querySelector("table.timeline tbody tr") ? performance.now() : 0), undefined, { polling: "raf" });
      rows.push(await at.jsonValue());
      const fcp = await tab.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null);
      if (fcp !== null) paints.push(fcp);
      await tab.close();
    }

    // The floor: the same new tab opening the gateway's plain /healthz answer (no console at all).
    const floor = [];
    for (let i = 0; withEvents && i < 10; i++) {
      const tab = await context.newPage();
      await tab.goto(`${base}/healthz`);
      const fcp = await tab.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null);
      if (fcp !== null) floor.push(fcp);
      await tab.close();
    }
    if (!withEvents) return { records_in_index: records, first_contentful_paint: summarize(paints), navigation_to_rows_on_screen: summarize(rows) };
    // Event to screen: an agent's call until its row shows on the live Activity page.
    await page.goto(`${base}/console/#/activity`);
    await page.getByText("● Live").waitFor();
    const client = new Client({ name: "console-bench", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(demo.mcp), { requestInit: { headers: { Authorization: `Bearer ${demo.token}` } } }));
    const tool = (await client.listTools()).tools.find((t) => t.annotations?.readOnlyHint && !(t.inputSchema.required ?? []).length);
    const latencies = [];
    for (let i = 0; i < EVENTS; i++) {
      const newest = await page.evaluate(() => Number(document.querySelector("table.timeline tbody tr")?.getAttribute("data-entry") ?? -1));
      const seen = page.waitForFunction((n) => Number(document.querySelector("table.timeline tbody tr")?.getAttribute("data-entry") ?? -1) > n, newest, { polling: "raf", timeout: 10_000 });
      const t0 = Date.now();
      await client.callTool({ name: tool.name, arguments: {} });
      await seen;
      latencies.push(Date.now() - t0);
    }
    await client.close();
    return {
      records_in_index: records,
      first_contentful_paint: summarize(paints),
      navigation_to_rows_on_screen: summarize(rows),
      floor_first_contentful_paint_of_plain_healthz: summarize(floor),
      event_to_screen: { tool: tool.name, ...summarize(latencies) },
    };
  } finally {
    await browser.close();
    demo.child.kill("SIGTERM");
  }
}

const dir = mkdtempSync(join(tmpdir(), "cs-console-bench-"));
const RESULTS = join(ROOT, "bench/results/console.json");
if (values.only !== undefined && values.only !== "browser" && values.only !== "queries") throw new Error(`--only takes browser or queries, got ${values.only}`);
try {
  const previous = values.only && existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, "utf8")) : {};
  // The machine is shared: its load average (1, 5, 15 minutes; 2 cores) is kept beside each part.
  const measure = async (fn) => {
    const started = new Date().toISOString();
    const load_average_at_start = loadavg().map((x) => round(x, 2));
    const figures = await fn();
    return { started, load_average_at_start, load_average_at_end: loadavg().map((x) => round(x, 2)), ...figures };
  };
  const browserRun =
    values.only === "queries"
      ? previous.browser_at_100k
      : await measure(async () => ({ ...(await browserFigures(dir)), same_with_an_empty_index: await browserFigures(dir, 0, false) }));
  const queryRun = values.only === "browser" ? previous.index_at_1m : await measure(() => queries(dir));
  const result = {
    bench: "console",
    node: process.version,
    command: `node bench/console.js --records ${RECORDS} --paint-records ${PAINT_RECORDS} --events ${EVENTS} --runs ${RUNS}`,
    targets: { query_ms: 100, event_to_screen_ms: 1000 },
    index_at_1m: queryRun,
    browser_at_100k: browserRun,
  };
  writeFileSync(RESULTS, JSON.stringify(result, null, 2) + "\n");
  process.stdout.write(JSON.stringify(result, null, 2) + "\n");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
