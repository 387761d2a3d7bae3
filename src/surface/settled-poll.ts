/**
 * Polling for a settled change, shared by `serve --watch`'s two watchers (the generated folder and
 * the upstreams config): `look` is asked for a fingerprint every `intervalMs`; a new one seen twice
 * in a row (the write has settled) calls `changed`, one tick at a time. An undefined fingerprint
 * (mid-swap) means "look again next tick". `changed` may return the fingerprint to compare with
 * from then on (when what it loaded changes what `look` reads).
 */
export async function pollSettled(
  look: () => Promise<string | undefined>,
  changed: () => Promise<string | void>,
  intervalMs = 500,
): Promise<{ close(): void }> {
  let seen = await look();
  let pending: string | undefined;
  let busy = false;

  async function tick(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const now = await look();
      if (now === undefined || now === seen) {
        pending = undefined;
        return;
      }
      if (pending !== now) {
        pending = now;
        return;
      }
      seen = now;
      pending = undefined;
      const next = await changed();
      if (typeof next === "string") seen = next;
    } finally {
      busy = false;
    }
  }

  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
