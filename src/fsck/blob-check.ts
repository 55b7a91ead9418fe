/**
 * Checking every blob: its bytes, read through the driver (which follows S3 pointers), must
 * hash to the digest its path names. A few blobs are read at a time, each streamed through
 * its hash, so memory stays bounded by a few read buffers whatever the blobs' sizes.
 */
import { pipeline } from 'node:stream/promises';
import { type FileInfo, isNotFound, orMissing, type StorageDriver } from '../blobstore/driver.js';
import { BLOBS_ROOT, blobDataPath } from '../blobstore/layout.js';
import { algorithmOf, type Digest, digestFromHash, newHash } from '../registry/digest.js';
import { forEachLimited } from '../registry/limited.js';
import { digestOrUndefined } from './digest-listing.js';
import type { Finding, Progress } from './findings.js';

/** Blobs hashed at once: enough to keep a disk or a bucket busy, few enough to share it. */
const HASHED_AT_ONCE = 4;

/** What the blob check learned. */
export interface BlobCheck {
  /** Digests whose bytes were found and hash right. */
  present: Set<Digest>;
  /** Digests whose bytes do not hash to them, with the finding. */
  corrupt: Map<Digest, Finding>;
  count: number;
  bytes: number;
}

/** Hashes every blob in the store. */
export async function checkBlobs(driver: StorageDriver, progress: Progress): Promise<BlobCheck> {
  const blobs = await listBlobs(driver);
  const total = blobs.reduce((sum, blob) => sum + blob.size, 0);
  const check: BlobCheck = { present: new Set(), corrupt: new Map(), count: 0, bytes: 0 };
  await forEachLimited(blobs, HASHED_AT_ONCE, async ({ digest, size }) => {
    const actual = await hashOf(driver, digest);
    check.count += 1;
    check.bytes += size;
    progress(`blobs ${check.count}/${blobs.length} (${mib(check.bytes)} of ${mib(total)} MiB)`);
    // Gone while we read: deleted meanwhile, which is not damage.
    if (actual === undefined) return;
    if (actual === digest) {
      check.present.add(digest);
      return;
    }
    check.corrupt.set(digest, {
      kind: 'blob',
      item: digest,
      path: blobDataPath(digest),
      problem: `its bytes hash to ${actual}`,
    });
  });
  return check;
}

/** True when the store has the bytes of `digest`, asked of the check and then of storage. */
export async function blobStored(driver: StorageDriver, check: BlobCheck, digest: Digest): Promise<boolean> {
  if (check.present.has(digest) || check.corrupt.has(digest)) return true;
  return (await orMissing(driver.stat(blobDataPath(digest)), undefined)) !== undefined;
}

async function listBlobs(driver: StorageDriver): Promise<Array<{ digest: Digest; size: number }>> {
  const blobs: Array<{ digest: Digest; size: number }> = [];
  const visit = (info: FileInfo) => {
    const digest = info.isDir ? undefined : digestOfPath(info.path);
    if (digest) blobs.push({ digest, size: info.size });
    return undefined;
  };
  await orMissing(driver.walk(BLOBS_ROOT, visit), undefined);
  return blobs;
}

/** The digest a blob path names, or undefined for anything else below the blobs root. */
function digestOfPath(path: string): Digest | undefined {
  const [algorithm, prefix, hex] = path.slice(BLOBS_ROOT.length + 1).split('/');
  if (hex === undefined || prefix !== hex.slice(0, 2)) return undefined;
  return digestOrUndefined(`${algorithm}:${hex}`);
}

async function hashOf(driver: StorageDriver, digest: Digest): Promise<Digest | undefined> {
  const hash = newHash(algorithmOf(digest));
  try {
    await pipeline(await driver.reader(blobDataPath(digest)), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) hash.update(chunk);
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  return digestFromHash(algorithmOf(digest), hash);
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
