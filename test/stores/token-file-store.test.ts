import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TOKEN_FILE, createTokenFileStore } from "../../src/stores/token-file-store.js";
import type { TokenRecord } from "../../src/stores/tokens.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "cs-tokens-"));
  dirs.push(d);
  return join(d, "data");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Resolves once `condition` holds (checked every 10 ms), failing after 5 s. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met within 5 s");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function record(id: string, token = mintToken()): TokenRecord {
  return { id, hash: hashToken(token), name: `n-${id}`, modules: "all", readOnly: false, tier: "default", createdAt: new Date().toISOString() };
}

describe("token file store", () => {
  it("creates the file 0600 in a 0700 dir, atomically, holding hashes and never the secret", async () => {
    const dir = dataDir();
    const store = createTokenFileStore({ dir });
    const token = mintToken();
    await store.create(record("tok_a", token));
    expect(statSync(join(dir, TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const text = readFileSync(join(dir, TOKEN_FILE), "utf8");
    expect(text).toContain(hashToken(token));
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(4, 20));
    // No temp or lock file left behind.
    expect(readdirSync(dir)).toEqual([TOKEN_FILE]);
    await expect(store.create(record("tok_a"))).rejects.toThrow(/already exists/);
    await store.close();
  });

  it("a second instance (another process) sees creates and revocations on its next read", async () => {
    const dir = dataDir();
    const cli = createTokenFileStore({ dir });
    const gateway = createTokenFileStore({ dir });
    const rec = record("tok_b");
    expect(await gateway.getByHash(rec.hash)).toBeUndefined();
    await cli.create(rec);
    expect((await gateway.getByHash(rec.hash))?.id).toBe("tok_b");
    const revoked = await cli.revoke("tok_b", new Date("2026-01-02T00:00:00Z"));
    expect(revoked?.revokedAt).toBe("2026-01-02T00:00:00.000Z");
    expect((await gateway.getByHash(rec.hash))?.revokedAt).toBe("2026-01-02T00:00:00.000Z");
    expect(await cli.revoke("tok_nope", new Date())).toBeUndefined();
    await Promise.all([cli.close(), gateway.close()]);
  });

  it("loses no update when several instances write at once (lock + re-read)", async () => {
    const dir = dataDir();
    const stores = Array.from({ length: 4 }, () => createTokenFileStore({ dir }));
    const ids = Array.from({ length: 40 }, (_, i) => `tok_${i}`);
    await Promise.all(ids.map((id, i) => stores[i % stores.length].create(record(id))));
    // Touches from one instance interleaved with revocations from another.
    await Promise.all([
      ...ids.slice(0, 10).map((id) => stores[0].touch(id, new Date("2026-05-05T00:00:00Z"))),
      ...ids.slice(10, 20).map((id) => stores[1].revoke(id, new Date("2026-05-06T00:00:00Z"))),
    ]);
    const fresh = createTokenFileStore({ dir });
    const all = await fresh.list();
    expect(all.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(all.filter((r) => r.lastUsedAt === "2026-05-05T00:00:00.000Z")).toHaveLength(10);
    expect(all.filter((r) => r.revokedAt)).toHaveLength(10);
    await Promise.all(stores.map((s) => s.close()));
  });

  it("takes over a stale lock left by a crashed process, and times out on a live one", async () => {
    const dir = dataDir();
    const first = createTokenFileStore({ dir });
    await first.create(record("tok_1"));
    writeFileSync(join(dir, `${TOKEN_FILE}.lock`), "99999");
    const impatient = createTokenFileStore({ dir, lockTimeoutMs: 100, staleLockMs: 60_000 });
    await expect(impatient.create(record("tok_2"))).rejects.toThrow(/timed out waiting for the token store lock/);
    const patient = createTokenFileStore({ dir, lockTimeoutMs: 1000, staleLockMs: 0 });
    await patient.create(record("tok_3"));
    expect((await patient.list()).map((r) => r.id)).toEqual(["tok_1", "tok_3"]);
  });

  it("re-reads within maxStaleMs even when a change keeps inode, size and mtime", async () => {
    const dir = dataDir();
    let t = 1_000_000;
    const writer = createTokenFileStore({ dir });
    const reader = createTokenFileStore({ dir, now: () => t, maxStaleMs: 1000 });
    await writer.create(record("tok_a"));
    const file = join(dir, TOKEN_FILE);
    const fixed = new Date("2026-01-01T00:00:00Z");
    utimesSync(file, fixed, fixed);
    expect((await reader.get("tok_a"))?.name).toBe("n-tok_a");
    // An in-place edit of the same length, with the timestamp put back: stat sees no change.
    writeFileSync(file, readFileSync(file, "utf8").replace("n-tok_a", "m-tok_a"));
    utimesSync(file, fixed, fixed);
    t += 500;
    expect((await reader.get("tok_a"))?.name).toBe("n-tok_a");
    t += 600;
    expect((await reader.get("tok_a"))?.name).toBe("m-tok_a");
  });

  it("trusts what it read until the watched file is reported changed (no stat per read), and follows each replacement", async () => {
    const dir = dataDir();
    // The clock stands still: only the watch can tell the reader to look again.
    const reader = createTokenFileStore({ dir, now: () => 1_000_000, maxStaleMs: 1000 });
    const writer = createTokenFileStore({ dir });
    await writer.create(record("tok_w"));
    expect((await reader.get("tok_w"))?.name).toBe("n-tok_w");
    const file = join(dir, TOKEN_FILE);
    // Edited in place, longer, and read at once: a stat would see the new size; no look was made.
    writeFileSync(file, readFileSync(file, "utf8").replace("n-tok_w", "changed-tok_w"));
    expect((await reader.get("tok_w"))?.name).toBe("n-tok_w");
    await waitFor(async () => (await reader.get("tok_w"))?.name === "changed-tok_w");
    // Replaced (temp + rename) twice: each new file is watched in turn.
    for (const at of ["2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z"]) {
      await writer.create(record(`tok_${at.slice(8, 10)}`));
      await waitFor(async () => (await reader.list()).some((r) => r.id === `tok_${at.slice(8, 10)}`));
    }
    await writer.revoke("tok_w", new Date("2026-03-03T00:00:00Z"));
    await waitFor(async () => (await reader.get("tok_w"))?.revokedAt === "2026-03-03T00:00:00.000Z");
    await Promise.all([reader.close(), writer.close()]);
  });

  it("names the file when it is corrupt", async () => {
    const dir = dataDir();
    const store = createTokenFileStore({ dir });
    await store.create(record("tok_x"));
    writeFileSync(join(dir, TOKEN_FILE), "{not json");
    await expect(store.list()).rejects.toThrow(/tokens\.json is not valid JSON/);
  });
});
