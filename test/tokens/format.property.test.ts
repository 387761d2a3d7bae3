/**
 * Properties of token parsing and authentication over any presented string: nothing but a
 * GatewayError("unauthorized") with a reason ever comes out of a refusal, and a token whose
 * checksum is wrong is never accepted, even when the store holds a record under its very hash.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { createMemoryTokenStore, type TokenRecord } from "../../src/stores/tokens.js";
import { createAuthenticator, type AuthFailure } from "../../src/tokens/authenticate.js";
import { checkTokenShape, crc32Table, hashToken, mintToken, TOKEN_LENGTH, TOKEN_PREFIX } from "../../src/tokens/format.js";
import { readSecretKey } from "../../src/tokens/sealed-credential.js";

const NUM_RUNS = Number(process.env.COUNTERSIGN_PROPERTY_RUNS ?? 400);
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const REASONS: readonly AuthFailure[] = ["missing", "malformed", "checksum", "unknown", "expired", "revoked"];

/** The checksum as the format describes it (base62 of the CRC-32 of the random part, 6 digits), computed independently. */
function referenceChecksum(random: string): string {
  let n = crc32Table(Buffer.from(random, "utf8"));
  let out = "";
  for (let i = 0; i < 6; i++) {
    out = ALPHABET[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

const base62 = (length: number) => fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: length, maxLength: length });
/** Strings near the token shape (right prefix, right or wrong lengths and alphabets) and anything at all. */
const presented = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.string({ maxLength: 60 }),
  fc.tuple(fc.constantFrom(TOKEN_PREFIX, "CSK_", "csk-", "csk_ ", " csk_", ""), base62(30), base62(6)).map(([p, r, c]) => p + r + c),
  fc.tuple(base62(30), fc.string({ unit: fc.constantFrom(...ALPHABET, "_", "-", "=", " ", "\n", "é", "😀", "\u0000"), maxLength: 8 })).map(([r, tail]) => TOKEN_PREFIX + r + tail),
  fc.constantFrom("", " ", "\t\n", "Bearer csk_", TOKEN_PREFIX),
);

function recordFor(token: string, id = "tok_p"): TokenRecord {
  return { id, hash: hashToken(token), name: "p", modules: "all", readOnly: false, tier: "default", createdAt: "2026-01-01T00:00:00.000Z" };
}

async function outcome(p: Promise<unknown>): Promise<{ ok: true } | { ok: false; err: unknown }> {
  try {
    await p;
    return { ok: true };
  } catch (err) {
    return { ok: false, err };
  }
}

describe("checkTokenShape over any string", () => {
  it("never throws, and accepts exactly the strings whose checksum is right", () => {
    fc.assert(
      fc.property(presented, (s) => {
        const problem = checkTokenShape(s);
        expect([undefined, "malformed", "checksum"]).toContain(problem);
        const wellFormed = s.length === TOKEN_LENGTH && /^csk_[0-9A-Za-z]+$/.test(s);
        if (!wellFormed) expect(problem).toBe("malformed");
        else expect(problem === undefined).toBe(s.slice(-6) === referenceChecksum(s.slice(4, 34)));
      }),
      { numRuns: NUM_RUNS * 5 },
    );
  });

  it("accepts a random part with its right checksum, and refuses every other checksum", () => {
    fc.assert(
      fc.property(base62(30), base62(6), (random, other) => {
        expect(checkTokenShape(TOKEN_PREFIX + random + referenceChecksum(random))).toBeUndefined();
        if (other !== referenceChecksum(random)) expect(checkTokenShape(TOKEN_PREFIX + random + other)).toBe("checksum");
      }),
      { numRuns: NUM_RUNS * 5 },
    );
  });

  it("refuses any one-character change to a minted token", () => {
    const token = mintToken();
    fc.assert(
      fc.property(fc.integer({ min: TOKEN_PREFIX.length, max: TOKEN_LENGTH - 1 }), fc.constantFrom(...ALPHABET), (at, c) => {
        fc.pre(token[at] !== c);
        expect(checkTokenShape(token.slice(0, at) + c + token.slice(at + 1))).toBe("checksum");
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("authenticate over any string", () => {
  it("refuses with unauthorized and a reason, and never accepts a wrong checksum, even one the store holds", async () => {
    await fc.assert(
      fc.asyncProperty(presented, async (s) => {
        // The store holds a record for the presented string itself: only the checksum stands
        // between a forged string and a principal.
        const store = createMemoryTokenStore([recordFor(s)]);
        const auth = createAuthenticator({ store, secretKey: readSecretKey({}) });
        const got = await outcome(auth.authenticate(s));
        if (got.ok) {
          expect(checkTokenShape(s.trim())).toBeUndefined();
          return;
        }
        expect(got.err).toBeInstanceOf(GatewayError);
        const e = got.err as GatewayError;
        expect(e.code).toBe("unauthorized");
        expect(REASONS).toContain(e.details?.reason);
        expect(e.message.length).toBeGreaterThan(0);
        if (checkTokenShape(s.trim()) === "checksum") expect(e.details?.reason).toBe("checksum");
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("answers a changed minted token with checksum, never with the record of the real one", async () => {
    const token = mintToken();
    const auth = createAuthenticator({ store: createMemoryTokenStore([recordFor(token)]), secretKey: readSecretKey({}) });
    expect((await auth.authenticate(token)).tokenId).toBe("tok_p");
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: TOKEN_PREFIX.length, max: TOKEN_LENGTH - 1 }), fc.constantFrom(...ALPHABET), async (at, c) => {
        fc.pre(token[at] !== c);
        const got = await outcome(auth.authenticate(token.slice(0, at) + c + token.slice(at + 1)));
        expect(got.ok).toBe(false);
        expect((got as { err: GatewayError }).err.details?.reason).toBe("checksum");
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
