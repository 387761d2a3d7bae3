/**
 * The console on the distributed mode: two real gateway processes on one real Redis. A token
 * created through replica A's console works on B at once; a call made on B shows in A's live
 * activity; revoking through A's console cuts B's client off within a second.
 * (Needs `make build`: the replicas run the built CLI.)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminFileStore } from "../../src/console/admins.js";
import { dropPrefix, sharedRedis, uniquePrefix } from "../redis/redis-server.js";
import { replicaEnv, startCountingUpstream, writeGeneratedApi, type CountingUpstream } from "../redis/replicas-harness.js";

const CLI = join(import.meta.dirname, "..", "..", "bin", "countersign.js");
let redis: { url: string; close(): Promise<void> };
let upstream: CountingUpstream;
const prefix = uniquePrefix();
const children: ChildProcess[] = [];
let a: string;
let b: string;
let admin: string;

async function replica(dataDir: string, generated: string): Promise<string> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--generated", generated, "--upstream", upstream.url], {
    env: replicaEnv(redis.url, prefix, { COUNTERSIGN_DATA_DIR: dataDir }),
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let err = "";
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start in 30 s:\n${err}`)), 30_000);
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /countersign: listening on (\S+)\/mcp/.exec(err);
      if (m) (clearTimeout(timer), resolve(m[1]!));
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`replica exited with ${code}:\n${err}`))));
  });
}

beforeAll(async () => {
  redis = await sharedRedis();
  upstream = await startCountingUpstream();
  const generated = writeGeneratedApi();
  const dirA = mkdtempSync(join(tmpdir(), "cs-console-a-"));
  admin = (await createAdminFileStore({ dir: dirA }).create("ops")).credential;
  [a, b] = await Promise.all([replica(dirA, generated), replica(mkdtempSync(join(tmpdir(), "cs-console-b-")), generated)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null) return resolve(undefined);
          c.once("exit", resolve);
          c.kill("SIGTERM");
        }),
    ),
  );
  await upstream?.close();
  await dropPrefix(redis.url, prefix);
  await redis?.close();
});

describe("console across replicas", () => {
  it("creates on A, works on B at once, shows B's call in A's live activity, revokes on A and B's client gets 401", async () => {
    const created = await fetch(`${a}/console/api/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "replica agent" }),
    });
    expect(created.status).toBe(201);
    const { secret, token } = (await created.json()) as { secret: string; token: { id: string } };

    const stream = await fetch(`${a}/console/api/events?token=${token.id}`, { headers: { authorization: `Bearer ${admin}` } });
    const reader = stream.body!.getReader();

    const client = new Client({ name: "on-b", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${b}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${secret}` } } }));
    const started = Date.now();
    await client.callTool({ name: "get_item", arguments: { item_id: "1" } });
    let text = "";
    while (!text.includes('"tool":"get_item"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain(`"tokenId":"${token.id}"`);
    expect(Date.now() - started).toBeLessThan(1500);
    await reader.cancel();

    const revoked = await fetch(`${a}/console/api/tokens/${token.id}/revoke`, { method: "POST", headers: { authorization: `Bearer ${admin}` } });
    expect(revoked.status).toBe(200);
    const cut = Date.now();
    // Revocation travels over Redis pub/sub; the next call on B within a second is refused.
    let refused = false;
    while (!refused && Date.now() - cut < 1000) {
      refused = await client.callTool({ name: "get_item", arguments: { item_id: "1" } }).then(
        (r) => r.isError === true && JSON.stringify(r).includes("revoked"),
        (err: Error) => /401|revoked/i.test(err.message),
      );
    }
    expect(refused).toBe(true);
    await client.close().catch(() => undefined);
  });
});
