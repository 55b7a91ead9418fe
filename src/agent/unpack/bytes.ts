/**
 * Exact-length reads over an async iterable of chunks, without copying unless a read spans two
 * chunks. The tar reader needs 512-byte headers and bounded body pieces from a stream whose
 * chunk boundaries (gunzip's, zstd's blocks) fall anywhere.
 */

/** Reads from a chunked source. Not safe for concurrent calls. */
export interface ByteReader {
  /** Exactly `count` bytes, or fewer only when the input ends. */
  read(count: number): Promise<Buffer>;
  /** Between 1 and `max` bytes, or null at the end of input; a view of the source chunk. */
  chunk(max: number): Promise<Buffer | null>;
  /** Skips up to `count` bytes; returns how many were skipped (fewer only at the end). */
  skip(count: number): Promise<number>;
  /** Reads and discards the rest of the input. */
  drain(): Promise<void>;
  /** Releases the source (stops a stream the consumer abandoned). */
  close(): Promise<void>;
}

const EMPTY = Buffer.alloc(0);

/** Wraps `source` for exact-length reads. */
export function byteReader(source: AsyncIterable<Uint8Array>): ByteReader {
  const iterator = source[Symbol.asyncIterator]();
  let head: Buffer = EMPTY;
  let ended = false;

  const fill = async (): Promise<boolean> => {
    while (head.length === 0 && !ended) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else
        head = Buffer.isBuffer(next.value)
          ? next.value
          : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length);
    }
    return head.length > 0;
  };

  const chunk = async (max: number): Promise<Buffer | null> => {
    if (max <= 0 || !(await fill())) return null;
    const size = Math.min(max, head.length);
    const out = head.subarray(0, size);
    head = head.subarray(size);
    return out;
  };

  return {
    async read(count) {
      const first = await chunk(count);
      if (!first) return EMPTY;
      if (first.length === count) return first;
      const parts = [first];
      let total = first.length;
      while (total < count) {
        const part = await chunk(count - total);
        if (!part) break;
        parts.push(part);
        total += part.length;
      }
      return Buffer.concat(parts, total);
    },
    chunk,
    async skip(count) {
      let skipped = 0;
      while (skipped < count) {
        const part = await chunk(count - skipped);
        if (!part) break;
        skipped += part.length;
      }
      return skipped;
    },
    async drain() {
      head = EMPTY;
      while (await fill()) head = EMPTY;
    },
    async close() {
      if (!ended) {
        ended = true;
        head = EMPTY;
        await iterator.return?.();
      }
    },
  };
}
