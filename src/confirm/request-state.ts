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

function aad(binding: { tokenId: string; tool: string }): Buffer {
  return Buffer.from(`${VERSION}\n${binding.tokenId}\n${binding.tool}`, "utf8");
}

const refused = (why: string) => new GatewayError("confirmation_invalid", `The requestState was refused: ${why}; call the tool again for a new confirmation`);

/** A sealer keyed by `secretKey` (32 bytes) when given, else by a key drawn for this process. */
export function createRequestStateSealer(secretKey?: Buffer): RequestStateSealer {
  const key = secretKey ? Buffer.from(hkdfSync("sha256", secretKey, Buffer.alloc(0), INFO, 32)) : randomBytes(32);
  return {
    seal(state, binding) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(aad(binding));
      const body = Buffer.concat([cipher.update(JSON.stringify({ a: state.actionId, t: state.confirmToken, e: state.expiresAt }), "utf8"), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
    },
    open(sealed, binding, now = Date.now()) {
      const [version, data, extra] = sealed.split(".");
      if (version !== VERSION || data === undefined || extra !== undefined) throw refused("it is not a state this gateway issued");
      const raw = Buffer.from(data, "base64url");
      if (raw.length < 29 || raw.toString("base64url") !== data) throw refused("it is not a state this gateway issued");
      let plain: string;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
        decipher.setAAD(aad(binding));
        decipher.setAuthTag(raw.subarray(12, 28));
        plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
      } catch {
        throw refused("it was altered, or issued to another token or for another tool");
      }
      const p = JSON.parse(plain) as { a: string; t: string; e: number };
      if (now > p.e) throw refused("it has expired");
      return { actionId: p.a, confirmToken: p.t, expiresAt: p.e };
    },
  };
}
