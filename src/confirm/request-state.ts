/**
 * The `requestState` of a confirmation asked as an input request (MCP 2026-07-28): which pending
 * action the person is asked about, sealed with AES-256-GCM so that the client carrying it back
 * can neither read the confirm token nor change a byte of it. It is bound, as authenticated data,
 * to the token that made the write and the tool it called, and carries its own expiry: a state
 * presented by another token, for another tool, late, or altered, fails to open.
 *
 * The key comes from COUNTERSIGN_SECRET_KEY (a subkey derived for this purpose alone), so every
 * replica sharing that key opens what another sealed; without it, each process draws a key of its
 * own and only that process can open its states.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { GatewayError } from "../errors.js";

const VERSION = "rs1";
const INFO = "countersign requestState v1";

/** What a sealed state says. */
export interface ConfirmState {
  readonly actionId: string;
  readonly confirmToken: string;
  /** Epoch milliseconds after which the state is refused (the pending action's own expiry). */
  readonly expiresAt: number;
}

export interface RequestStateSealer {
  seal(state: ConfirmState, binding: { tokenId: string; tool: string }): string;
  /** Opens a state; a GatewayError (`confirmation_invalid`) names why it can't. */
  open(sealed: string, binding: { tokenId: string; tool: string }, now?: number): ConfirmState;
}

function aad(binding: { tokenId: string; tool: string }): string {
  return `${VERSION}\n${binding.tokenId}\n${binding.tool}`;
}

const refused = (why: string) => new GatewayError("confirmation_invalid", `The requestState was refused: ${why}; call the tool again for a new confirmation`);

/** Why a sealed box did not open. */
export type BoxRefusal = "foreign" | "altered";

/**
 * AES-256-GCM boxes under a subkey of `secretKey` derived for `info` alone (a key drawn for this
 * process when there is none): `seal` binds the payload to `aad`, `open` returns it or why not.
 */
export function createSealedBox(secretKey: Buffer | undefined, info: string, version: string) {
  const key = secretKey ? Buffer.from(hkdfSync("sha256", secretKey, Buffer.alloc(0), info, 32)) : randomBytes(32);
  return {
    seal(payload: unknown, aad: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(aad, "utf8"));
      const body = Buffer.concat([cipher.update(JSON.stringify(payload), "utf8"), cipher.final()]);
      return `${version}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
    },
    open(sealed: string, aad: string): { ok: true; payload: unknown } | { ok: false; why: BoxRefusal } {
      const [v, data, extra] = sealed.split(".");
      if (v !== version || data === undefined || extra !== undefined) return { ok: false, why: "foreign" };
      const raw = Buffer.from(data, "base64url");
      if (raw.length < 29 || raw.toString("base64url") !== data) return { ok: false, why: "foreign" };
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(aad, "utf8"));
        decipher.setAuthTag(raw.subarray(12, 28));
        return { ok: true, payload: JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8")) };
      } catch {
        return { ok: false, why: "altered" };
      }
    },
  };
}

/** A sealer keyed by `secretKey` (32 bytes) when given, else by a key drawn for this process. */
export function createRequestStateSealer(secretKey?: Buffer): RequestStateSealer {
  const box = createSealedBox(secretKey, INFO, VERSION);
  return {
    seal(state, binding) {
      return box.seal({ a: state.actionId, t: state.confirmToken, e: state.expiresAt }, aad(binding));
    },
    open(sealed, binding, now = Date.now()) {
      const opened = box.open(sealed, aad(binding));
      if (!opened.ok) throw refused(opened.why === "foreign" ? "it is not a state this gateway issued" : "it was altered, or issued to another token or for another tool");
      const p = opened.payload as { a: string; t: string; e: number };
      if (now > p.e) throw refused("it has expired");
      return { actionId: p.a, confirmToken: p.t, expiresAt: p.e };
    },
  };
}
