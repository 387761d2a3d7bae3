/**
 * The one way token code compares secrets or values derived from them: in constant time, so the
 * time a comparison takes says nothing about how many leading characters matched.
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** Constant-time string equality (lengths are equalized by hashing both sides first). */
export function safeEqual(a: string, b: string): boolean {
  // timingSafeEqual throws on different lengths, and an early length check would itself leak;
  // comparing fixed-size digests avoids both.
  const da = createHash("sha256").update(a, "utf8").digest();
  const db = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(da, db);
}

/**
 * Constant-time equality for values whose length is public, fixed by their format (a token's
 * checksum, a SHA-256 hex digest): no hashing first, a length mismatch is simply unequal.
 */
export function safeEqualFixed(a: string, b: string): boolean {
  const ba = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
