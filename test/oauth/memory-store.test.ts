/** The in-process OAuth store: spend-once codes and refresh tokens, bounded registrations. */
import { describe, expect, it } from "vitest";
import { createMemoryOAuthStore, MAX_CLIENTS } from "../../src/oauth/memory-store.js";

const client = (n: number) => ({ clientId: `oc_${n}`, clientName: `c${n}`, redirectUris: ["https://a.example/cb"], registeredAt: new Date(0).toISOString(), via: "registration" as const });

describe("memory OAuth store", () => {
  it("answers a code's first spend as unspent and every later one with when it was spent", async () => {
    const store = createMemoryOAuthStore();
    await store.putCode("h", { grantId: "gr_1", clientId: "oc_1", redirectUri: "https://a.example/cb", codeChallenge: "x", expiresAt: Date.now() + 60_000 });
    expect((await store.spendCode("h", 5))?.spentAt).toBeUndefined();
    expect((await store.spendCode("h", 9))?.spentAt).toBe(5);
    expect(await store.spendCode("other", 1)).toBeUndefined();
  });

  it("keeps at most MAX_CLIENTS registrations, dropping the oldest one nobody granted", async () => {
    const store = createMemoryOAuthStore();
    for (let i = 0; i < MAX_CLIENTS; i++) await store.putClient(client(i));
    await store.putGrant({ id: "gr_0", clientId: "oc_0", clientName: "c0", userId: "u", userName: "u", scope: { modules: "all", readOnly: false, expiresAt: new Date(Date.now() + 60_000).toISOString() }, audience: "x", createdAt: new Date().toISOString() });
    await store.putClient(client(MAX_CLIENTS));
    expect(await store.getClient("oc_0")).toBeDefined();
    expect(await store.getClient("oc_1")).toBeUndefined();
    expect(await store.getClient(`oc_${MAX_CLIENTS}`)).toBeDefined();
  });
});
