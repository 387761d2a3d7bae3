/**
 * Action ids and confirm tokens.
 *
 * A confirm token names its action (`cfm_<id>_<secret>`), so it can be looked up by id and then
 * checked by comparing SHA-256 hashes in constant time; the store never sees the secret.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { customAlphabet } from "nanoid";

const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ID_LENGTH = 20;
// 32 characters of a 62-letter alphabet: about 190 bits of entropy.
const SECRET_LENGTH = 32;
const newId = customAlphabet(ALPHANUMERIC, ID_LENGTH);
const newSecret = customAlphabet(ALPHANUMERIC, SECRET_LENGTH);
const TOKEN_PATTERN = new RegExp(`^cfm_([0-9A-Za-z]{${ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})$`);
const ACTION_ID_PATTERN = new RegExp(`^act_[0-9A-Za-z]{${ID_LENGTH}}$`);

/** A freshly minted action id with its confirm token and the hash the store keeps. */
export interface MintedConfirmation {
  readonly actionId: string;
  readonly confirmToken: string;
  readonly tokenHash: string;
}

/** Mints a new action id and a single-use confirm token for it. */
export function mintConfirmation(): MintedConfirmation {
  const id = newId();
  const confirmToken = `cfm_${id}_${newSecret()}`;
  return { actionId: `act_${id}`, confirmToken, tokenHash: hashConfirmToken(confirmToken) };
}

/** SHA-256 (hex) of a confirm token: the only form in which a token is stored. */
export function hashConfirmToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The action id a well-formed confirm token names, or undefined when the token is malformed. */
export function actionIdOf(token: unknown): string | undefined {
  if (typeof token !== "string") return undefined;
  const m = TOKEN_PATTERN.exec(token);
  return m ? `act_${m[1]}` : undefined;
}

/** Whether a string has the shape of an action id. */
export function isActionId(value: unknown): value is string {
  return typeof value === "string" && ACTION_ID_PATTERN.test(value);
}

/** Compares a presented token with a stored hash in constant time. */
export function confirmTokenMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashConfirmToken(token), "hex");
  const stored = Buffer.from(storedHash, "hex");
  if (presented.length !== stored.length) return false;
  return timingSafeEqual(presented, stored);
}
