/**
 * Reading from the S3 driver: objects read whole or as a byte window, following pointers
 * (s3-pointers.ts) through the driver's pointer cache, and re-reading a cached pointer once
 * when the data it named is gone, so that a delete through another process wins.
 */
import { Readable } from 'node:stream';
import { isNotFound, PathNotFoundError, type VersionedContent } from './driver.js';
import { isInvalidRange } from './s3-errors.js';
import { bodyBytes, bodyStream, getObject, headObject, type ObjectHead } from './s3-objects.js';
import { type Pointer, type PointerCache, pointerOf, pointerVersion } from './s3-pointers.js';
import type { S3Store } from './s3-store.js';

/** What is at a path: its head, and the pointer it is, if it is one. */
interface Resolved {
  head: ObjectHead;
  pointer?: Pointer;
}

/** Reads that follow pointers through the pointer cache: whole objects, byte windows, heads. */
export function pointerReads(store: S3Store, pointers: PointerCache) {
  async function resolve(path: string): Promise<Resolved | undefined> {
    const head = await headObject(store, path);
    if (!head) return undefined;
    const pointer = pointerOf(head.metadata);
    if (pointer) pointers.set(path, pointer);
    else pointers.forget(path);
    return pointer ? { head, pointer } : { head };
  }

  /** Runs `read` on a pointer's data; a missing data object means the path is gone. */
  async function ofData<T>(path: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (isNotFound(err)) throw new PathNotFoundError(path);
      throw err;
    }
  }

  /** A read through a cached pointer, or undefined when its data is gone (re-read it then). */
  async function viaCache<T>(path: string, read: (pointer: Pointer) => Promise<T>): Promise<T | undefined> {
    const cached = pointers.get(path);
    if (!cached) return undefined;
    try {
      return await read(cached);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      pointers.forget(path);
      return undefined;
    }
  }

  async function wholeData(path: string, pointer: Pointer): Promise<VersionedContent> {
    const out = await ofData(path, () => getObject(store, pointer.data));
    return { content: await bodyBytes(store, path, out), version: pointerVersion(pointer) };
  }

  async function whole(path: string): Promise<VersionedContent> {
    const cached = await viaCache(path, (pointer) => wholeData(path, pointer));
    if (cached) return cached;
    const out = await getObject(store, path);
    const pointer = pointerOf(out.Metadata);
    if (!pointer) {
      pointers.forget(path);
      return { content: await bodyBytes(store, path, out), version: out.ETag ?? '' };
    }
    bodyStream(out).resume();
    pointers.set(path, pointer);
    return wholeData(path, pointer);
  }

  /** A stream of `length` bytes (to the end when undefined) of the object at `path` from `offset`. */
  async function window(path: string, data: string, size: number, offset: number, length?: number) {
    const end = length === undefined ? size : Math.min(size, offset + length);
    if (end <= offset) return Readable.from([]);
    const range = offset === 0 && end === size ? undefined : { start: offset, end: end - 1 };
    try {
      const out = await getObject(store, data, range);
      return bounded(bodyStream(out), out.ContentLength, end - offset);
    } catch (err) {
      if (isInvalidRange(err)) return Readable.from([]);
      if (isNotFound(err)) throw new PathNotFoundError(path);
      throw err;
    }
  }

  async function stream(path: string, offset: number, length?: number): Promise<Readable> {
    const cached = await viaCache(path, (pointer) =>
      window(path, pointer.data, pointer.size, offset, length),
    );
    if (cached) return cached;
    const found = await resolve(path);
    if (!found) throw new PathNotFoundError(path);
    const { pointer, head } = found;
    return window(path, pointer ? pointer.data : path, pointer ? pointer.size : head.size, offset, length);
  }

  return { resolve, whole, stream };
}

/**
 * The body, cut to `expected` bytes if the store sent more (s3rver answers `bytes=0-0` with
 * the whole object).
 */
function bounded(body: Readable, sent: number | undefined, expected: number): Readable {
  if (sent === undefined || sent <= expected) return body;
  async function* take(): AsyncGenerator<Buffer> {
    let left = expected;
    for await (const chunk of body) {
      const piece = (chunk as Buffer).subarray(0, left);
      left -= piece.length;
      yield piece;
      if (left === 0) return;
    }
  }
  return Readable.from(take(), { objectMode: false });
}
