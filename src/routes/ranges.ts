/**
 * HTTP byte ranges: the `Range` request header of blob GETs (RFC 9110, a single range) and
 * the `Content-Range` header of upload chunks (`start-end`, inclusive).
 */
import { RegistryError } from '../registry/errors.js';
import type { ChunkRange } from '../registry/uploads.js';

/** A satisfiable range of a representation: first and last byte, inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The range a `Range` header asks of a blob of `size` bytes: undefined to send the whole
 * blob (no header, one we do not serve such as multiple ranges, or a malformed one, which
 * RFC 9110 lets us ignore), or 'unsatisfiable'.
 */
export function requestedRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/** Parses an upload chunk's `Content-Range`; absent means "append at the end". */
export function chunkRange(header: string | undefined): ChunkRange | undefined {
  if (header === undefined || header === '') return undefined;
  const match = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d+|\*))?$/.exec(header.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || end < start) {
    throw new RegistryError(
      'BLOB_UPLOAD_INVALID',
      'Content-Range must be "<start>-<end>" with start <= end',
      {
        detail: { contentRange: header.slice(0, 100) },
      },
    );
  }
  return { start, end };
}
