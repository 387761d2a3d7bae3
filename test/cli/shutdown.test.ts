/**
 * Shutdown is bounded: a gateway whose Redis is unreachable exits soon after SIGTERM (it took about
 * 20 s) and says what it could not flush.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const CLI = join(process.cwd(), "bin/countersign.js");

describe("serve shutdown with Redis unreachable", () => {
  it("exits within the 5 s budget after SIGTERM and names the audit records it dropped", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cs-shutdown-"));
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--generated", "generated/workspace"], {
      env: { ...process.env, REDIS_URL: "redis://127.0.0.1:1", COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (c) => (err += String(c)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${err}`)), 30_000);
      child.stderr.on("data", () => {
        const m = /listening on (\S+)/.exec(err);
        if (m) (clearTimeout(timer), resolve(m[1]!));
      });
    });
    // One refused request leaves an audit record queued for the unreachable Redis.
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    expect(res.status).toBe(401);
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    const code = await exited;
    const tookMs = Date.now() - started;
    expect(code).toBe(0);
    // 5 s budget plus the process's own exit; it took about 20 s before.
    expect(tookMs).toBeLessThan(8_000);
    expect(err).toMatch(/record\(s\) could not reach Redis before shutdown/);
  }, 60_000);
});
