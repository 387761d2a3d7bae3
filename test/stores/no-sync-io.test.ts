import fs, { mkdtempSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mintConfirmation } from "../../src/confirm/tokens.js";
import { createPendingActions } from "../../src/stores/pending-actions/index.js";
import { createTokenFileStore } from "../../src/stores/token-file-store.js";

/** Makes every synchronous fs call throw (and counts them) until `restore`. */
function forbidSyncFs(): { calls: string[]; restore(): void } {
  const calls: string[] = [];
  const saved = new Map<string, unknown>();
  const target = fs as unknown as Record<string, unknown>;
  for (const name of Object.keys(fs)) {
    if (!name.endsWith("Sync") || typeof target[name] !== "function") continue;
    saved.set(name, target[name]);
    target[name] = () => {
      calls.push(name);
      throw new Error(`synchronous ${name} on the request path`);
    };
  }
  syncBuiltinESMExports();
  return {
    calls,
    restore() {
      for (const [name, fn] of saved) target[name] = fn;
      syncBuiltinESMExports();
    },
  };
}

let guard: ReturnType<typeof forbidSyncFs> | undefined;
afterEach(() => guard?.restore());

describe("file stores on the request path", () => {
  it("the pending-action store creates, lists, claims, completes, cancels and folds its journal without a synchronous fs call", async () => {
    const d = mkdtempSync(join(tmpdir(), "cs-nosync-"));
    const store = createPendingActions({ dataDir: d, sweepIntervalMs: 0, quotas: { maxOpenPerToken: 5000 } });
    guard = forbidSyncFs();
    const ids: string[] = [];
    // Past the fold threshold (2,000 journal lines), so a runtime compaction runs too.
    for (let i = 0; i < 2050; i++) {
      const m = mintConfirmation();
      ids.push(m.actionId);
      const t = Date.now();
      await store.create({ id: m.actionId, tokenId: "tok_a", tool: "update_task", args: { n: i }, tokenHash: m.tokenHash, createdAt: t, expiresAt: t + 600_000, preview: { summary: "s", tool: "update_task", method: "PATCH", url: "http://x/", warnings: [] } });
    }
    expect((await store.list("tok_a")).length).toBe(2050);
    expect((await store.claim(ids[0], "tok_a")).kind).toBe("claimed");
    await store.complete(ids[0], { status: "executed", result: { content: [{ type: "text", text: "ok" }] } });
    expect((await store.cancel(ids[1], "tok_a")).kind).toBe("cancelled");
    expect((await store.get(ids[0]))?.state).toBe("done");
    expect(await store.get("act_00000000000000000000")).toBeUndefined();
    expect(await store.countPending()).toBe(2048);
    await store.close();
    expect(guard.calls).toEqual([]);
    guard.restore();
    expect(fs.readdirSync(d)).toContain("pending-actions.json");
  });

  it("the token file store reads and writes without a synchronous fs call", async () => {
    const d = mkdtempSync(join(tmpdir(), "cs-nosync-"));
    const store = createTokenFileStore({ dir: d });
    guard = forbidSyncFs();
    const record = { id: "tok_1", hash: "a".repeat(64), name: "n", modules: "all" as const, readOnly: false, tier: "default", createdAt: new Date().toISOString() };
    await store.create(record);
    expect((await store.getByHash(record.hash))?.id).toBe("tok_1");
    await store.touch("tok_1", new Date());
    expect((await store.revoke("tok_1", new Date()))?.revokedAt).toBeDefined();
    await store.close();
    expect(guard.calls).toEqual([]);
  });
});
