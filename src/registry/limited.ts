/**
 * Working through many storage lookups without flooding storage: at most `limit` in flight at
 * once, so other requests' operations interleave with ours instead of queueing behind
 * thousands of them (the filesystem driver shares libuv's four threads with everyone).
 */

/** Storage lookups one request keeps in flight when it has many to make. */
export const LOOKUPS_IN_FLIGHT = 8;

/**
 * Runs `work` for each item, at most `limit` at a time, in order of the items. Stops starting
 * new work once `enough()` is true or any work has failed; rejects with the first failure.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
  enough: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed && !enough()) {
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
