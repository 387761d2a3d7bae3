import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { createMemoryTokenStore, type TokenRecord } from "../../src/stores/tokens.js";
import { createAuthenticator } from "../../src/tokens/authenticate.js";
import { hashToken, mintToken } from "../../src/tokens/format.js";
import { readSecretKey, sealCredential } from "../../src/tokens/sealed-credential.js";

function recordFor(token: string, over: Partial<TokenRecord> = {}): TokenRecord {
  return { id: `tok_${randomBytes(4).toString("hex")}`, hash: hashToken(token), name: "alice", modules: "all", readOnly: false, tier: "default", createdAt: "2026-01-01T00:00:00.000Z", ...over };
}

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(GatewayError);
  expect((err as GatewayError).code).toBe("unauthorized");
  return err as GatewayError;
}

/** A store that counts lookups, to prove shape errors are decided before any lookup. */
function countingStore(records: TokenRecord[]) {
  const inner = createMemoryTokenStore(records);
  let lookups = 0;
  return {
    store: { ...inner, getByHash: (h: string) => (lookups++, inner.getByHash(h)), get: (id: string) => (lookups++, inner.get(id)) },
    lookups: () => lookups,
  };
}

describe("authenticate", () => {
  const now = new Date("2026-03-01T00:00:00Z");

  it("resolves a live token to its principal", async () => {
    const token = mintToken();
    const rec = recordFor(token, { modules: ["tasks"], readOnly: true, tier: "gold", expiresAt: "2026-04-01T00:00:00.000Z" });
    const auth = createAuthenticator({ store: createMemoryTokenStore([rec]), now: () => now, secretKey: readSecretKey({}) });
    expect(await auth.authenticate(token)).toEqual({ tokenId: rec.id, subject: "alice", modules: ["tasks"], readOnly: true, tier: "gold", expiresAt: rec.expiresAt });
  });

  it("names each kind of refusal, and decides missing/malformed/checksum before any lookup", async () => {
    const good = mintToken();
    const revokedTok = mintToken();
    const expiredTok = mintToken();
    const { store, lookups } = countingStore([
      recordFor(good),
      recordFor(revokedTok, { revokedAt: "2026-02-01T00:00:00.000Z" }),
      recordFor(expiredTok, { expiresAt: "2026-02-15T00:00:00.000Z" }),
    ]);
    const auth = createAuthenticator({ store, now: () => now, secretKey: readSecretKey({}) });
    const typo = good.slice(0, 10) + (good[10] === "a" ? "b" : "a") + good.slice(11);

    const cases: [string | undefined, string, RegExp][] = [
      [undefined, "missing", /^Missing bearer token/],
      ["   ", "missing", /^Missing bearer token/],
      ["Bearer " + good, "malformed", /^Malformed token/],
      ["ghp_abcdef", "malformed", /^Malformed token/],
      [good.slice(0, -3), "malformed", /^Malformed token/],
      [typo, "checksum", /^Token checksum mismatch \(typo or truncated paste\?\)$/],
    ];
    for (const [credential, reason, message] of cases) {
      const err = await refusal(auth.authenticate(credential));
      expect(err.details?.reason).toBe(reason);
      expect(err.message).toMatch(message);
    }
    expect(lookups()).toBe(0);

    const unknown = await refusal(auth.authenticate(mintToken()));
    expect(unknown.details?.reason).toBe("unknown");
    expect(unknown.message).toBe("Unknown token");
    const revoked = await refusal(auth.authenticate(revokedTok));
    expect(revoked.details?.reason).toBe("revoked");
    expect(revoked.message).toMatch(/^Token revoked on 2026-02-01/);
    const expired = await refusal(auth.authenticate(expiredTok));
    expect(expired.details?.reason).toBe("expired");
    expect(expired.message).toMatch(/^Token expired on 2026-02-15/);
    expect(lookups()).toBe(3);
    // No refusal message ever carries the presented secret.
    for (const e of [unknown, revoked, expired]) expect(e.message).not.toContain("csk_");
  });

  it("sees a revocation on the very next call (no caching of records)", async () => {
    const token = mintToken();
    const rec = recordFor(token);
    const store = createMemoryTokenStore([rec]);
    const auth = createAuthenticator({ store, now: () => now, secretKey: readSecretKey({}) });
    const principal = await auth.authenticate(token);
    await store.revoke(rec.id, now);
    expect((await refusal(auth.authenticate(token))).details?.reason).toBe("revoked");
    expect((await refusal(auth.recheck(principal))).details?.reason).toBe("revoked");
  });

  it("with a session's hash worked out once: the same principal, a lookup every call, and a revocation seen on the next", async () => {
    const token = mintToken();
    const rec = recordFor(token);
    const { store, lookups } = countingStore([rec]);
    const auth = createAuthenticator({ store, now: () => now, secretKey: readSecretKey({}) });
    const hash = hashToken(token);
    const plain = await auth.resolve(token);
    const hashed = await auth.resolve(token, hash);
    expect(hashed).toEqual(plain);
    expect(lookups()).toBe(2);
    await store.revoke(rec.id, now);
    const after = await auth.resolve(token, hash);
    expect(after.ok).toBe(false);
    expect(!after.ok && after.error.details?.reason).toBe("revoked");
    expect(lookups()).toBe(3);
    // No credential is still "missing", whatever hash comes with it.
    const missing = await auth.resolve(undefined, hash);
    expect(!missing.ok && missing.error.details?.reason).toBe("missing");
  });

  it("resolve() reports whose token was refused when the holder proved it, and nobody's otherwise", async () => {
    const token = mintToken();
    const rec = recordFor(token, { revokedAt: "2026-02-01T00:00:00.000Z" });
    const auth = createAuthenticator({ store: createMemoryTokenStore([rec]), now: () => now, secretKey: readSecretKey({}) });
    const r = await auth.resolve(token);
    expect(r).toMatchObject({ ok: false, tokenId: rec.id, subject: "alice" });
    const u = await auth.resolve(mintToken());
    expect(u.ok).toBe(false);
    expect("tokenId" in u).toBe(false);
  });

  it("decrypts the token's own upstream credential into the principal", async () => {
    const env = { COUNTERSIGN_SECRET_KEY: randomBytes(32).toString("base64") };
    const key = readSecretKey(env);
    if (!key.ok) throw new Error(key.reason);
    const token = mintToken();
    const rec = recordFor(token, { id: "tok_cred" });
    const withCred = { ...rec, upstreamCredential: sealCredential("upstream-pat-123", key.key, "tok_cred") };
    const auth = createAuthenticator({ store: createMemoryTokenStore([withCred]), now: () => now, secretKey: key });
    expect((await auth.authenticate(token)).upstreamCredential).toBe("upstream-pat-123");
    const noKey = createAuthenticator({ store: createMemoryTokenStore([withCred]), now: () => now, secretKey: readSecretKey({}) });
    await expect(noKey.authenticate(token)).rejects.toThrow(/COUNTERSIGN_SECRET_KEY is not set/);
  });

  it("records last use at most once per interval", async () => {
    const token = mintToken();
    const rec = recordFor(token);
    const store = createMemoryTokenStore([rec]);
    let touches = 0;
    const counting = { ...store, touch: (id: string, at: Date) => (touches++, store.touch(id, at)) };
    let t = now.getTime();
    const auth = createAuthenticator({ store: counting, now: () => new Date(t), secretKey: readSecretKey({}), touchIntervalMs: 60_000 });
    for (let i = 0; i < 10; i++) await auth.authenticate(token);
    expect(touches).toBe(1);
    t += 61_000;
    await auth.authenticate(token);
    expect(touches).toBe(2);
    expect((await store.get(rec.id))?.lastUsedAt).toBe(new Date(t).toISOString());
  });
});
