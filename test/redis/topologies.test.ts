/**
 * The REDIS_URL forms beyond one server, against real servers started here: a three-master
 * Redis Cluster (redis+cluster://) and a Sentinel watching one master (redis+sentinel://).
 * Every store runs one round trip of its real work on each, so a multi-key script whose keys
 * straddle hash slots (CROSSSLOT) or a command Sentinel routing breaks would fail here.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { mintConfirmation } from "../../src/confirm/tokens.js";
import { createRedisAuditStream } from "../../src/stores/redis/audit-stream.js";
import { createRedisPendingActions } from "../../src/stores/redis/pending-actions.js";
import { createRedisConnection, type RedisConnection } from "../../src/stores/redis/redis-client.js";
import { createRevocations } from "../../src/stores/redis/revocations.js";
import { createRedisTokenStore } from "../../src/stores/redis/token-store.js";
import { createRateLimits } from "../../src/stores/rate-limits.js";
import { answersPing, freePort } from "./redis-server.js";

const exec = promisify(execFile);
const children: ChildProcess[] = [];
const connections: RedisConnection[] = [];

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  for (const c of children) c.kill("SIGKILL");
});

/**
 * A redis-server on a free port, answering PING. A port taken between `freePort` and the server's
 * bind (another test's socket) makes that server exit: then it is tried again on another port.
 */
async function server(args: string[]): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "cs-topo-"));
    const child = spawn("redis-server", [...args, "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    children.push(child);
    let exited = false;
    child.once("exit", () => (exited = true));
    for (let i = 0; i < 300 && !exited; i++) {
      if (await answersPing(port)) return port;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    if (attempt === 3) throw new Error(`redis-server ${args.join(" ")} did not answer PING on three ports`);
  }
}

/** Every store, one real round trip each, on `connection`. */
async function exercise(connection: RedisConnection): Promise<void> {
  expect(await connection.ready(10_000)).toBe(true);
  const revocations = createRevocations(connection);
  const tokens = createRedisTokenStore({ connection, revocations });
  const rec = { id: "tok_t", hash: "c".repeat(64), name: "topology", modules: "all" as const, readOnly: false, tier: "default", createdAt: new Date().toISOString() };
  await tokens.create(rec);
  expect((await tokens.get("tok_t"))?.name).toBe("topology");
  expect((await tokens.revoke("tok_t", new Date()))?.revokedAt).toBeDefined();

  const actions = createRedisPendingActions({ connection, sweepIntervalMs: 0 });
  const m = mintConfirmation();
  const now = Date.now();
  await actions.create({ id: m.actionId, tokenId: "tok_t", tool: "t", args: {}, tokenHash: m.tokenHash, createdAt: now, expiresAt: now + 60_000, preview: { summary: "s", tool: "t", method: "POST", url: "http://x", warnings: [] } });
  expect((await actions.list("tok_t")).length).toBe(1);
  const claims = await Promise.all([actions.claim(m.actionId, "tok_t"), actions.claim(m.actionId, "tok_t"), actions.claim(m.actionId, "tok_t")]);
  expect(claims.filter((c) => c.kind === "claimed")).toHaveLength(1);
  await actions.complete(m.actionId, { status: "executed", result: { content: [] } });
  expect((await actions.get(m.actionId))?.state).toBe("done");

  const audit = createRedisAuditStream({ connection });
  await audit.write({ ts: new Date().toISOString(), requestId: "topo", transport: "http", tool: "t", tokenId: "tok_t", outcome: "ok" });
  await audit.flush();
  expect((await audit.recent("tok_t", 5)).map((r) => r.requestId)).toEqual(["topo"]);
  expect((await audit.query({ tokenId: "tok_t" })).map((r) => r.requestId)).toEqual(["topo"]);

  const limits = createRateLimits({ tiers: { default: { normal: 2, sensitive: 1 } }, storeClient: connection.client, keyPrefix: `${connection.prefix}rl` });
  const taken = await Promise.all([1, 2, 3].map(() => limits.consume("normal", "tok_t", "default")));
  expect(taken.map((t) => t.kind).sort()).toEqual(["allowed", "allowed", "limited"]);
  await audit.close();
  await tokens.close();
  await actions.close();
}

describe("Redis topologies", () => {
  it("runs every store on a three-master Redis Cluster (redis+cluster://)", async () => {
    const ports = await Promise.all([0, 1, 2].map(() => server(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"])));
    await exec("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-yes"]);
    // Wait until every node agrees the cluster is up.
    for (const p of ports) {
      for (let i = 0; i < 100; i++) {
        const { stdout } = await exec("redis-cli", ["-p", String(p), "cluster", "info"]);
        if (stdout.includes("cluster_state:ok")) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const connection = createRedisConnection({ url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`, keyPrefix: "cs-cluster:" });
    connections.push(connection);
    await exercise(connection);
  }, 60_000);

  it("runs every store through a Sentinel (redis+sentinel://)", async () => {
    const master = await server([]);
    const sentinelPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "cs-sentinel-"));
    const conf = join(dir, "sentinel.conf");
    writeFileSync(conf, [`port ${sentinelPort}`, "bind 127.0.0.1", `dir ${dir}`, `sentinel monitor main 127.0.0.1 ${master} 1`, "sentinel down-after-milliseconds main 5000"].join("\n") + "\n");
    const sentinel = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
    children.push(sentinel);
    for (let i = 0; i < 100 && !(await answersPing(sentinelPort)); i++) await new Promise((r) => setTimeout(r, 50));
    const connection = createRedisConnection({ url: `redis+sentinel://127.0.0.1:${sentinelPort}/main`, keyPrefix: "cs-sentinel:" });
    connections.push(connection);
    await exercise(connection);
    // The data went to the master the Sentinel named.
    const { stdout } = await exec("redis-cli", ["-p", String(master), "exists", "cs-sentinel:{tokens}:by-id"]);
    expect(stdout.trim()).toBe("1");
  }, 60_000);
});
