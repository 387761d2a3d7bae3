import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createMemoryTokenStore } from "../../src/stores/tokens.js";
import { createAuthenticator } from "../../src/tokens/authenticate.js";
import { checkTokenShape, hashToken } from "../../src/tokens/format.js";
import { issueToken, newTokenId } from "../../src/tokens/issue.js";
import { readSecretKey } from "../../src/tokens/sealed-credential.js";

describe("issueToken", () => {
  it("stores a record that holds the hash, never the secret, and authenticates", async () => {
    const store = createMemoryTokenStore();
    const { token, record } = await issueToken(store, { name: " dev ", modules: ["tasks"], readOnly: true, tier: "gold", expiresAt: new Date("2099-01-01T00:00:00Z") });
    expect(checkTokenShape(token)).toBeUndefined();
    expect(record).toMatchObject({ name: "dev", modules: ["tasks"], readOnly: true, tier: "gold", expiresAt: "2099-01-01T00:00:00.000Z", hash: hashToken(token) });
    expect(record.id).toMatch(/^tok_[0-9a-z]{12}$/);
    expect(JSON.stringify(await store.list())).not.toContain(token);
    const auth = createAuthenticator({ store, secretKey: readSecretKey({}) });
    expect((await auth.authenticate(token)).tokenId).toBe(record.id);
  });

  it("seals an upstream credential under the key, and refuses one without a key", async () => {
    const store = createMemoryTokenStore();
    await expect(issueToken(store, { name: "x", upstreamCredential: "pat", secretKey: readSecretKey({}) })).rejects.toThrow(/needs an encryption key: COUNTERSIGN_SECRET_KEY is not set/);
    await expect(issueToken(store, { name: "x", upstreamCredential: "pat" })).rejects.toThrow(/needs an encryption key/);
    expect(await store.list()).toEqual([]);
    const key = readSecretKey({ COUNTERSIGN_SECRET_KEY: randomBytes(32).toString("hex") });
    const { token, record } = await issueToken(store, { name: "x", upstreamCredential: "pat-123", secretKey: key });
    expect(record.upstreamCredential).toMatch(/^v1:/);
    expect(record.upstreamCredential).not.toContain("pat-123");
    expect((await createAuthenticator({ store, secretKey: key }).authenticate(token)).upstreamCredential).toBe("pat-123");
  });

  it("refuses a blank name, and ids don't repeat", async () => {
    await expect(issueToken(createMemoryTokenStore(), { name: "  " })).rejects.toThrow(/needs a name/);
    expect(new Set(Array.from({ length: 1000 }, newTokenId)).size).toBe(1000);
  });
});
