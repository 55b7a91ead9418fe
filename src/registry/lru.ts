/**
 * A small least-recently-used map bounded by entry count and, optionally, by a weight
 * (bytes) so caches of manifest bodies cannot grow without limit.
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

/** Creates an LRU map; `get` refreshes an entry, `set` evicts the least recently used. */
export function createLru<K, V>(options: LruOptions<V>): Lru<K, V> {
  const entries = new Map<K, V>();
  const weigh = options.weigh ?? (() => 0);
  const maxWeight = options.maxWeight ?? Number.POSITIVE_INFINITY;
  let weight = 0;

  function remove(key: K): void {
    const value = entries.get(key);
    if (value === undefined) return;
    entries.delete(key);
    weight -= weigh(value);
  }

  return {
    get(key) {
      const value = entries.get(key);
      if (value === undefined) return undefined;
      entries.delete(key);
      entries.set(key, value);
      return value;
    },
    set(key, value) {
      const valueWeight = weigh(value);
      if (valueWeight > maxWeight) return;
      remove(key);
      entries.set(key, value);
      weight += valueWeight;
      for (const oldest of entries.keys()) {
        if (entries.size <= options.maxEntries && weight <= maxWeight) break;
        remove(oldest);
      }
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
