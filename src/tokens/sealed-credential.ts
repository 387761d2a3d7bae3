/**
 * A token's own upstream credential, encrypted at rest with AES-256-GCM under a key from
 * `COUNTERSIGN_SECRET_KEY` (32 bytes, base64 or hex). The token id is bound in as additional
 * authenticated data, so a sealed credential copied onto another record fails to open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { GatewayError } from "../errors.js";

/** The environment variable that holds the encryption key. */
export const SECRET_KEY_ENV = "COUNTERSIGN_SECRET_KEY";
const VERSION = "v1";

/** A 32-byte key, or a reason it could not be read from the environment. */
export type SecretKeyResult = { ok: true; key: Buffer } | { ok: false; reason: string };

/** Reads and checks the key from the environment (`undefined` → not configured). */
export function readSecretKey(env: NodeJS.ProcessEnv = process.env): SecretKeyResult {
  const raw = env[SECRET_KEY_ENV]?.trim();
  if (!raw) return { ok: false, reason: `${SECRET_KEY_ENV} is not set` };
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, "hex") : Buffer.from(raw, "base64");
  if (key.length !== 32) {
    return {
      ok: false,
      reason: `${SECRET_KEY_ENV} must be 32 bytes as base64 or 64 hex digits (e.g. \`openssl rand -base64 32\`); it decodes to ${key.length} bytes`,
    };
  }
  return { ok: true, key };
}

/** Encrypts an upstream credential for the token `tokenId`. */
export function sealCredential(plain: string, key: Buffer, tokenId: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(tokenId, "utf8"));
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(":");
}

/** Decrypts a sealed credential; throws a GatewayError naming the fix when it can't. */
export function openCredential(sealed: string, key: SecretKeyResult, tokenId: string): string {
  if (!key.ok) {
    throw new GatewayError("internal", `This token carries an encrypted upstream credential, but ${key.reason}`, {
      expose: true,
      details: { reason: "secret_key" },
    });
  }
  const [version, iv, tag, body] = sealed.split(":");
  try {
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error(`unknown sealed format ${version}`);
    const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(iv, "base64"));
    decipher.setAAD(Buffer.from(tokenId, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  } catch (cause) {
    throw new GatewayError("internal", `This token's upstream credential can't be decrypted: ${SECRET_KEY_ENV} is not the key it was sealed with`, {
      expose: true,
      details: { reason: "secret_key" },
      cause,
    });
  }
}
