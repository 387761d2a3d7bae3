#!/usr/bin/env node
/**
 * Chaos: previews and confirms writes against a counting upstream while the gateway
 * (`countersign serve`, a child process) is killed with SIGKILL at random moments (during
 * previews and confirms alike) and restarted on the same data dir, or the same Redis.
 *
 * Every action must end executed (exactly once), cancelled, expired or unknown, and the upstream
 * must never see one action's write twice (it counts writes per Idempotency-Key, which the
 * gateway sets to the action id). Clients are the SDK's own, over Streamable HTTP.
 *
 *   node bench/chaos.js [--rounds 50] [--stores file,redis] [--seed N] [--redis-url redis://127.0.0.1:6379/13] [--out FILE]
 *
 * Writes bench/results/chaos.json (or --out) and exits 1 when an invariant was broken. Needs
 * `make build`. The test suite runs a short profile of the same loop (test/chaos/chaos.test.ts).
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Redis } from "ioredis";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "bin/countersign.js");

/** One write operation, `POST /api/items`, is all the gateway needs to serve. */
const SPEC = {
  openapi: "3.0.3",
  info: { title: "Chaos", version: "1" },
  servers: [{ url: "/api" }],
  paths: {
    "/items": {
      post: {
        operationId: "createItem",
        tags: ["items"],
        requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["title"], properties: { title: { type: "string" } } } } } },
        responses: { 201: { description: "created", content: { "application/json": { schema: { type: "object", properties: { id: { type: "string" }, title: { type: "string" } } } } } } },
      },
    },
  },
};

/** Share of rounds in which the gateway is killed. */
const KILL_PROBABILITY = 0.75;

/** A small seeded PRNG (mulberry32), so a run can be repeated with its seed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The upstream: counts every write per Idempotency-Key once its request is fully read, then answers after a delay. */
async function startCountingUpstream(delay) {
  const counts = new Map();
  let writes = 0;
  const sockets = new Set();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || !req.url.startsWith("/api/items")) return res.writeHead(404).end();
      writes++;
      const key = req.headers["idempotency-key"] ?? "(none)";
      counts.set(key, (counts.get(key) ?? 0) + 1);
      let title = "";
      try {
        title = JSON.parse(Buffer.concat(chunks).toString("utf8")).title;
      } catch {
        // counted all the same
      }
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ id: key, title }));
      }, delay());
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    counts,
    writes: () => writes,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A `countersign serve` child on a free port; resolves once it says where it listens. */
