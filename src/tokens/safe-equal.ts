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
