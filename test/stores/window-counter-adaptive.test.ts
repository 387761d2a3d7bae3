import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createAdaptiveWindowCounter } from "../../src/stores/window-counter-adaptive.js";
import type { WindowCounter } from "../../src/stores/window-counter-files.js";

const DIST_COUNTER = fileURLToPath(new URL("../../dist/src/stores/window-counter-adaptive.js", import.meta.url));
const DAY_MS = 86_400_000;

const dirs: string[] = [];
const counters: WindowCounter[] = [];
afterEach(async () => {
  await Promise.all(counters.splice(0).map((c) => c.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function counterIn(dir: string, extra: { staleMs?: number; heartbeatMs?: number } = {}): WindowCounter {
  const c = createAdaptiveWindowCounter({ dir, windowMs: DAY_MS, heartbeatMs: 100, ...extra });
  counters.push(c);
  return c;
}

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), "cs-rl-adaptive-"));
  dirs.push(d);
  return join(d, "rate-limits");
}

/** The states of the live entries (`solo`, `shared`), sorted. */
function states(dir: string): string[] {
  const peers = join(dir, ".peers");
  return existsSync(peers) ? readdirSync(peers).map((n) => n.split(".")[1]).sort() : [];
}

/** Resolves once `condition` holds (checked every 10 ms), failing after 5 s. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within 5 s: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function takeMany(c: WindowCounter, n: number, limit: number): Promise<{ allowed: number; limited: number }> {
  let allowed = 0;
  for (let i = 0; i < n; i++) if ((await c.take("tok", limit)).allowed) allowed++;
  return { allowed, limited: n - allowed };
}

/** Files of the key's windows: slots (`1`, `2`…) and handed-over counts (`+6.…`). */
function windowFiles(dir: string): string[] {
  const keys = readdirSync(dir).filter((k) => k !== ".peers");
  return keys.flatMap((k) => readdirSync(join(dir, k)).filter((w) => w !== "anchor").flatMap((w) => readdirSync(join(dir, k, w))));
}

