/**
 * The added cost of an OAuth access token over a `csk_` token per call (issue 23; target: none
 * measurable at p50). One gateway in this process (dist/, the bundled spec, embedded stores) over
 * the shared fixed-answer upstream; two SDK clients on the same Streamable HTTP endpoint, one with
 * a `csk_` token, one with an access token got through the real flow (registration, /authorize,
 * consent through the console API, /token). Rounds alternate the two so drift hits both alike.
 * Also the admission step alone (gateway.admit), where the two credentials take different paths.
 *
 *   make build && node bench/oauth.js          (BENCH_CALLS=2000 for more calls per round)
 *   BENCH_REDIS_URL=redis://127.0.0.1:6379 node bench/oauth.js   (the distributed mode: tokens,
 *     grants and limits in Redis under a throwaway prefix, deleted afterwards)
 *
 * Writes bench/results/oauth.json (oauth-redis.json in the distributed mode).
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createGateway } from "../dist/src/app.js";
import { resolveConfig } from "../dist/src/config.js";
import { startHttpServer } from "../dist/src/transports/http/index.js";
import { createAdminFileStore } from "../dist/src/console/admins.js";
import { issueToken } from "../dist/src/tokens/issue.js";
import { median, round, summarize } from "./lib/stats.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const ROUNDS = 5;
const WARMUP = 200;
const ADMITS = 20_000;
const PROJECT = "6f1f3c1e-8d5b-4d2e-9a51-0c6a3e2b7f10";
const START_LOAD = loadavg().map((x) => round(x, 1));

const REDIS_URL = process.env.BENCH_REDIS_URL;
const PREFIX = `cs-bench-oauth-${process.pid}:`;
const work = mkdtempSync(join(tmpdir(), "cs-bench-oauth-"));
const upstream = spawn(process.execPath, [join(ROOT, "bench/lib/upstream-server.js")], { stdio: ["ignore", "pipe", "inherit"] });
process.on("exit", () => {
  upstream.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});
const upstreamPort = await new Promise((resolve) => upstream.stdout.on("data", (c) => {
  const m = /listening (\d+)/.exec(c.toString());
  if (m) resolve(Number(m[1]));
}));

const config = resolveConfig({
  env: {
    COUNTERSIGN_DATA_DIR: work,
    COUNTERSIGN_GENERATED_DIR: join(ROOT, "generated/workspace"),
    COUNTERSIGN_UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}/v1`,
    COUNTERSIGN_MODE: "all",
    COUNTERSIGN_RATE_NORMAL: "1000000",
    COUNTERSIGN_OAUTH_IP_REQUESTS_PER_MINUTE: "1000",
    LOG_LEVEL: "silent",
    ...(REDIS_URL ? { REDIS_URL, COUNTERSIGN_REDIS_PREFIX: PREFIX } : {}),
  },
});
const gateway = await createGateway(config);
const http = await startHttpServer(gateway, { port: 0, host: "127.0.0.1" });
const base = `http://127.0.0.1:${http.port}`;

// The csk_ token, as `countersign tokens create` mints it.
const { token: csk } = await issueToken(gateway.deps.tokens, { name: "bench", modules: "all", readOnly: false, tier: "default", now: new Date() });

// The access token, through the real flow.
const admins = createAdminFileStore({ dir: work });
await admins.create("bench");
const { secret } = await admins.createLink("bench");
const cookie = (await fetch(`${base}/console/signin?t=${secret}`, { redirect: "manual" })).headers.get("set-cookie").split(";")[0];
const { csrf } = await (await fetch(`${base}/console/api/session`, { headers: { cookie } })).json();
const redirect = "http://127.0.0.1:9/callback";
const { client_id } = await (await fetch(`${base}/oauth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ client_name: "bench", redirect_uris: [redirect] }) })).json();
const verifier = randomBytes(32).toString("base64url");
const challenge = createHash("sha256").update(verifier).digest("base64url");
const held = await fetch(`${base}/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: "S256" })}`, { redirect: "manual" });
const requestId = held.headers.get("location").split("request=")[1];
const decided = await (await fetch(`${base}/console/api/oauth/requests/${requestId}/decision`, { method: "POST", headers: { cookie, "x-csrf-token": csrf, "content-type": "application/json" }, body: '{"approve":true}' })).json();
const code = new URL(decided.redirect).searchParams.get("code");
const tokens = await (await fetch(`${base}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirect, client_id, code_verifier: verifier }) })).json();
if (!tokens.access_token) throw new Error(`no access token: ${JSON.stringify(tokens)}`);

async function clientWith(token) {
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}
const contenders = { csk: await clientWith(csk), oauth: await clientWith(tokens.access_token) };

async function calls(client, n, into) {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const out = await client.callTool({ name: "get_project", arguments: { project_id: PROJECT } });
    if (out.isError) throw new Error(`call failed: ${JSON.stringify(out.content)}`);
    into?.push(performance.now() - t);
  }
}

for (const c of Object.values(contenders)) await calls(c, WARMUP);
const samples = { csk: [], oauth: [] };
const roundMedians = { csk: [], oauth: [] };
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? ["csk", "oauth"] : ["oauth", "csk"];
  for (const name of order) {
    const mine = [];
    await calls(contenders[name], CALLS, mine);
    samples[name].push(...mine);
    roundMedians[name].push(round(median(mine)));
  }
}

// Admission alone: the credential resolved and the request admitted, no HTTP, no upstream.
async function admits(credential) {
  const out = [];
  for (let i = 0; i < ADMITS; i++) {
    const t = performance.now();
    await gateway.admit({ transport: "http", credential, request: "POST /mcp", calls: [] });
    out.push((performance.now() - t) * 1000);
  }
  return out;
}
await admits(csk);
await admits(tokens.access_token);
const admitUs = { csk: [], oauth: [] };
for (let r = 0; r < ROUNDS; r++) {
  admitUs.csk.push(median(await admits(csk)));
  admitUs.oauth.push(median(await admits(tokens.access_token)));
}

const perCall = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { ...summarize(v), roundMedians_ms: roundMedians[k] }]));
const results = {
  generatedAt: new Date().toISOString().slice(0, 10),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgStart: START_LOAD, loadavgEnd: loadavg().map((x) => round(x, 1)) },
  method: `${ROUNDS} alternating rounds of ${CALLS} sequential get_project calls per token over one stateful Streamable HTTP session each (after ${WARMUP} warm-up calls); admission alone: ${ROUNDS} rounds of ${ADMITS} gateway.admit calls`,
  perCall,
  p50Ratio: round(perCall.oauth.p50_ms / perCall.csk.p50_ms),
  p99Ratio: round(perCall.oauth.p99_ms / perCall.csk.p99_ms),
  admission_us: { csk: round(median(admitUs.csk), 2), oauth: round(median(admitUs.oauth), 2), roundMedians: { csk: admitUs.csk.map((x) => round(x, 2)), oauth: admitUs.oauth.map((x) => round(x, 2)) } },
};
results.mode = REDIS_URL ? "distributed (Redis)" : "embedded";
writeFileSync(join(ROOT, `bench/results/${REDIS_URL ? "oauth-redis" : "oauth"}.json`), JSON.stringify(results, null, 2) + "\n");
console.log(JSON.stringify(results, null, 2));
for (const c of Object.values(contenders)) await c.close();
await http.close();
await gateway.close();
if (REDIS_URL) {
  // The throwaway prefix goes with the run.
  const { Redis } = await import("ioredis");
  const r = new Redis(REDIS_URL);
  let cursor = "0";
  do {
    const [next, keys] = await r.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== "0");
  await r.quit();
}
process.exit(0);
