/** An in-process lock per key: operations on one key run one after another, other keys run freely. */

/** Runs `fn` once every earlier operation on `key` has finished (whether it resolved or threw). */
export type KeyedLock = (<T>(key: string, fn: () => Promise<T>) => Promise<T>) & {
  /** Resolves once every operation queued so far has finished. */
  settled(): Promise<void>;
};

/** A lock whose bookkeeping holds only the keys with an operation in flight. */
export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<unknown>>();
  function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const run = (tails.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  }
  return Object.assign(withLock, { settled: async () => void (await Promise.all([...tails.values()])) });
}
