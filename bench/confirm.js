/**
 * What preview-and-confirm costs: per-call latency of a write's preview (pending action, with the
 * current-state read) and of confirm_action (claim, execution through the chain, outcome), beside
 * a read through the gateway and the same upstream requests made directly. Plus 50 concurrent
 * confirms of one action: wall time and upstream writes (must be exactly 1).
 *
 *   npx tsc -p tsconfig.build.json && node bench/confirm.js
 *
 * In-process (gateway.callTool / callMetaTool, no transport), the shipped stores: pending actions
 * journaled to a temp data dir, audit to JSON Lines. The upstream is a small node:http server
 * below (items with ETag / If-Match). Calls are sequential and the variants interleaved per round
 * so drift on a shared machine hits them alike. Writes bench/results/confirm.json.
 * ROUNDS changes the sample size (default 300).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createGateway } from "../dist/src/app.js";
import { resolveConfig } from "../dist/src/config.js";
import { createLog } from "../dist/src/log.js";
import { createRegistry } from "../dist/src/registry.js";
import { createMemoryTokenStore } from "../dist/src/stores/tokens.js";
import { hashToken, mintToken } from "../dist/src/tokens/format.js";

const ROUNDS = Number(process.env.ROUNDS ?? 300);

/** Items with a version; GET answers an ETag, writes honour If-Match. */
async function startUpstream() {
  const items = new Map([[1, { id: 1, name: "first", qty: 1, version: 1 }]]);
  let writes = 0;
  let nextId = 2;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
      const reply = (status, value, headers = {}) => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(value));
      };
      if (req.method !== "GET") writes++;
      const m = /^\/items(?:\/(\d+))?$/.exec(req.url ?? "");
      if (!m) return reply(404, { message: "no route" });
      if (!m[1] && req.method === "POST") {
        const item = { id: nextId++, ...body, version: 1 };
        items.set(item.id, item);
        return reply(201, item, { etag: `"${item.version}"` });
      }
      const item = items.get(Number(m[1]));
      if (!item) return reply(404, { message: "not found" });
      if (req.method === "GET") return reply(200, item, { etag: `"${item.version}"` });
      if (req.headers["if-match"] && req.headers["if-match"] !== `"${item.version}"`) return reply(412, { message: "stale" });
      Object.assign(item, body, { version: item.version + 1 });
      return reply(200, item, { etag: `"${item.version}"` });
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, writes: () => writes, close: () => new Promise((r) => server.close(r)) };
}

const idArg = { name: "id", in: "path", wireName: "id", style: "simple", explode: false, allowReserved: false, required: true };
const common = { module: "items", annotations: {}, outputSchema: undefined };
const binding = (method, path, args, body) => ({ method, path, serverPath: "", arguments: args, ...(body ? { body } : {}), security: [], responseMediaTypes: ["application/json"] });
const TOOLS = [
  { ...common, name: "get_item", title: "Get an item", description: "Get an item.", inputSchema: { type: "object", properties: { id: { type: "integer" } }, required: ["id"], additionalProperties: false }, binding: binding("GET", "/items/{id}", [idArg]), policy: { write: false, sensitive: false, excluded: false } },
  { ...common, name: "create_item", title: "Create an item", description: "Create an item.", inputSchema: { type: "object", properties: { name: { type: "string" }, qty: { type: "integer" } }, required: ["name"], additionalProperties: false }, binding: binding("POST", "/items", [], { mediaType: "application/json", mode: "flat", properties: { name: "name", qty: "qty" }, required: true }), policy: { write: true, sensitive: false, excluded: false } },
  { ...common, name: "update_item", title: "Update an item", description: "Update an item.", inputSchema: { type: "object", properties: { id: { type: "integer" }, name: { type: "string" }, qty: { type: "integer" } }, required: ["id"], additionalProperties: false }, binding: binding("PATCH", "/items/{id}", [idArg], { mediaType: "application/json", mode: "flat", properties: { name: "name", qty: "qty" }, required: true }), policy: { write: true, sensitive: false, excluded: false } },
];

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +at(0.5).toFixed(3), p99_ms: +at(0.99).toFixed(3) };
}

async function timed(list, fn) {
  const t = performance.now();
  const out = await fn();
  list.push(performance.now() - t);
  return out;
}

const upstream = await startUpstream();
const secret = mintToken();
const tokens = createMemoryTokenStore([{ id: "tok_bench", hash: hashToken(secret), name: "bench", modules: "all", readOnly: false, tier: "bench", createdAt: new Date().toISOString() }]);
const config = resolveConfig({
  env: { COUNTERSIGN_DATA_DIR: mkdtempSync(join(tmpdir(), "cs-bench-confirm-")), COUNTERSIGN_UPSTREAM_URL: upstream.url, LOG_LEVEL: "silent" },
  file: { rateLimits: { tiers: { bench: { normal: 1_000_000, sensitive: 1_000_000 } } } },
});
const gateway = await createGateway(config, { registry: createRegistry(TOOLS), tokens, log: createLog("silent") });
const principal = await gateway.authenticate(secret);
const confirmTool = gateway.metaTools.find((t) => t.name === "confirm_action");
const session = () => ({ principal, credential: secret, transport: "http", signal: new AbortController().signal, gateway, params: {}, notifyToolsChanged: async () => {} });
const call = (name, args) => gateway.callTool({ name, args, credential: secret, transport: "http", signal: new AbortController().signal });
const confirm = async (token) => {
  const r = await gateway.callMetaTool(confirmTool, { confirm_token: token }, session());
  if (r.structuredContent?.status !== "executed") throw new Error(`confirm failed: ${JSON.stringify(r)}`);
};

const t = { direct_get: [], read: [], direct_patch: [], preview_create: [], preview_update: [], confirm_update: [] };
for (let i = 0; i < 30; i++) {
  await call("get_item", { id: 1 });
  const p = await call("update_item", { id: 1, qty: i });
  await confirm(p.structuredContent.confirm_token);
}
for (let i = 0; i < ROUNDS; i++) {
  await timed(t.direct_get, async () => (await fetch(`${upstream.url}/items/1`)).text());
  await timed(t.read, () => call("get_item", { id: 1 }));
  await timed(t.preview_create, () => call("create_item", { name: `n${i}` }));
  const p = await timed(t.preview_update, () => call("update_item", { id: 1, qty: i }));
  await timed(t.confirm_update, () => confirm(p.structuredContent.confirm_token));
  await timed(t.direct_patch, async () => (await fetch(`${upstream.url}/items/1`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: `d${i}` }) })).text());
}

// 50 concurrent confirms of one action.
const p = await call("update_item", { id: 1, name: "once" });
const before = upstream.writes();
const started = performance.now();
const results = await Promise.all(Array.from({ length: 50 }, () => gateway.callMetaTool(confirmTool, { confirm_token: p.structuredContent.confirm_token }, session())));
const concurrent = {
  confirms: 50,
  wall_ms: +(performance.now() - started).toFixed(2),
  upstream_writes: upstream.writes() - before,
  executed: results.filter((r) => r.structuredContent?.status === "executed").length,
  already_executed: results.filter((r) => r.structuredContent?.status === "already_executed").length,
};

const out = {
  when: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavg: loadavg().map((x) => +x.toFixed(2)), node: process.version },
  rounds: ROUNDS,
  latency: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, stats(v)])),
  concurrent,
};
writeFileSync(join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "results", "confirm.json"), `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
await gateway.close();
await upstream.close();
