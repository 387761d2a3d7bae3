/**
 * The pending-action quotas, as every store must enforce them at create(): run against the
 * embedded store (test/stores/pending-quotas.test.ts) and the Redis store
 * (test/redis/pending-quotas.test.ts).
 */
import { describe, expect, it } from "vitest";
import { mintConfirmation } from "../../src/confirm/tokens.js";
import type { GatewayError } from "../../src/errors.js";
import type { NewPendingAction, PendingActionStore } from "../../src/stores/pending-actions/contract.js";
import type { PendingQuotas } from "../../src/stores/pending-actions/quotas.js";

/** Two views of one store (two replicas for Redis; one instance twice for the embedded store) and a clock. */
export interface QuotaSubject {
  readonly a: PendingActionStore;
  readonly b: PendingActionStore;
  /** Moves the stores' clock forward. */
  advance(ms: number): void;
}

export type MakeSubject = (quotas: PendingQuotas) => Promise<QuotaSubject>;

let clock = Date.now();

export function newAction(tokenId: string, fields: Partial<NewPendingAction> = {}, now = clock): NewPendingAction {
  const m = mintConfirmation();
  return {
    id: m.actionId,
    tokenId,
    tool: "update_task",
    args: { project_id: 42, title: "New" },
    tokenHash: m.tokenHash,
    createdAt: now,
    expiresAt: now + 600_000,
    preview: { summary: "Update a task.", tool: "update_task", method: "PATCH", url: "http://x/v1/projects/42", warnings: [] },
    ...fields,
  };
}

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error("expected create() to be refused");
}

async function fill(store: PendingActionStore, tokenId: string, n: number, fields: Partial<NewPendingAction> = {}): Promise<NewPendingAction[]> {
  const made: NewPendingAction[] = [];
  for (let i = 0; i < n; i++) {
    const action = newAction(tokenId, fields);
    await store.create(action);
    made.push(action);
  }
  return made;
}

