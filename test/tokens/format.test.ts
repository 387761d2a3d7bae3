import { crc32 as zlibCrc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { TOKEN_LENGTH, checkTokenShape, crc32Table, hashToken, mintToken } from "../../src/tokens/format.js";

describe("token format", () => {
  it("mints csk_ tokens of fixed length that pass their own checksum, all distinct", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const t = mintToken();
      expect(t).toMatch(/^csk_[0-9A-Za-z]{36}$/);
      expect(t.length).toBe(TOKEN_LENGTH);
      expect(checkTokenShape(t)).toBeUndefined();
      seen.add(t);
    }
    expect(seen.size).toBe(500);
  });

  it("rejects a wrong prefix, a wrong length and foreign characters as malformed", () => {
    const t = mintToken();
    expect(checkTokenShape("xsk_" + t.slice(4))).toBe("malformed");
    expect(checkTokenShape(t.slice(0, -1))).toBe("malformed");
    expect(checkTokenShape(t + "a")).toBe("malformed");
    expect(checkTokenShape(t.slice(0, 10) + "-" + t.slice(11))).toBe("malformed");
    expect(checkTokenShape("")).toBe("malformed");
  });

  it("catches every single-character typo in the random part and the checksum", () => {
    const t = mintToken();
    let caught = 0;
    for (let i = 4; i < t.length; i++) {
      const replacement = t[i] === "a" ? "b" : "a";
      const typo = t.slice(0, i) + replacement + t.slice(i + 1);
      expect(checkTokenShape(typo), `typo at ${i}`).toBe("checksum");
      caught++;
    }
    expect(caught).toBe(36);
    // A swap of two different adjacent characters, the other common typo.
    const i = [...t.slice(4)].findIndex((c, k, a) => k > 0 && c !== a[k - 1]) + 4;
    const swapped = t.slice(0, i - 1) + t[i] + t[i - 1] + t.slice(i + 1);
    expect(checkTokenShape(swapped)).toBe("checksum");
  });

  it("hashes with SHA-256 hex, never echoing the token", () => {
    const t = mintToken();
    const h = hashToken(t);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toContain(t.slice(4));
    expect(hashToken(t)).toBe(h);
  });

  it("the portable CRC-32 agrees with node:zlib", () => {
    for (const s of ["", "a", "123456789", mintToken(), "x".repeat(1000)]) {
      expect(crc32Table(Buffer.from(s))).toBe(zlibCrc32(Buffer.from(s)) >>> 0);
    }
    expect(crc32Table(Buffer.from("123456789"))).toBe(0xcbf43926);
  });
});
