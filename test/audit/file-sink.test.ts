import { mkdtemp, readdir, readFile, rm, stat, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/context.js";
import { createAuditRecorder } from "../../src/audit/recorder.js";
import { createAuditFileSink, CURRENT_FILE, listAuditFiles } from "../../src/stores/audit-file-sink.js";
import { createTask } from "./fixtures.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cs-audit-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(i: number, tokenId = i % 2 ? "tok_a" : "tok_b"): AuditRecord {
  return {
    ts: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(),
    requestId: `req-${i}`,
    tokenId,
    transport: "http",
    tool: i % 3 ? "get_task" : "create_task",
    outcome: i % 5 ? "ok" : "denied",
    args: { i, pad: "p".repeat(200) },
  };
}

describe("audit file sink", () => {
  it("survives rotation and a restart without losing a record", async () => {
    const N = 500;
    const sink = createAuditFileSink({ dir, maxFileBytes: 16 * 1024, maxFiles: 1000 });
    // Written in bursts, as calls arrive, so rotation happens mid-stream.
    for (let i = 0; i < N; i++) {
      await sink.write(record(i));
      if (i % 37 === 0) await new Promise((r) => setImmediate(r));
    }
    await sink.close();
    const files = await listAuditFiles(dir);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      expect((await stat(f)).mode & 0o777).toBe(0o600);
      expect((await stat(f)).size).toBeLessThanOrEqual(16 * 1024);
    }

    const reopened = createAuditFileSink({ dir, maxFileBytes: 16 * 1024, maxFiles: 1000 });
    const all = await reopened.query();
    expect(all.map((r) => r.requestId)).toEqual(Array.from({ length: N }, (_, i) => `req-${i}`));
    // The per-token index is rebuilt from the files: get_activity still works after a restart.
    const recent = await reopened.recent("tok_a", 3);
    expect(recent.map((r) => r.requestId)).toEqual(["req-499", "req-497", "req-495"]);
    // New records continue the sequence, newest first across old and new.
    await reopened.write(record(N, "tok_a"));
    expect((await reopened.recent("tok_a", 2)).map((r) => r.requestId)).toEqual([`req-${N}`, "req-499"]);
    await reopened.close();
  });

  it("filters queries by token, tool, outcome and time, across files", async () => {
    const sink = createAuditFileSink({ dir, maxFileBytes: 8 * 1024 });
    for (let i = 0; i < 100; i++) void sink.write(record(i));
    const denied = await sink.query({ outcome: "denied", tokenId: "tok_b" });
    expect(denied.map((r) => r.args && (r.args as { i: number }).i)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const since = await sink.query({ since: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 95)), tool: "get_task" });
    expect(since.map((r) => r.requestId)).toEqual(["req-95", "req-97", "req-98"]);
    expect((await sink.query({ limit: 2 })).map((r) => r.requestId)).toEqual(["req-98", "req-99"]);
    await sink.close();
  });

  it("keeps only maxFiles rotated files", async () => {
    const sink = createAuditFileSink({ dir, maxFileBytes: 4096, maxFiles: 2 });
    for (let i = 0; i < 200; i++) void sink.write(record(i));
    await sink.close();
    const names = (await readdir(dir)).sort();
    expect(names).toHaveLength(3);
    expect(names).toContain(CURRENT_FILE);
    const kept = await createAuditFileSink({ dir }).query();
    expect(kept.at(-1)!.requestId).toBe("req-199");
  });

  it("a full buffer makes writers wait instead of dropping records", async () => {
    const sink = createAuditFileSink({ dir, bufferRecords: 4 });
    const writes = Array.from({ length: 50 }, (_, i) => sink.write(record(i)));
    let settled = 0;
    writes.forEach((w) => void w.then(() => settled++));
    await Promise.resolve();
    expect(settled).toBeLessThanOrEqual(4);
    await Promise.all(writes);
    await sink.close();
    const back = await createAuditFileSink({ dir }).query();
    expect(back.map((r) => r.requestId)).toEqual(Array.from({ length: 50 }, (_, i) => `req-${i}`));
  });

  it("skips a torn last line left by a crash and keeps going", async () => {
    const sink = createAuditFileSink({ dir });
    await sink.write(record(1));
    await sink.close();
    await appendFile(join(dir, CURRENT_FILE), '{"ts":"2026-01-01T00:00:00Z","requ');
    const again = createAuditFileSink({ dir });
    await again.write(record(2));
    // The new line starts on a fresh line, so only the torn fragment is lost.
    const back = await again.query();
    expect(back.map((r) => r.requestId)).toEqual(["req-1", "req-2"]);
    await again.close();
  });

  it("writes a password from the arguments nowhere in the file", async () => {
    const sink = createAuditFileSink({ dir });
    const recorder = createAuditRecorder({ sink });
    await recorder.finish({
      audit: { ts: new Date().toISOString(), requestId: "r", transport: "stdio", tool: "create_task" },
      tool: createTask,
      args: { project_id: 1, title: "T", pin: "PIN-7731", password: "hunter2!", body: { big: "y".repeat(100 * 1024) } },
      threw: false,
      result: { content: [{ type: "text", text: '{"password":"hunter2!"}' }] },
      durationMs: 1,
    });
    await recorder.close();
    const text = await readFile(join(dir, CURRENT_FILE), "utf8");
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("PIN-7731");
    const rec = JSON.parse(text) as AuditRecord;
    expect(typeof rec.args).toBe("string");
    expect(Buffer.byteLength(rec.args as string)).toBe(4096);
    expect(rec.args as string).toMatch(/…\[truncated, \d+ bytes\]$/);
  });
});

