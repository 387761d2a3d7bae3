/**
 * The token format: `csk_` + 30 random base62 characters + a 6-character base62 CRC32 of the
 * random part. The prefix lets secret scanners spot a leaked token; the checksum rejects a typo
 * or a truncated paste before any lookup.
 */
import { createHash, randomInt } from "node:crypto";
import * as zlib from "node:zlib";
import { safeEqualFixed } from "./safe-equal.js";

/** The fixed prefix every token starts with. */
export const TOKEN_PREFIX = "csk_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LENGTH = 30; // 30 × log2(62) ≈ 178 bits
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32, so any CRC32 fits
/** Total length of a well-formed token. */
export const TOKEN_LENGTH = TOKEN_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH;
const SHAPE = new RegExp(`^${TOKEN_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

/** Why a presented string is not a usable token (before any lookup). */
export type TokenShapeProblem = "malformed" | "checksum";

/** Mints a fresh token secret. */
export function mintToken(): string {
  let random = "";
  // randomInt draws without modulo bias, unlike bytes % 62.
  for (let i = 0; i < RANDOM_LENGTH; i++) random += ALPHABET[randomInt(ALPHABET.length)];
  return TOKEN_PREFIX + random + checksumOf(random);
}

/** Checks prefix, length, alphabet and checksum; `undefined` means the token is well formed. */
export function checkTokenShape(token: string): TokenShapeProblem | undefined {
  if (!SHAPE.test(token)) return "malformed";
  const random = token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + RANDOM_LENGTH);
  const presented = token.slice(TOKEN_PREFIX.length + RANDOM_LENGTH);
  // Both sides are CHECKSUM_LENGTH characters (SHAPE and checksumOf guarantee it).
  return safeEqualFixed(presented, checksumOf(random)) ? undefined : "checksum";
}

/** The SHA-256 (hex) under which a token is stored; the token itself is never stored. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function checksumOf(random: string): string {
  let n = crc32(Buffer.from(random, "utf8"));
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

let table: Uint32Array | undefined;

/** CRC-32 (IEEE), from node:zlib where the runtime has it (Node ≥ 20.15), else a table. */
export function crc32(data: Buffer): number {
  const native = (zlib as { crc32?: (d: Buffer) => number }).crc32;
  if (typeof native === "function") return native(data) >>> 0;
  return crc32Table(data);
}

/** The portable CRC-32 (exported so a test can check it against node:zlib). */
export function crc32Table(data: Buffer): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = table[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
