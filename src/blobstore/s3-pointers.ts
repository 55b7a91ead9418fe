/**
 * Pointers: how a committed staged object becomes visible at its final path without S3
 * copying it. The bytes stay where the staged writes put them (a completed multipart upload,
 * or a tail object), and the final path holds a zero-byte object whose metadata names them:
 * `x-amz-meta-berth-data` (the data's driver path) and `x-amz-meta-berth-size`.
 *
 * The pointer cache maps pointer paths to their pointers so that reading a blob is one
 * request. Staleness: an entry is wrong only once its pointer was deleted or replaced, and both
 * delete the data the old pointer named (data first), so a read through a stale entry finds
 * the data gone and re-reads the pointer once: a delete always wins. Bounded by entry count;
 * every write through this driver to a path drops its entry.
 */
import { createClockCache } from '../registry/clock-cache.js';
import { putObject } from './s3-objects.js';
import type { S3Store } from './s3-store.js';

/** Where a committed object's bytes are, and how many there are. */
export interface Pointer {
  /** Driver path of the bytes. */
  data: string;
  size: number;
}

const DATA = 'berth-data';
const SIZE = 'berth-size';

/** The pointer an object's metadata describes, if it is one. */
export function pointerOf(metadata: Record<string, string> | undefined): Pointer | undefined {
  const data = metadata?.[DATA];
  const size = Number(metadata?.[SIZE]);
  if (data === undefined || !Number.isSafeInteger(size) || size < 0) return undefined;
  return { data, size };
}

/**
 * The version of a pointer. Every pointer is an empty object with the same ETag, but each
 * commit names data of its own (a fresh staged path or tail), so the data path tells them apart.
 */
export function pointerVersion(pointer: Pointer): string {
  return `pointer:${pointer.data}:${pointer.size}`;
}

/** Writes a pointer at `path`, replacing whatever is there. */
export async function writePointer(store: S3Store, path: string, pointer: Pointer): Promise<void> {
  await putObject(store, path, new Uint8Array(0), {
    metadata: { [DATA]: pointer.data, [SIZE]: String(pointer.size) },
  });
}

/** A bounded map of pointer paths to pointers (see the header for its staleness). */
export interface PointerCache {
  get(path: string): Pointer | undefined;
  set(path: string, pointer: Pointer): void;
  forget(path: string): void;
}

/** Creates a pointer cache holding at most `limit` entries (the registry's clock cache). */
export function createPointerCache(limit = 10_000): PointerCache {
  const entries = createClockCache<string, Pointer>({ maxWeight: limit });
  return {
    get: (path) => entries.get(path),
    set: (path, pointer) => entries.set(path, pointer),
    forget: (path) => entries.delete(path),
  };
}