describe("embedded rate limits: in memory while alone on the data dir, in the files once shared", () => {
  it("a process alone counts in memory: no file per call, the limit holds", async () => {
    const dir = freshDir();
    const a = counterIn(dir);
    await waitFor(() => states(dir).join() === "solo", "the lone process goes solo");
    expect(await takeMany(a, 12, 10)).toEqual({ allowed: 10, limited: 2 });
    expect(windowFiles(dir)).toEqual([]);
    expect(await a.take("tok", 10)).toMatchObject({ allowed: false, count: 10 });
  });

  it("a second process gets exactly what is left: the first hands its count over before the newcomer counts; when it leaves, the first counts in memory again from the files", async () => {
    const dir = freshDir();
    const a = counterIn(dir);
    await waitFor(() => states(dir).join() === "solo", "a goes solo");
    expect(await takeMany(a, 6, 10)).toEqual({ allowed: 6, limited: 0 });
    const b = counterIn(dir);
    // b's very first take waits for a's hand-over.
    expect(await takeMany(b, 3, 10)).toEqual({ allowed: 3, limited: 0 });
    expect(states(dir)).toEqual(["shared", "shared"]);
    expect(windowFiles(dir).sort()).toEqual([expect.stringMatching(/^\+6\./), "1", "2", "3"]);
    expect((await a.take("tok", 10)).count).toBe(10);
    expect(await takeMany(b, 2, 10)).toEqual({ allowed: 0, limited: 2 });
    await b.close();
    await waitFor(() => states(dir).join() === "solo", "a alone again goes solo");
    // The files hold 10: in memory from there.
    expect(await a.take("tok", 10)).toMatchObject({ allowed: false, count: 10 });
    expect(await a.take("tok", 11)).toMatchObject({ allowed: true, count: 11 });
  });

  it("a newcomer waits for a dead solo process's entry to go stale, then deletes it", async () => {
    const dir = freshDir();
    const peers = join(dir, ".peers");
    const dead = join(peers, "4242-deadbeef.solo");
    mkdirSync(peers, { recursive: true });
    writeFileSync(dead, "");
    const started = Date.now();
    const c = counterIn(dir, { staleMs: 400 });
    expect(await c.take("tok", 5)).toMatchObject({ allowed: true, count: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(existsSync(dead)).toBe(false);
  });

  it("keeps its entry fresh while it lives and deletes it on close", async () => {
    const dir = freshDir();
    const a = counterIn(dir);
    await waitFor(() => states(dir).join() === "solo", "the entry is there");
    const entry = join(dir, ".peers", readdirSync(join(dir, ".peers"))[0]);
    const first = statSync(entry).mtimeMs;
    await waitFor(() => statSync(entry).mtimeMs > first, "the heartbeat refreshes it");
    counters.splice(0);
    await a.close();
    expect(states(dir)).toEqual([]);
  });
});

/** A process that counts `n` calls of one key on `dir` once it is solo, says how many passed, and stays until its stdin ends. */
const CHILD = `
const { createAdaptiveWindowCounter } = await import(process.argv[2]);
const { readdirSync } = await import("node:fs");
const [dir, n] = [process.argv[3], Number(process.argv[4])];
const c = createAdaptiveWindowCounter({ dir, windowMs: ${DAY_MS} });
const entries = () => { try { return readdirSync(dir + "/.peers"); } catch { return []; } };
while (!entries().some((e) => e.endsWith(".solo"))) await new Promise((r) => setTimeout(r, 10));
let allowed = 0;
for (let i = 0; i < n; i++) if ((await c.take("tok", 1000)).allowed) allowed++;
process.stdout.write(JSON.stringify({ allowed }) + "\\n");
process.stdin.resume();
process.stdin.on("end", async () => {
  let more = 0;
  for (let i = 0; i < 10; i++) if ((await c.take("tok", 1000)).allowed) more++;
  process.stdout.write(JSON.stringify({ more }) + "\\n");
  c.close();
});
`;

/** A process that goes solo on `dir`, then exits without closing its counter. */
const EXITS = `
const { createAdaptiveWindowCounter } = await import(process.argv[2]);
const { readdirSync } = await import("node:fs");
const dir = process.argv[3];
createAdaptiveWindowCounter({ dir, windowMs: ${DAY_MS} });
const entries = () => { try { return readdirSync(dir + "/.peers"); } catch { return []; } };
while (!entries().some((e) => e.endsWith(".solo"))) await new Promise((r) => setTimeout(r, 10));
process.exit(0);
`;

describe("the hand-over between real processes", () => {
  it("a process that exits without closing takes its entry with it: the next one is not held up", async () => {
    const dir = freshDir();
    const script = join(dir, "..", "exits.mjs");
    writeFileSync(script, EXITS);
    const proc = spawn(process.execPath, [script, DIST_COUNTER, dir], { stdio: ["ignore", "inherit", "inherit"] });
    const code = await new Promise<number | null>((resolve) => proc.on("exit", resolve));
    expect(code).toBe(0);
    expect(states(dir)).toEqual([]);
    // Would wait for a stale entry (10 s here) if the exit had left one.
    const started = Date.now();
    const next = counterIn(dir, { staleMs: 10_000 });
    expect((await next.take("tok", 5)).allowed).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a process counting alone in memory, then a second process on the same data dir: 1,000 allowed in all, not one more", async () => {
    const dir = freshDir();
    const script = join(dir, "..", "child.mjs");
    writeFileSync(script, CHILD);
    const proc = spawn(process.execPath, [script, DIST_COUNTER, dir, "600"], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
    const first = JSON.parse((await lines.next()).value as string) as { allowed: number };
    expect(first.allowed).toBe(600);
    // Counted in the child's memory: nothing in the files yet.
    expect(windowFiles(dir)).toEqual([]);
    const here = counterIn(dir);
    expect(await takeMany(here, 500, 1000)).toEqual({ allowed: 400, limited: 100 });
    proc.stdin.end();
    const after = JSON.parse((await lines.next()).value as string) as { more: number };
    expect(after.more).toBe(0);
  });
});
