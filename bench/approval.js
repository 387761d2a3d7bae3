/**
 * From a person's approval to the upstream write: the time from sending the console's approve
 * request (`POST /console/api/approvals/:id/approve`, what the Approve button does) until the
 * upstream receives the write, and until the console has its answer. The embedded default: one
 * `serve`-shaped gateway over HTTP with the pending actions and approval records in a temp data
 * dir, audit to JSON Lines; an admin credential as the bearer (the button sends the session cookie
 * and CSRF token instead: the same checks' cost). Beside it, the agent's own confirm_action over
 * MCP on the same gateway, as the baseline an approval adds to.
 *
 *   npx tsc -p tsconfig.build.json && node bench/approval.js
 *
 * Each round: the agent previews an update (not timed), then it is approved and timed. Target:
 * click → upstream write under 200 ms. Writes bench/results/approval.json. ROUNDS (default 200).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createGateway } from "../dist/src/app.js";
import { resolveConfig } from "../dist/src/config.js";
import { createAdminFileStore } from "../dist/src/console/admins.js";
import { createLog } from "../dist/src/log.js";
import { createRegistry } from "../dist/src/registry.js";
import { createMemoryTokenStore } from "../dist/src/stores/tokens.js";
import { hashToken, mintToken } from "../dist/src/tokens/format.js";
import { startHttpServer } from "../dist/src/transports/http/index.js";
import { summarize } from "./lib/stats.js";

const ROUNDS = Number(process.env.ROUNDS ?? 200);

/** Items with ETags; records when each write arrives. */
async function startUpstream() {
  const items = new Map([[1, { id: 1, name: "first", qty: 1, version: 1 }]]);
  const arrivals = [];
  const server = createServer((req, res) => {
    if (req.method !== "GET") arrivals.push(performance.now());
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const reply = (status, value) => {
        res.writeHead(status, { "content-type": "application/json", ...(value?.version ? { etag: `"${value.version}"` } : {}) });
        res.end(JSON.stringify(value));
      };
      const item = items.get(Number(/^\/items\/(\d+)$/.exec(req.url ?? "")?.[1]));
      if (!item) return reply(404, { message: "not found" });
      if (req.method === "GET") return reply(200, item);
      if (req.headers["if-match"] && req.headers["if-match"] !== `"${item.version}"`) return reply(412, { message: "stale" });
      Object.assign(item, JSON.parse(Buffer.concat(chunks).toString() || "{}"), { version: item.version + 1 });
      return reply(200, item);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, arrivals, close: () => new Promise((r) => server.close(r)) };
}

const idArg = { name: "id", in: "path", wireName: "id", style: "simple", explode: false, allowReserved: false, required: true };
const binding = (method, body) => ({ method, path: "/items/{id}", serverPath: "", arguments: [idArg], ...(body ? { body } : {}), security: [], responseMediaTypes: ["application/json"] });
const TOOLS = [
  { name: "get_item", title: "Get an item", description: "Get an item.", module: "items", annotations: {}, inputSchema: { type: "object", properties: { id: { type: "integer" } }, required: ["id"], additionalProperties: false }, binding: binding("GET"), policy: { write: false, sensitive: false, excluded: false } },
  { name: "update_item", title: "Update an item", description: "Update an item.", module: "items", annotations: {}, inputSchema: { type: "object", properties: { id: { type: "integer" }, qty: { type: "integer" } }, required: ["id"], additionalProperties: false }, binding: binding("PATCH", { mediaType: "application/json", mode: "flat", properties: { qty: "qty" }, required: true }), policy: { write: true, sensitive: false, excluded: false } },
  { name: "update_item_by_agent", title: "Update an item", description: "Update an item.", module: "items", annotations: {}, inputSchema: { type: "object", properties: { id: { type: "integer" }, qty: { type: "integer" } }, required: ["id"], additionalProperties: false }, binding: binding("PATCH", { mediaType: "application/json", mode: "flat", properties: { qty: "qty" }, required: true }), policy: { write: true, sensitive: false, excluded: false } },
];

const upstream = await startUpstream();
const secret = mintToken();
const dataDir = mkdtempSync(join(tmpdir(), "cs-bench-approval-"));
const tokens = createMemoryTokenStore([{ id: "tok_bench", hash: hashToken(secret), name: "bench", modules: "all", readOnly: false, tier: "bench", createdAt: new Date().toISOString() }]);
const config = resolveConfig({
  env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_UPSTREAM_URL: upstream.url, LOG_LEVEL: "silent" },
  file: { rateLimits: { tiers: { bench: { normal: 1_000_000, sensitive: 1_000_000 } } }, approvals: { rules: [{ tool: "update_item", approval: "person" }] } },
});
const gateway = await createGateway(config, { registry: createRegistry(TOOLS), tokens, log: createLog("silent") });
const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
const base = `http://127.0.0.1:${http.port}`;
const admin = (await createAdminFileStore({ dir: dataDir }).create("bench")).credential;

const principal = await gateway.admit({ transport: "http", credential: secret, request: "bench" });
const call = async (name, args) => (await gateway.call({ name, args, principal, transport: "http", signal: new AbortController().signal })).result;

async function approve(id) {
  const res = await fetch(`${base}/console/api/approvals/${id}/approve`, { method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: "{}" });
  const body = await res.json();
  if (res.status !== 200 || body.outcome !== "executed") throw new Error(`approve failed: ${res.status} ${JSON.stringify(body)}`);
}

const t = { click_to_upstream_write: [], click_to_answer: [], agent_confirm_to_upstream_write: [], agent_confirm_to_answer: [] };
for (let i = 0; i < ROUNDS + 20; i++) {
  const warm = i < 20;
  const p = await call("update_item", { id: 1, qty: i });
  if (p.structuredContent?.approval !== "person") throw new Error(`expected an action that needs a person: ${JSON.stringify(p)}`);
  let before = upstream.arrivals.length;
  let t0 = performance.now();
  await approve(p.structuredContent.action_id);
  let t1 = performance.now();
  if (upstream.arrivals.length !== before + 1) throw new Error("expected exactly one upstream write per approval");
  if (!warm) t.click_to_upstream_write.push(upstream.arrivals[before] - t0), t.click_to_answer.push(t1 - t0);

  const q = await call("update_item_by_agent", { id: 1, qty: i });
  before = upstream.arrivals.length;
  t0 = performance.now();
  const c = await call("confirm_action", { confirm_token: q.structuredContent.confirm_token });
  t1 = performance.now();
  if (c.structuredContent?.status !== "executed") throw new Error(`confirm failed: ${JSON.stringify(c)}`);
  if (!warm) t.agent_confirm_to_upstream_write.push(upstream.arrivals[before] - t0), t.agent_confirm_to_answer.push(t1 - t0);
}

const latency = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, summarize(v)]));
const out = {
  when: new Date().toISOString(),
  command: "node bench/approval.js",
  machine: { cpus: cpus().length, loadavg: loadavg().map((x) => +x.toFixed(2)), node: process.version },
  rounds: ROUNDS,
  target: "click_to_upstream_write p50 < 200 ms (embedded default)",
  latency,
  note: "agent_confirm_* is confirm_action called in-process on the same gateway (no HTTP hop); click_* goes through HTTP, the console's admin check and the approval record",
};
writeFileSync(join(import.meta.dirname, "results", "approval.json"), `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
await http.close();
await gateway.close();
await upstream.close();
