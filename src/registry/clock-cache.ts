/**
 * A bounded map that keeps recently used entries: a "second chance" clock. `get` only marks
 * an entry as used, so reads never reshuffle the map; when room is needed the oldest entries
 * are evicted unless marked, and marked ones get one more round at the back. Bounded by the
 * summed weight of its entries: callers weigh each entry (in bytes, for the metadata cache),
 * so one bound can hold entries of every size.
 */

/** The map. */
export interface ClockCache<K, V> {
  get(key: K): V | undefined;
  /** Adds or replaces an entry; an entry heavier than the whole bound is not kept. */
  set(key: K, value: V, weight?: number): void;
  delete(key: K): void;
  /** Removes every entry whose key matches. */
  deleteWhere(match: (key: K) => boolean): void;
  readonly size: number;
  /** The summed weight of the entries; never above `maxWeight` once `set` returns. */
  readonly weight: number;
}

/** Options of createClockCache. */
export interface ClockCacheOptions {
  /** Upper bound on the summed weight of the entries (an entry weighs 1 unless told). */
  maxWeight: number;
}

interface Entry<V> {
  value: V;
  weight: number;
  used: boolean;
}

/** Creates the bounded map. */
export function createClockCache<K, V>({ maxWeight }: ClockCacheOptions): ClockCache<K, V> {
  const entries = new Map<K, Entry<V>>();
  let weight = 0;

  function remove(key: K): void {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    weight -= entry.weight;
  }

  // The oldest entry is the Map's first. A fresh iterator would have to step over every
  // entry deleted since the Map last compacted itself, which made each eviction cost as much
  // as the whole map (2M inserts into a full cache: 250 s); one long-lived iterator steps
  // over each only once. Every entry it passes is deleted or moved to the back, so it always
  // stands at the front.
  let hand: Iterator<[K, Entry<V>]> | undefined;

  function oldest(): [K, Entry<V>] {
    let next = hand?.next();
    if (!next || next.done) {
      hand = entries.entries();
      next = hand.next();
    }
    return next.value as [K, Entry<V>];
  }

  function makeRoom(): void {
    while (weight > maxWeight) {
      const [key, entry] = oldest();
      entries.delete(key);
      if (entry.used) {
        entry.used = false;
        entries.set(key, entry);
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
    set(key, value, entryWeight = 1) {
      remove(key);
      if (entryWeight > maxWeight) return;
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
    get weight() {
      return weight;
    },
  };
}