/** The quota tests, against the stores `make` builds. */
export function describeQuotas(name: string, make: MakeSubject, options: { concurrentAcrossReplicas: boolean }): void {
  describe(`${name}: pending-action quotas`, () => {
    it("refuses the open action past a token's cap with quota_exceeded, naming the limit and how to free room, and stores nothing", async () => {
      const { a } = await make({ maxOpenPerToken: 3 });
      await fill(a, "tok_q1", 3);
      const extra = newAction("tok_q1");
      const err = await refusal(a.create(extra));
      expect(err.code).toBe("quota_exceeded");
      expect(err.httpStatus).toBe(429);
      expect(err.details).toEqual({ limit: 3, used: 3, kind: "open_actions" });
      expect(err.message).toContain("3 open actions");
      expect(err.message).toContain("confirm_action / cancel_action");
      expect(await a.get(extra.id)).toBeUndefined();
      expect(await a.list("tok_q1")).toHaveLength(3);
    });

    it("leaves another token unaffected", async () => {
      const { a } = await make({ maxOpenPerToken: 2 });
      await fill(a, "tok_q2", 2);
      await expect(a.create(newAction("tok_q2"))).rejects.toMatchObject({ code: "quota_exceeded" });
      await fill(a, "tok_q3", 2);
      expect(await a.list("tok_q3")).toHaveLength(2);
    });

    it("frees room when an action is cancelled, and when one is confirmed", async () => {
      const { a } = await make({ maxOpenPerToken: 2 });
      const [x, y] = await fill(a, "tok_q4", 2);
      await expect(a.create(newAction("tok_q4"))).rejects.toMatchObject({ code: "quota_exceeded" });
      expect((await a.cancel(x!.id, "tok_q4")).kind).toBe("cancelled");
      await a.create(newAction("tok_q4"));
      await expect(a.create(newAction("tok_q4"))).rejects.toMatchObject({ code: "quota_exceeded" });
      expect((await a.claim(y!.id, "tok_q4")).kind).toBe("claimed");
      await a.complete(y!.id, { status: "executed", result: { content: [{ type: "text", text: "ok" }] } });
      await a.create(newAction("tok_q4"));
      expect(await a.list("tok_q4")).toHaveLength(2);
    });

    it("frees room when an action expires", async () => {
      const subject = await make({ maxOpenPerToken: 1 });
      await fill(subject.a, "tok_q5", 1);
      await expect(subject.a.create(newAction("tok_q5"))).rejects.toMatchObject({ code: "quota_exceeded" });
      subject.advance(600_001);
      await subject.a.create(newAction("tok_q5"));
    });

    it("lets a tier raise the cap for the actions that carry it", async () => {
      const { a } = await make({ maxOpenPerToken: 1, maxOpenPerTier: { team: 3 } });
      await fill(a, "tok_q6", 3, { tier: "team" });
      await expect(a.create(newAction("tok_q6", { tier: "team" }))).rejects.toMatchObject({ details: { limit: 3, kind: "open_actions" } });
      await fill(a, "tok_q7", 1, { tier: "default" });
      await expect(a.create(newAction("tok_q7", { tier: "default" }))).rejects.toMatchObject({ details: { limit: 1, kind: "open_actions" } });
    });

    it("refuses one action whose arguments are over the size cap, storing nothing", async () => {
      const { a } = await make({ maxArgsBytes: 1000 });
      const big = newAction("tok_q8", { args: { note: "x".repeat(2000) } });
      const err = await refusal(a.create(big));
      expect(err.code).toBe("quota_exceeded");
      expect(err.details).toMatchObject({ limit: 1000, kind: "action_bytes" });
      expect(err.details!.used as number).toBeGreaterThan(2000);
      expect(err.message).toContain("1000 bytes");
      expect(await a.get(big.id)).toBeUndefined();
      expect(await a.list("tok_q8")).toEqual([]);
      // Multi-byte text counts in bytes, not characters.
      await expect(a.create(newAction("tok_q8", { args: { note: "é".repeat(600) } }))).rejects.toMatchObject({ details: { kind: "action_bytes" } });
      await a.create(newAction("tok_q8", { args: { note: "x".repeat(900) } }));
    });

    it("refuses past the store's byte budget whoever asks, and a cancel frees room", async () => {
      const one = Buffer.byteLength(JSON.stringify(newAction("tok_q9", { args: { note: "x".repeat(5000) } })));
      const { a, b } = await make({ maxStoreBytes: one * 3 + 100 });
      const made = [...(await fill(a, "tok_q9", 2, { args: { note: "x".repeat(5000) } })), ...(await fill(b, "tok_q10", 1, { args: { note: "x".repeat(5000) } }))];
      const refused = newAction("tok_q11", { args: { note: "x".repeat(5000) } });
      const err = await refusal(b.create(refused));
      expect(err.code).toBe("quota_exceeded");
      expect(err.details).toMatchObject({ limit: one * 3 + 100, kind: "store_bytes" });
      expect(err.details!.used as number).toBeGreaterThan(one * 3 - 200);
      expect(err.message).toContain("confirm_action / cancel_action");
      expect(await b.get(refused.id)).toBeUndefined();
      expect((await a.cancel(made[0]!.id, "tok_q9")).kind).toBe("cancelled");
      await a.create(newAction("tok_q11", { args: { note: "x".repeat(5000) } }));
    });

    it(
      options.concurrentAcrossReplicas
        ? "admits exactly the cap when two replicas create for one token at once"
        : "admits exactly the cap when many creates for one token race",
      async () => {
        const { a, b } = await make({ maxOpenPerToken: 10 });
        await fill(a, "tok_q12", 8);
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).create(newAction("tok_q12"))));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
        expect(results.filter((r) => r.status === "rejected").every((r) => (r as PromiseRejectedResult).reason.code === "quota_exceeded")).toBe(true);
        expect(await a.list("tok_q12")).toHaveLength(10);
      },
    );

    it("refuses a quota that is not a positive integer, naming it", async () => {
      await expect(make({ maxOpenPerToken: 0 })).rejects.toThrow(/maxOpenPerToken must be a positive integer/);
      await expect(make({ maxOpenPerTier: { team: 1.5 } })).rejects.toThrow(/maxOpenPerTier\.team must be a positive integer/);
    });
  });
}

/** The clock the subjects share (each `advance` moves it). */
export const quotaClock = {
  now: (): number => clock,
  advance(ms: number): void {
    clock += ms;
  },
};
