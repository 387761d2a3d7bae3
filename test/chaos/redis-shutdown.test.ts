/**
 * Shutting down with Redis unreachable or frozen: the connection's close() is bounded, and once
 * it resolves nothing of ioredis keeps the process alive (a gateway on SIGTERM exits instead of
 * lingering on socket timers). Runs the compiled client in a child process, the only honest way
 * to see when a process can exit.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, startOwnRedis, type OwnRedis } from "../redis/redis-server.js";

const CLIENT = join(process.cwd(), "dist/src/stores/redis/redis-client.js");

// The child: connects, optionally subscribes, says how far it got, closes on "close" from stdin.
const CHILD = `
import { createRedisConnection } from ${JSON.stringify(CLIENT)};
const conn = createRedisConnection({ url: process.env.URL, keyPrefix: "cs-shutdown-test:", healthCheckMs: 0 });
const up = await conn.ready(Number(process.env.WAIT_MS));
if (process.env.SUBSCRIBE === "1") {
  const sub = conn.createSubscriber();
  // Queued while Redis is down (the subscriber keeps an offline queue), answered when it is up.
  const subscribed = sub.subscribe("cs-shutdown-test").catch(() => undefined);
  if (up) await subscribed;
}
process.stdout.write((up ? "up" : "down") + "\\n");
process.stdin.once("data", async () => {
  const t0 = Date.now();
  await conn.close();
  process.stdout.write("closed " + (Date.now() - t0) + "\\n");
});
`;

interface Run {
  /** ms from asking the child to close until close() resolved */
  closeMs: number;
  /** ms from asking the child to close until the process exited */
  exitMs: number;
  up: boolean;
}

async function closeInChild(env: Record<string, string>, beforeClose?: () => void): Promise<Run> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  const exited = once(child, "exit");
  await expect.poll(() => out, { timeout: 10_000 }).toMatch(/^(up|down)\n/);
  beforeClose?.();
  const t0 = Date.now();
  child.stdin.write("close\n");
  child.stdin.end();
  await exited;
  const exitMs = Date.now() - t0;
  const closeMs = Number(/closed (\d+)/.exec(out)?.[1] ?? NaN);
  return { closeMs, exitMs, up: out.startsWith("up") };
}

describe("closing the Redis connection", () => {
  let own: OwnRedis | undefined;
  afterAll(async () => {
    own?.freeze(false);
    await own?.stop(true);
  });

  it("lets the process exit at once when nothing listens at REDIS_URL", async () => {
    const port = await freePort();
    const run = await closeInChild({ URL: `redis://127.0.0.1:${port}`, WAIT_MS: "300", SUBSCRIBE: "1" });
    expect(run.up).toBe(false);
    expect(run.closeMs).toBeLessThan(200);
    expect(run.exitMs).toBeLessThan(1000);
  });

  it("is bounded when Redis stopped answering (frozen with its sockets open)", async () => {
    own = await startOwnRedis();
    const run = await closeInChild({ URL: own.url, WAIT_MS: "5000", SUBSCRIBE: "1" }, () => own!.freeze(true));
    expect(run.up).toBe(true);
    // One bounded QUIT for every connection at once, then a hard disconnect.
    expect(run.closeMs).toBeLessThan(1200);
    expect(run.exitMs).toBeLessThan(1800);
  });
});
