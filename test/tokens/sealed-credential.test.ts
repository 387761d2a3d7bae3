import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.js";
import { openCredential, readSecretKey, sealCredential } from "../../src/tokens/sealed-credential.js";

describe("sealed upstream credentials", () => {
  const keyB64 = randomBytes(32).toString("base64");

  it("round-trips under the key, and the sealed form holds no plaintext", () => {
    const key = readSecretKey({ COUNTERSIGN_SECRET_KEY: keyB64 });
    if (!key.ok) throw new Error(key.reason);
    const sealed = sealCredential("ghp_supersecretvalue", key.key, "tok_1");
    expect(sealed).not.toContain("supersecret");
    expect(sealed.startsWith("v1:")).toBe(true);
    expect(openCredential(sealed, key, "tok_1")).toBe("ghp_supersecretvalue");
    // Fresh IV every time.
    expect(sealCredential("ghp_supersecretvalue", key.key, "tok_1")).not.toBe(sealed);
  });

  it("accepts 64 hex digits too, and names the variable when the key is missing or short", () => {
    expect(readSecretKey({ COUNTERSIGN_SECRET_KEY: randomBytes(32).toString("hex") }).ok).toBe(true);
    const missing = readSecretKey({});
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.reason).toMatch(/COUNTERSIGN_SECRET_KEY is not set/);
    const short = readSecretKey({ COUNTERSIGN_SECRET_KEY: "c2hvcnQ=" });
    expect(short.ok).toBe(false);
    if (!short.ok) expect(short.reason).toMatch(/32 bytes.*5 bytes/);
  });

  it("refuses to open with the wrong key, on another token's record, or without a key", () => {
    const key = readSecretKey({ COUNTERSIGN_SECRET_KEY: keyB64 });
    const other = readSecretKey({ COUNTERSIGN_SECRET_KEY: randomBytes(32).toString("base64") });
    if (!key.ok) throw new Error("key");
    const sealed = sealCredential("s3cret", key.key, "tok_1");
    expect(() => openCredential(sealed, other, "tok_1")).toThrow(/not the key it was sealed with/);
    expect(() => openCredential(sealed, key, "tok_2")).toThrow(GatewayError);
    expect(() => openCredential(sealed, readSecretKey({}), "tok_1")).toThrow(/COUNTERSIGN_SECRET_KEY is not set/);
    const tampered = sealed.slice(0, -4) + (sealed.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect(() => openCredential(tampered, key, "tok_1")).toThrow(GatewayError);
  });
});
