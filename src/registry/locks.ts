/**
 * Per-key mutual exclusion within one process: requests for the same upload session that
 * reach the same replica wait for each other (a retry right after a dropped connection then
 * finds the session free), while requests on other replicas meet the session's claim.
 */

/** Runs `work` once every earlier holder of `key` has finished. */
export type KeyedLock = <T>(key: string, work: () => Promise<T>) => Promise<T>;

/** Creates a keyed lock; keys with no waiters use no memory. */
export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<void>>();
  return async (key, work) => {
    const previous = tails.get(key) ?? Promise.resolve();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => held);
    tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
