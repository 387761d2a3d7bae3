/**
 * Real Redis servers for the distributed-mode tests: the shared one on 127.0.0.1:6379 when it
 * answers, otherwise (and for tests that stop and restart Redis) a `redis-server` started here on
 * a free port. Never a mock.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something answers PING on host:port within `ms`. */
export async function answersPing(port: number, ms = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.once("error", () => done(false));
    s.connect(port, "127.0.0.1", () => s.write("PING\r\n"));
    s.once("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

/** A redis-server child this test controls (stop and start again on the same port and dir). */
export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  start(): Promise<void>;
  /** Stops it: `SHUTDOWN` (with `--appendonly yes` the AOF is fsynced first), or SIGKILL when `hard`. */
  stop(hard?: boolean): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the process: a Redis that hangs with its sockets open. */
  freeze(frozen: boolean): void;
}

/** Starts a dedicated redis-server on a free port; `persist` turns the AOF on so data survives a restart. */
export async function startOwnRedis(options: { persist?: boolean } = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "cs-redis-"));
  let child: ChildProcess | undefined;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--appendonly", options.persist ? "yes" : "no", "--appendfsync", "always"];
  const own: OwnRedis = {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn("redis-server", args, { stdio: "ignore" });
      for (let i = 0; i < 100; i++) {
        if (await answersPing(port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`redis-server did not start on port ${port}`);
    },
    freeze(frozen) {
      child?.kill(frozen ? "SIGSTOP" : "SIGCONT");
    },
    async stop(hard = false) {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      if (hard) c.kill("SIGKILL");
      else {
        const admin = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0 });
        await admin.connect().then(() => admin.call("SHUTDOWN"), () => c.kill("SIGTERM")).catch(() => undefined);
        admin.disconnect();
      }
      await exited;
    },
  };
  await own.start();
  return own;
}

/** The URL of a Redis for tests that only need one: 127.0.0.1:6379 when it answers, else one started here. */
export async function sharedRedis(): Promise<{ url: string; close(): Promise<void> }> {
  if (await answersPing(6379)) return { url: "redis://127.0.0.1:6379", close: async () => undefined };
  const own = await startOwnRedis();
  return { url: own.url, close: () => own.stop() };
}

/** A key prefix no other test run uses. */
export function uniquePrefix(): string {
  return `cs-test-${randomUUID().slice(0, 8)}:`;
}

/** Deletes every key under `prefix` (tests clean up after themselves on the shared Redis). */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
}
