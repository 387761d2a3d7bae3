import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/context.js";
import { follow, parseSince, run, type AuditIo } from "../../src/cli/audit.js";
import { createAuditFileSink } from "../../src/stores/audit-file-sink.js";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "cs-audit-cli-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const NOW = Date.parse("2026-03-01T12:00:00Z");

function rec(i: number, over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    ts: new Date(NOW - (100 - i) * 60_000).toISOString(),
    requestId: `req-${i}`,
    tokenId: i % 2 ? "tok_a" : "tok_b",
    subject: i % 2 ? "alice" : "bob",
    transport: "http",
    tool: i % 3 ? "get_item" : "create_item",
    outcome: i % 4 ? "ok" : "denied",
    type: i % 4 ? "tool_call" : "denied",
    durationMs: 1.25,
    summary: `event ${i}`,
    ...over,
  };
}

async function seed(n: number, options: { maxFileBytes?: number } = {}) {
  const sink = createAuditFileSink({ dir: join(dataDir, "audit"), maxFileBytes: options.maxFileBytes ?? 4096 });
  for (let i = 0; i < n; i++) void sink.write(rec(i));
  await sink.close();
}

async function cli(argv: string[], extra: Partial<AuditIo> = {}) {
  let out = "";
  let err = "";
  const code = await run(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: { COUNTERSIGN_DATA_DIR: dataDir }, now: () => NOW, ...extra });
  return { code, out, err, lines: out.split("\n").filter(Boolean) };
}

describe("countersign audit", () => {
  it("tail prints the newest records across rotated files, oldest first", async () => {
    await seed(60);
    const { code, lines } = await cli(["tail", "-n", "3"]);
    expect(code).toBe(0);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain("event 59");
    expect(lines[0]).toContain("event 57");
    expect(lines[2]).toMatch(/ok\s+get_item\s+tok_a\(alice\)\s+1\.3ms/);
  });

  it("tail --json prints one JSON record per line", async () => {
    await seed(5);
    const { lines } = await cli(["tail", "--json"]);
    expect(lines.map((l) => (JSON.parse(l) as AuditRecord).requestId)).toEqual(["req-0", "req-1", "req-2", "req-3", "req-4"]);
  });

  it("query filters by token, tool, outcome and since", async () => {
    await seed(100);
    const byToken = await cli(["query", "--token", "tok_b", "--outcome", "denied", "--json"]);
    const ids = byToken.lines.map((l) => (JSON.parse(l) as AuditRecord).requestId);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, k) => `req-${k * 4}`));
    const recent = await cli(["query", "--since", "10m", "--tool", "get_item", "--json"]);
    expect(recent.lines.map((l) => (JSON.parse(l) as AuditRecord).requestId)).toEqual(["req-91", "req-92", "req-94", "req-95", "req-97", "req-98"]);
    const iso = await cli(["query", "--since", new Date(NOW - 3 * 60_000).toISOString(), "--json"]);
    expect(iso.lines).toHaveLength(3);
  });

  it("bad input gets a usage error naming the problem", async () => {
    expect((await cli(["query", "--since", "yesterday-ish"])).err).toMatch(/--since: expected an ISO time/);
    expect((await cli(["query", "--since", "yesterday-ish"])).code).toBe(2);
    expect((await cli(["tail", "-n", "0"])).err).toMatch(/-n: expected a positive integer/);
    expect((await cli(["frobnicate"])).code).toBe(2);
    expect((await cli(["query", "--nope"])).code).toBe(2);
  });

  it("an empty data dir prints nothing and succeeds", async () => {
    expect(await cli(["tail"])).toMatchObject({ code: 0, out: "" });
  });

  it("parseSince understands ages", () => {
    expect(parseSince("2h", NOW).toISOString()).toBe("2026-03-01T10:00:00.000Z");
    expect(parseSince("7d", NOW).toISOString()).toBe("2026-02-22T12:00:00.000Z");
  });

  it("follow does not lose records when the writer rotates several times between two polls", async () => {
    const dir = join(dataDir, "audit");
    const sink = createAuditFileSink({ dir, maxFileBytes: 4096, maxFiles: 100 });
    await sink.write(rec(0));
    await sink.flush();
    const seen: string[] = [];
    const controller = new AbortController();
    const following = follow(dir, (r) => seen.push(r.requestId), { signal: controller.signal, pollMs: 300 });
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 1; i <= 80; i++) void sink.write(rec(i));
    await sink.close();
    const deadline = Date.now() + 5000;
    while (seen.length < 80 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await following;
    expect(seen).toEqual(Array.from({ length: 80 }, (_, i) => `req-${i + 1}`));
  });

  it("follow prints new records as they are written, across a rotation", async () => {
    const dir = join(dataDir, "audit");
    const sink = createAuditFileSink({ dir, maxFileBytes: 4096 });
    await sink.write(rec(0));
    await sink.flush();
    const seen: string[] = [];
    const controller = new AbortController();
    const following = follow(dir, (r) => seen.push(r.requestId), { signal: controller.signal, pollMs: 10 });
    await new Promise((r) => setTimeout(r, 30));
    // ~250 bytes each: 60 records rotate the 4 KiB file several times.
    for (let i = 1; i <= 60; i++) {
      await sink.write(rec(i));
      if (i % 10 === 0) {
        await sink.flush();
        await new Promise((r) => setTimeout(r, 40));
      }
    }
    await sink.close();
    const deadline = Date.now() + 5000;
    while (seen.length < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await following;
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => `req-${i + 1}`));
  });
});