describe("audit file sink on a stalled disk", () => {
  it("answers writes at once until the buffer is full, then waits; nothing is lost when the disk catches up", async () => {
    const { execFileSync } = await import("node:child_process");
    const { createReadStream } = await import("node:fs");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(dir, { recursive: true });
    // A named pipe nobody reads stands in for a disk that stops taking writes once its 64 KiB buffer is full.
    execFileSync("mkfifo", ["-m", "600", join(dir, CURRENT_FILE)]);
    const sink = createAuditFileSink({ dir, bufferRecords: 50, maxFileBytes: 1 << 30, flushIntervalMs: 1 });
    const N = 600; // ~150 KiB of lines: far more than the pipe holds
    let settled = 0;
    const writes: Promise<void>[] = [];
    for (let i = 0; i < N; i++) {
      const w = sink.write(record(i));
      void w.then(() => settled++);
      writes.push(w);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 200));
    // The pipe is full and nobody reads: the writer is stuck, calls beyond the buffer wait.
    expect(settled).toBeGreaterThan(50);
    expect(settled).toBeLessThan(N);
    // The disk comes back: everything drains in order.
    const chunks: Buffer[] = [];
    const reader = createReadStream(join(dir, CURRENT_FILE));
    reader.on("data", (c) => chunks.push(c as Buffer));
    await Promise.all(writes);
    await sink.flush();
    await new Promise((r) => setTimeout(r, 100));
    reader.destroy();
    await sink.close().catch(() => undefined);
    const ids = Buffer.concat(chunks).toString("utf8").split("\n").filter(Boolean).map((l) => (JSON.parse(l) as AuditRecord).requestId);
    expect(ids).toEqual(Array.from({ length: N }, (_, i) => `req-${i}`));
  });
});

describe("audit file sink on a failing disk", () => {
  it("does not hold calls forever: once the buffer is full, records are counted as dropped", async () => {
    const { mkdir } = await import("node:fs/promises");
    // The current file can't be opened for appending (it is a directory): every append fails.
    await mkdir(join(dir, CURRENT_FILE), { recursive: true });
    const errors: unknown[] = [];
    const sink = createAuditFileSink({ dir, bufferRecords: 10, flushIntervalMs: 1, onError: (e) => errors.push(e) });
    const writes = Array.from({ length: 40 }, (_, i) => sink.write(record(i)));
    const all = Promise.all(writes).then(() => "settled");
    const outcome = await Promise.race([all, new Promise((r) => setTimeout(() => r("hung"), 5000))]);
    expect(outcome).toBe("settled");
    expect(errors.length).toBeGreaterThan(0);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe("EISDIR");
    const stats = sink.stats();
    // What is buffered (at most the buffer plus the batch in flight) is kept; the rest is counted.
    expect(stats.dropped).toBeGreaterThanOrEqual(20);
    expect(stats.written).toBe(0);
    // Shutdown reports what could not be written instead of hanging; nothing goes unaccounted.
    await expect(sink.close()).rejects.toThrow(new RegExp(`^audit sink: ${40 - stats.dropped} record\\(s\\) could not be written`));
  });
});
