/**
 * `n`/`last` pagination shared by the tags list and the catalog: results strictly after
 * `last`, at most `n` of them, and whether more remain (which earns a `Link` header). A page
 * is read from a sorted listing in storage a batch at a time, one result more than asked for
 * to know whether more remain: never the whole listing, which may hold tens of thousands.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';

/** A page of results. */
export interface Page<T> {
  items: T[];
  /** True when results remain after this page. */
  more: boolean;
}

/** A page asked for: results strictly after `last`, at most `size` of them. */
export interface PageRequest {
  size: number;
  last?: string;
}

/**
 * A sorted listing in storage and what its entries stand for. Entries sort bytewise in the
 * order their results must come in.
 */
export interface PagedListing<T> {
  /**
   * Entries strictly after `after`, at most `limit`; fewer only when the listing ends there
   * (the driver's `list` fills a page across the store's own continuations).
   */
  read(after: string | undefined, limit: number): Promise<string[]>;
  /** The entry a client's `last` corresponds to (it need not exist). */
  position(last: string): string;
  /** The result an entry stands for, or undefined to leave the entry out. */
  item(entry: string): T | undefined;
}

/**
 * No entry of Berth's listings is longer (catalog entries have at most 255 characters, tags
 * 128), so a `last` cut to this length asks for the same page, and stores get a bounded key.
 */
const LONGEST_POSITION = 512;

/** Once entries have been left out, later batches are read this large (one S3 listing call). */
const SCAN_BATCH = 1000;

/** Reads the page `request` asks for from `listing`. */
export async function readPage<T>(listing: PagedListing<T>, request: PageRequest): Promise<Page<T>> {
  if (request.size === 0) return { items: [], more: false };
  const wanted = request.size + 1;
  const items: T[] = [];
  let after: string | undefined =
    request.last === undefined ? '' : listing.position(request.last).slice(0, LONGEST_POSITION);
  let limit = wanted;
  for (;;) {
    const entries = await listing.read(after || undefined, limit);
    for (const entry of entries) {
      const item = listing.item(entry);
      if (item !== undefined) items.push(item);
    }
    if (items.length >= wanted || entries.length < limit) break;
    after = entries.at(-1);
    limit = Math.max(wanted - items.length, SCAN_BATCH);
  }
  return { items: items.slice(0, request.size), more: items.length > request.size };
}

/** The `read` of a listing of one storage directory; a missing directory lists nothing. */
export function directoryEntries(driver: StorageDriver, path: string): PagedListing<unknown>['read'] {
  return (after, limit) =>
    orMissing(driver.list(path, after === undefined ? { limit } : { after, limit }), []);
}
