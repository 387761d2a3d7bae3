/**
 * Console sessions: a random id in an HttpOnly, SameSite=Strict cookie, kept here only as its
 * SHA-256, with the admin it signs in, a CSRF token (synchronizer pattern) and an idle deadline.
 * In-process: a replica's sessions end when it restarts (sign in again with a fresh link).
 */
import { createHash, randomBytes } from "node:crypto";
import type { Admin } from "./admins.js";

/** One signed-in admin's session. */
export interface ConsoleSession {
  readonly admin: Admin;
  /** Sent back by the page in X-CSRF-Token on every mutation. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

/** The session store. */
export interface SessionStore {
  /** Opens a session; the returned id goes into the cookie and nowhere else. */
  open(admin: Admin): { id: string; session: ConsoleSession };
  /** The live session for a cookie value (touching it), or undefined when unknown or idle too long. */
  get(id: string): ConsoleSession | undefined;
  /** Whether a session is still live, without counting this as activity (an open event stream). */
  alive(id: string): boolean;
  /** Ends a session (sign-out). */
  end(id: string): void;
  size(): number;
}

const hash = (id: string) => createHash("sha256").update(id, "utf8").digest("hex");

/** Builds the in-process session store with an idle timeout. */
export function createSessionStore(options: { idleMs: number; now?: () => number }): SessionStore {
  const now = options.now ?? Date.now;
  const sessions = new Map<string, ConsoleSession>();

  function sweep(): void {
    const cutoff = now() - options.idleMs;
    for (const [k, s] of sessions) if (s.lastSeen < cutoff) sessions.delete(k);
  }

  return {
    open(admin) {
      sweep();
      const id = randomBytes(32).toString("base64url");
      const at = now();
      const session: ConsoleSession = { admin, csrf: randomBytes(32).toString("base64url"), createdAt: at, lastSeen: at };
      sessions.set(hash(id), session);
      return { id, session };
    },
    get(id) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
      const key = hash(id);
      const s = sessions.get(key);
      if (!s) return undefined;
      if (now() - s.lastSeen > options.idleMs) {
        sessions.delete(key);
        return undefined;
      }
      s.lastSeen = now();
      return s;
    },
    alive(id) {
      const s = sessions.get(hash(id));
      return s !== undefined && now() - s.lastSeen <= options.idleMs;
    },
    end(id) {
      sessions.delete(hash(id));
    },
    size: () => sessions.size,
  };
}