async function startGateway(env, generated) {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--host", "127.0.0.1", "--generated", generated], { env, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (c) => {
    err = (err + c.toString()).slice(-8000);
  });
  const exited = once(child, "exit");
  const url = await new Promise((resolve, reject) => {
    const onData = () => {
      const m = /countersign: listening on (\S+)/.exec(err);
      if (m) {
        child.stderr.off("data", onData);
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 20 s:\n${err}`)), 20_000);
    child.stderr.on("data", onData);
    exited.then(([code, signal]) => reject(new Error(`the gateway exited (${code ?? signal}) before listening:\n${err}`)));
  });
  return { child, url, exited, stderr: () => err };
}

/** What a tool result says about an action: its status, from a success or from the error's details. */
function statusOf(result) {
  const sc = result?.structuredContent;
  return sc?.status ?? sc?.error?.status ?? (result?.isError ? `error:${sc?.error?.code ?? "?"}` : undefined);
}

/** Generates the chaos API's tools with `countersign generate` into `<dir>/generated`; returns that folder. */
export function generateChaosApi(dir) {
  const specFile = join(dir, "spec.json");
  const generated = join(dir, "generated");
  writeFileSync(specFile, JSON.stringify(SPEC));
  execFileSync(process.execPath, [CLI, "generate", "--spec", specFile, "--out", generated], { stdio: "ignore" });
  return generated;
}

/**
 * Runs the loop on one kind of store and returns what happened.
 * `generated`: a folder from `generateChaosApi` to reuse; `budgetMs`: no round starts after it.
 * @param {{ store: "file" | "redis", rounds: number, seed?: number, redisUrl?: string, generated?: string, budgetMs?: number, log?: (line: string) => void }} options
 */
export async function runChaos(options) {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rng = prng(seed);
  const between = (lo, hi) => Math.floor(lo + rng() * (hi - lo));
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const budgetMs = options.budgetMs ?? Infinity;

  const work = mkdtempSync(join(tmpdir(), "cs-chaos-"));
  const generated = options.generated ?? generateChaosApi(work);

  const upstream = await startCountingUpstream(() => between(20, 200));
  const prefix = `cs-chaos-${randomBytes(4).toString("hex")}:`;
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    COUNTERSIGN_DATA_DIR: join(work, "data"),
    COUNTERSIGN_UPSTREAM_URL: upstream.url,
    COUNTERSIGN_RATE_NORMAL: "1000000",
    COUNTERSIGN_RATE_SENSITIVE: "1000000",
    LOG_LEVEL: "warn",
    ...(options.store === "redis" ? { REDIS_URL: options.redisUrl ?? "redis://127.0.0.1:6379/13", COUNTERSIGN_REDIS_PREFIX: prefix } : {}),
  };
  const token = JSON.parse(execFileSync(process.execPath, [CLI, "tokens", "create", "--name", "chaos", "--json"], { env, encoding: "utf8" })).token;

  /** Every action a preview handed back, by id. */
  const actions = new Map();
  const counts = { rounds: 0, kills: 0, restarts: 0, previews: 0, previewsLost: 0, confirms: 0, cancels: 0, callsLost: 0 };
  let gateway;
  let client;

  async function connect() {
    gateway = await startGateway(env, generated);
    client = new Client({ name: "chaos", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  }

  /** Calls started in this round, and the one after whose start the gateway is killed. */
  let callsThisRound = 0;
  let killAtCall = -1;
  let killed = false;
  let killAfterMs = 0;

  /** A tool call; undefined when the gateway died under it. */
  async function call(name, args) {
    if (++callsThisRound === killAtCall) {
      // A short random delay after a call starts: the kill lands while it (and any call
      // running beside it) is being previewed, claimed, sent upstream or recorded.
      killAfterMs = between(0, 120);
      setTimeout(() => {
        killed = true;
        gateway.child.kill("SIGKILL");
      }, killAfterMs);
    }
    try {
      return await client.callTool({ name, arguments: args }, undefined, { timeout: 30_000 });
    } catch (err) {
      counts.callsLost++;
      return undefined;
    }
  }

  async function preview() {
    counts.previews++;
    const r = await call("create_item", { title: `chaos ${counts.previews}` });
    const sc = r?.structuredContent;
    if (sc?.status === "pending_confirmation") actions.set(sc.action_id, { id: sc.action_id, token: sc.confirm_token, executedReplies: 0, replies: [] });
    else counts.previewsLost++;
  }

  async function confirm(a) {
    counts.confirms++;
    const r = await call("confirm_action", { confirm_token: a.token });
    const status = statusOf(r);
    if (status) a.replies.push(status);
    if (status === "executed") a.executedReplies++;
  }

  async function cancel(a) {
    counts.cancels++;
    const r = await call("cancel_action", { confirm_token: a.token });
    const status = statusOf(r);
    if (status) a.replies.push(`cancel:${status}`);
  }

  async function stopGateway(kill) {
    await client?.close().catch(() => undefined);
    if (gateway && gateway.child.exitCode === null && gateway.child.signalCode === null) {
      gateway.child.kill(kill ? "SIGKILL" : "SIGTERM");
      await gateway.exited;
    }
  }

  try {
    await connect();
    for (let round = 0; round < options.rounds && Date.now() - started < budgetMs; round++) {
      counts.rounds++;
      const n = between(1, 4);
      // Every action not known to be settled: confirm (sometimes twice at once) or cancel.
      const open = () => [...actions.values()].filter((a) => !a.replies.some((s) => /executed|unknown|cancelled|expired|executing/.test(s)));
      // Kill in most rounds, after any one of the round's calls, previews and confirms alike.
      callsThisRound = 0;
      killed = false;
      killAtCall = rng() < KILL_PROBABILITY ? between(1, n + open().length + n + 2) : -1;
      for (let i = 0; i < n; i++) await preview();
      const settling = open();
      // Only a pending action is confirmed or cancelled; any other is read with cancel_action,
      // which answers at once (a confirm of one still `executing` would wait for it).
      const listed = await call("list_pending_actions", {});
      const pendingIds = new Set((listed?.structuredContent?.actions ?? []).map((p) => p.action_id));
      await Promise.all(settling.map((a) => {
        if (!pendingIds.has(a.id)) return cancel(a);
        const pick = rng();
        if (pick < 0.15) return cancel(a);
        if (pick < 0.35) return Promise.all([confirm(a), confirm(a)]);
        return confirm(a);
      }));
      if (killAtCall > callsThisRound) killAtCall = -1;
      // A kill armed at the very end lands after the round: wait for it rather than race it.
      if (killAtCall !== -1) await gateway.exited;
      if (killed) {
        counts.kills++;
        await gateway.exited;
        await client.close().catch(() => undefined);
        counts.restarts++;
        await connect();
      }
      log(`round ${round + 1}: ${n} previews, ${settling.length} confirms/cancels${killed ? `, killed ${killAfterMs} ms after call ${killAtCall}` : ""}`);
      killAtCall = -1;
    }

    // Settle: confirm what is still pending, then read every action's state without changing it
    // (cancel_action answers at once for a settled action and never executes anything).
    const pending = await call("list_pending_actions", {});
    for (const p of pending?.structuredContent?.actions ?? []) {
      const a = actions.get(p.action_id);
      if (a) await confirm(a);
    }
    const outcomes = { executed: 0, cancelled: 0, expired: 0, unknown: 0 };
    const unknownDetail = { unknown: 0, executing: 0 };
    const violations = [];
    for (const a of actions.values()) {
      const status = statusOf(await call("cancel_action", { confirm_token: a.token }));
      const seen = upstream.counts.get(a.id) ?? 0;
      let outcome;
      if (status === "already_executed") outcome = "executed";
      else if (status === "cancelled") outcome = "cancelled";
      else if (status === "expired") outcome = "expired";
      else if (status === "unknown" || status === "executing") {
        // `executing` after a restart: the replica holding it was killed mid-call (the Redis
        // store reports it unknown once its executing timeout passes).
        outcome = "unknown";
        unknownDetail[status]++;
      } else {
        violations.push(`action ${a.id}: no final state (cancel_action answered ${status}; replies ${a.replies.join(",")})`);
        continue;
      }
      a.outcome = outcome;
      outcomes[outcome]++;
      if (seen > 1) violations.push(`action ${a.id}: the upstream saw its write ${seen} times`);
      if (outcome === "executed" && seen !== 1) violations.push(`action ${a.id}: executed, but the upstream saw it ${seen} times`);
      if ((outcome === "cancelled" || outcome === "expired") && seen !== 0) violations.push(`action ${a.id}: ${outcome}, but the upstream saw it ${seen} times`);
      if (a.executedReplies > 1) violations.push(`action ${a.id}: ${a.executedReplies} confirms answered "executed"`);
    }
    const duplicates = [...upstream.counts.values()].filter((c) => c > 1).length;
    const untracked = [...upstream.counts.keys()].filter((k) => !actions.has(k));
    if (untracked.length > 0) violations.push(`writes the client never previewed or without an Idempotency-Key: ${untracked.join(", ")}`);

    return {
      store: options.store,
      seed,
      ...counts,
      actions: actions.size,
      outcomes,
      unknownDetail,
      upstreamWrites: upstream.writes(),
      duplicates,
      violations,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    const tail = gateway?.stderr?.() ?? "";
    throw new Error(`chaos (${options.store}, seed ${seed}) failed: ${err instanceof Error ? err.message : String(err)}\n--- gateway stderr ---\n${tail}`);
  } finally {
    await stopGateway(true);
    await upstream.close();
    if (options.store === "redis") await dropKeys(env.REDIS_URL, prefix).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Removes the run's keys (its prefix is unique to it). */
async function dropKeys(url, prefix) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** One line per run, for people. */
export function summary(r) {
  const o = r.outcomes;
  return `${r.store}: ${r.rounds} rounds, ${r.kills} kills, ${r.actions} actions: ${o.executed} executed, ${o.cancelled} cancelled, ${o.expired} expired, ${o.unknown} unknown (${r.unknownDetail.executing} still executing); ` +
    `${r.upstreamWrites} upstream writes, ${r.duplicates} duplicates, ${r.violations.length} violations (seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s)`;
}

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "50" },
      stores: { type: "string", default: "file,redis" },
      seed: { type: "string" },
      "redis-url": { type: "string", default: "redis://127.0.0.1:6379/13" },
      out: { type: "string", default: join(ROOT, "bench/results/chaos.json") },
    },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
  const stores = values.stores.split(",").map((s) => s.trim());
  for (const s of stores) if (s !== "file" && s !== "redis") throw new Error(`--stores takes file and/or redis, got ${s}`);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  const results = [];
  for (const store of stores) {
    const r = await runChaos({ store, rounds, seed, redisUrl: values["redis-url"], log: (line) => process.stderr.write(`  ${store} ${line}\n`) });
    process.stdout.write(`${summary(r)}\n`);
    for (const v of r.violations) process.stdout.write(`  VIOLATION ${v}\n`);
    results.push(r);
  }
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify({ command: `node bench/chaos.js --rounds ${rounds} --stores ${stores.join(",")} --seed ${seed}`, node: process.version, date: new Date().toISOString(), results }, null, 2) + "\n");
  process.stdout.write(`wrote ${values.out}\n`);
  return results.every((r) => r.violations.length === 0) ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then((code) => (process.exitCode = code), (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
