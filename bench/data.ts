/**
 * Benchmark payloads, generated once and reused: a large random buffer whose first 8 bytes
 * are stamped to make each push distinct, and a pack of small random blobs. Digests are
 * computed before any timing starts and memoised, since the same stamps recur per server.
 */
import { createHash, randomFillSync } from 'node:crypto';

/** `sha256:<hex>` of `data`. */
export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A large random buffer that can be turned into distinct contents by stamping it. */
export interface BulkPayload {
  buffer: Buffer;
  /**
   * Writes `stamp` into the first 8 bytes and returns the digest of the resulting content.
   * The buffer holds that content until the next call.
   */
  stamp(stamp: number): string;
}

const bulkCache = new Map<number, BulkPayload>();

/** The bulk payload of `size` bytes, created on first use. */
export function bulkPayload(size: number): BulkPayload {
  const cached = bulkCache.get(size);
  if (cached) return cached;
  const buffer = randomFillSync(Buffer.allocUnsafe(size));
  const digests = new Map<number, string>();
  const payload: BulkPayload = {
    buffer,
    stamp(stamp) {
      buffer.writeBigUInt64BE(BigInt(stamp), 0);
      let digest = digests.get(stamp);
      if (digest === undefined) {
        digest = sha256Digest(buffer);
        digests.set(stamp, digest);
      }
      return digest;
    },
  };
  bulkCache.set(size, payload);
  return payload;
}

/** Distinct small blobs that share one backing buffer. */
export interface BlobPack {
  blobs: Buffer[];
  digests: string[];
}

const packCache = new Map<string, BlobPack>();

/** `count` random blobs of `size` bytes each, with their digests; created on first use. */
export function blobPack(count: number, size: number): BlobPack {
  const key = `${count}x${size}`;
  const cached = packCache.get(key);
  if (cached) return cached;
  const backing = randomFillSync(Buffer.allocUnsafe(count * size));
  const blobs: Buffer[] = [];
  const digests: string[] = [];
  for (let i = 0; i < count; i++) {
    const blob = backing.subarray(i * size, (i + 1) * size);
    blob.writeUInt32BE(i, 0);
    blobs.push(blob);
    digests.push(sha256Digest(blob));
  }
  const pack = { blobs, digests };
  packCache.set(key, pack);
  return pack;
}
