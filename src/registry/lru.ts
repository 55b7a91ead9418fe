/**
 * A small bounded map that keeps recently used entries (a "second chance" clock): `get`
 * only marks an entry as used, so reads never reshuffle the map; when room is needed the
 * oldest entries are evicted unless marked, and marked ones get one more round. Bounded by
 * entry count and, optionally, by a weight (bytes) so caches of manifest bodies cannot grow
 * without limit.
 */
export interface Lru<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): void;
  /** Removes every entry whose key matches. */
  deleteWhere(match: (key: K) => boolean): void;
  readonly size: number;
}

/** Options of createLru. */
export interface LruOptions<V> {
  maxEntries: number;
  /** Upper bound on the summed weight of the entries; unbounded when absent. */
  maxWeight?: number;
  weigh?: (value: V) => number;
}

interface Entry<V> {
  value: V;
  weight: number;
  used: boolean;
}

/** Creates the bounded map. */
export function createLru<K, V>(options: LruOptions<V>): Lru<K, V> {
  const entries = new Map<K, Entry<V>>();
  const weigh = options.weigh ?? (() => 0);
  const maxWeight = options.maxWeight ?? Number.POSITIVE_INFINITY;
  let weight = 0;

  function remove(key: K): void {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    weight -= entry.weight;
  }

  function makeRoom(): void {
    while (entries.size > options.maxEntries || weight > maxWeight) {
      const [oldest, entry] = entries.entries().next().value as [K, Entry<V>];
      entries.delete(oldest);
      if (entry.used) {
        entry.used = false;
        entries.set(oldest, entry);
      } else {
        weight -= entry.weight;
      }
    }
  }

  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entry.used = true;
      return entry.value;
    },
    set(key, value) {
      const entryWeight = weigh(value);
      if (entryWeight > maxWeight) return;
      remove(key);
      entries.set(key, { value, weight: entryWeight, used: false });
      weight += entryWeight;
      makeRoom();
    },
    delete: remove,
    deleteWhere(match) {
      for (const key of [...entries.keys()]) if (match(key)) remove(key);
    },
    get size() {
      return entries.size;
    },
  };
}
