/**
 * The clock cache under its old name, for `uploads.ts` only (its hash states) until that file's
 * rewrite drops the import; then this file goes too. Bounded by entry count.
 */
import { type ClockCache, createClockCache } from './clock-cache.js';

/** A clock cache holding at most `maxEntries` entries. */
export function createLru<K, V>({ maxEntries }: { maxEntries: number }): ClockCache<K, V> {
  return createClockCache<K, V>({ maxWeight: maxEntries });
}
