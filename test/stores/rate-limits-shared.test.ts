import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createRateLimits } from "../../src/stores/rate-limits.js";

const DIST_LIMITS = fileURLToPath(new URL("../../dist/src/stores/rate-limits.js", import.meta.url));
// A day-long window: 1,100 calls never straddle its end (a key's windows start at its first call).
const WINDOW_SECONDS = 86_400;

/** A process that builds the limiter on `dataDir`, says `ready`, and on `go` consumes `n` points (20 at a time), then prints how many were allowed. */
const CHILD = `
import { createInterface } from "node:readline";
const { createRateLimits } = await import(process.argv[2]);
const [dataDir, n] = [process.argv[3], Number(process.argv[4])];
const limits = createRateLimits({ tiers: { default: { normal: 1000, sensitive: 100 } }, windowSeconds: ${WINDOW_SECONDS} }, { dataDir });
const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\\n");
for await (const line of lines) {
  if (line !== "go") continue;
  let allowed = 0, limited = 0, other = 0;
  for (let done = 0; done < n; done += 20) {
    const batch = await Promise.all(Array.from({ length: Math.min(20, n - done) }, () => limits.consume("normal", "tok_shared", "default")));
    for (const r of batch) r.kind === "allowed" ? allowed++ : r.kind === "limited" ? limited++ : other++;
  }
  process.stdout.write(JSON.stringify({ allowed, limited, other }) + "\\n");
  limits.close();
  break;
}
`;

/** Resolves once `condition` holds (checked every 10 ms), failing after 5 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met within 5 s");
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Child {
  ready: Promise<void>;
  result: Promise<{ allowed: number; limited: number; other: number }>;
  go(): void;
}

function startChild(script: string, dataDir: string, n: number): Child {
  const proc = spawn(process.execPath, [script, DIST_LIMITS, dataDir, String(n)], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: proc.stdout });
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<{ allowed: number; limited: number; other: number }>((resolve, reject) => {
    lines.on("line", (line) => {
      if (line === "ready") onReady();
      else resolve(JSON.parse(line) as { allowed: number; limited: number; other: number });
    });
    proc.on("exit", (code) => reject(new Error(`child exited with ${code} before answering`)));
  });
  return { ready, result, go: () => proc.stdin.end("go\n") };
}

describe("embedded rate limits shared by the processes on one data dir", () => {
  it("three processes, one token, 1,100 calls in all: exactly 1,000 allowed", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cs-rl-"));
    const script = join(dataDir, "child.mjs");
    writeFileSync(script, CHILD);
    const children = [startChild(script, dataDir, 367), startChild(script, dataDir, 367), startChild(script, dataDir, 366)];
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const results = await Promise.all(children.map((c) => c.result));
    expect(results.reduce((n, r) => n + r.allowed, 0)).toBe(1000);
    expect(results.reduce((n, r) => n + r.limited, 0)).toBe(100);
    expect(results.every((r) => r.other === 0)).toBe(true);
    // Every process got some: they really ran at the same time on the same counts.
    expect(results.every((r) => r.allowed > 0)).toBe(true);
  });

  it("counts each token and bucket apart, says when the window ends, and starts afresh in the next window", async () => {
    let t = Date.UTC(2026, 0, 1, 12, 0, 10);
    const dataDir = mkdtempSync(join(tmpdir(), "cs-rl-"));
    const tiers = { default: { normal: 3, sensitive: 1 } };
    const a = createRateLimits({ tiers, windowSeconds: 60 }, { dataDir, now: () => t });
    const b = createRateLimits({ tiers, windowSeconds: 60 }, { dataDir, now: () => t });
    expect(await a.consume("normal", "tok_x", "default")).toEqual({ kind: "allowed", remaining: 2 });
    expect(await b.consume("normal", "tok_x", "default")).toEqual({ kind: "allowed", remaining: 1 });
    expect(await a.consume("normal", "tok_x", "default")).toEqual({ kind: "allowed", remaining: 0 });
    // The key's window started with its first call: a whole minute is left.
    expect(await b.consume("normal", "tok_x", "default")).toEqual({ kind: "limited", limit: 3, retryAfterMs: 60_000 });
    expect(await b.consume("sensitive", "tok_x", "default")).toMatchObject({ kind: "allowed" });
    expect(await b.consume("normal", "tok_y", "default")).toMatchObject({ kind: "allowed" });
    expect(await a.consume("normal", "tok_x", "nope")).toEqual({ kind: "unknown_tier", tier: "nope" });
    t += 60_000;
    expect(await b.consume("normal", "tok_x", "default")).toEqual({ kind: "allowed", remaining: 2 });
    // The ended window of that key is deleted (in the background) once a process moves past it.
    const root = join(dataDir, "rate-limits");
    const [ended, current] = ["0", "1"];
    const moved = readdirSync(root).find((k) => readdirSync(join(root, k)).includes(current))!;
    await waitFor(() => !readdirSync(join(root, moved)).includes(ended));
    expect(readdirSync(join(root, moved)).sort()).toEqual([current, "anchor"]);
    expect(readdirSync(root).filter((k) => readdirSync(join(root, k)).includes(ended))).toHaveLength(2);
    await a.close?.();
    await b.close?.();
  });

  it("when the data dir refuses writes, keeps limiting with this process's own count", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cs-rl-"));
    // rate-limits/ taken by a plain file: every slot fails with ENOTDIR.
    writeFileSync(join(dataDir, "rate-limits"), "");
    const limits = createRateLimits({ tiers: { default: { normal: 2, sensitive: 1 } } }, { dataDir });
    expect((await limits.consume("normal", "tok_f", "default")).kind).toBe("allowed");
    expect((await limits.consume("normal", "tok_f", "default")).kind).toBe("allowed");
    expect(await limits.consume("normal", "tok_f", "default")).toMatchObject({ kind: "limited", limit: 2 });
    await limits.close?.();
  });

  it("without a data dir counts in this process only, as before", async () => {
    const limits = createRateLimits({ tiers: { default: { normal: 2, sensitive: 1 } } });
    expect((await limits.consume("normal", "tok_m", "default")).kind).toBe("allowed");
    expect((await limits.consume("normal", "tok_m", "default")).kind).toBe("allowed");
    expect((await limits.consume("normal", "tok_m", "default")).kind).toBe("limited");
  });
});
