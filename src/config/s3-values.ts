/**
 * Parsers for the values of the `storage.s3` keys: bucket names, key prefixes, part sizes and
 * presigned URL lifetimes, each within what S3 accepts. Each throws an Error saying what is
 * expected.
 */
import { parseDuration, parseSize } from './values.js';

/** One mebibyte. */
export const MIB = 1024 * 1024;

function trimmed(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  throw new Error(`expected a string, got ${JSON.stringify(value)}`);
}

/** A bucket name as S3 and the compatible stores take it (legacy names may hold capitals), or ''. */
export function bucketName(value: unknown): string {
  const name = trimmed(value);
  if (name === '' || /^[A-Za-z0-9][A-Za-z0-9._-]{2,254}$/.test(name)) return name;
  throw new Error(`expected a bucket name such as registry-images, got ${JSON.stringify(value)}`);
}

/** A key prefix, slashes trimmed: path components of the characters storage paths use. */
export function keyPrefix(value: unknown): string {
  const prefix = trimmed(value).replace(/^\/+|\/+$/g, '');
  if (prefix === '' || prefix.split('/').every((part) => /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(part)))
    return prefix;
  throw new Error(
    `expected a key prefix such as registry or team/registry (letters, digits, . _ - between slashes), got ${JSON.stringify(value)}`,
  );
}

/** A part size within S3's limits: 5 MiB (its smallest part but the last) to 5 GiB. */
export function partSize(value: unknown): number {
  const size = parseSize(value);
  if (size >= 5 * MIB && size <= 5 * 1024 * MIB) return size;
  throw new Error(
    `expected a part size from 5MiB (S3's smallest part) to 5GiB, got ${JSON.stringify(value)}`,
  );
}

/** Presigned URLs live at most this long: S3 signs for at most 7 days. */
export const MAX_URL_EXPIRY = 7 * 86_400_000;

/** How long a presigned URL lives, at least a second (the upper bound is checked across keys). */
export function urlExpiry(value: unknown): number {
  const duration = parseDuration(value);
  if (duration >= 1000) return duration;
  throw new Error(
    `expected a duration from 1s to 7d (the longest a presigned URL lives), got ${JSON.stringify(value)}`,
  );
}
