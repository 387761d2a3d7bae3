/**
 * Revocations on Redis pub/sub: `tokens revoke` (on any replica, or the CLI) publishes the token
 * on one channel; every replica's subscriber hears it at once and drops the token from its
 * caches. Pub/sub delivers at most once and only to connected subscribers, so the listeners are
 * also told to resynchronize (drop everything) whenever the subscription is re-established, and
 * `isListening()` lets caches stop trusting themselves while it is not.
 */
import type { RedisClient, RedisConnection } from "./redis-client.js";

/** One revoked token. */
export interface Revocation {
  readonly id: string;
  readonly hash: string;
}

/** Handlers of the revocation channel. */
export interface RevocationListener {
  /** A token was revoked somewhere. */
  revoked(event: Revocation): void;
  /** Messages may have been missed (subscription (re)established): forget every cached record. */
  resync(): void;
}

/** Publishes and hears revocations. */
export interface Revocations {
  publish(event: Revocation): Promise<void>;
  /** Starts listening (one subscriber connection per Revocations); returns an unsubscribe function. */
  listen(listener: RevocationListener): () => void;
  /** Whether the subscription is live right now (caches must not be trusted otherwise). */
  isListening(): boolean;
  close(): Promise<void>;
}

/** Creates the revocation channel over a connection. */
export function createRevocations(connection: RedisConnection): Revocations {
  const channel = connection.channel("revocations");
  const listeners = new Set<RevocationListener>();
  let subscriber: RedisClient | undefined;
  let listening = false;

  function start(): void {
    if (subscriber) return;
    const sub = connection.createSubscriber();
    subscriber = sub;
    sub.on("message", (ch: string, text: string) => {
      if (ch !== channel) return;
      let event: Revocation;
      try {
        event = JSON.parse(text) as Revocation;
      } catch {
        return;
      }
      if (typeof event?.id !== "string" || typeof event?.hash !== "string") return;
      for (const l of listeners) l.revoked(event);
    });
    sub.on("close", () => {
      listening = false;
    });
    // `ready` fires after every (re)connect; ioredis re-subscribes right then, and anything
    // published while we were away is lost, so everyone forgets their cache.
    sub.on("ready", () => {
      listening = false;
      void sub.subscribe(channel).then(
        () => {
          listening = true;
          for (const l of listeners) l.resync();
        },
        () => undefined,
      );
    });
  }

  return {
    async publish(event) {
      await connection.guard(() => connection.client.publish(channel, JSON.stringify({ id: event.id, hash: event.hash })));
    },
    listen(listener) {
      listeners.add(listener);
      start();
      return () => listeners.delete(listener);
    },
    isListening() {
      return listening;
    },
    async close() {
      listeners.clear();
      listening = false;
      // The subscriber connection is closed with the connection it came from.
    },
  };
}
