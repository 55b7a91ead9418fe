/**
 * Blob upload sessions. A session is an object on storage (`_uploads/<id>`) that grows with
 * each chunk, so sessions survive restarts and work across replicas. A chunk is all or
 * nothing: one that fails (client gone, length not matching its Content-Range, disk full)
 * leaves the session as it was, so a retry cannot land after stray bytes. The running hash
 * of a session lives in memory as an optimisation only: when it is missing or out of step
 * (another replica took a chunk, the process restarted, a chunk failed midway) the data is
 * hashed again from storage when the session completes. Nothing becomes visible as a blob
 * until the digest has been verified and the data moved into place.
 */
import { type Hash, randomUUID } from 'node:crypto';
import { pipeline, Readable, Transform } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { isNotFound, orMissing, type StorageDriver } from '../blobstore/driver.js';
import { blobDataPath, uploadPath } from '../blobstore/layout.js';
import type { BlobService } from './blobs.js';
import type { MetadataCache } from './cache.js';
import { algorithmOf, type Digest, digestFromHash, newHash } from './digest.js';
import { RegistryError } from './errors.js';
import type { KeyedLock } from './locks.js';
import { createLru } from './lru.js';
import type { RepositoryName } from './names.js';

/** Where an upload session stands. */
export interface UploadStatus {
  id: string;
  /** Bytes received so far. */
  size: number;
}

/** A session after a chunk was appended. */
export interface AppendResult extends UploadStatus {
  /** Bytes this request added. */
  received: number;
}

/** A published blob. */
export interface CompletedUpload {
  size: number;
  /** Bytes the completing request itself carried. */
  received: number;
}

/** An inclusive byte range from a `Content-Range` header. */
export interface ChunkRange {
  start: number;
  end: number;
}

/** Upload session operations. */
export interface UploadService {
  start(name: RepositoryName): Promise<UploadStatus>;
  status(name: RepositoryName, id: string): Promise<UploadStatus>;
  /** Appends a chunk; with `range`, the chunk must start exactly at the current size. */
  append(name: RepositoryName, id: string, body: Readable, range?: ChunkRange): Promise<AppendResult>;
  /** Appends an optional final chunk, verifies the digest and publishes the blob. */
  complete(
    name: RepositoryName,
    id: string,
    digest: Digest,
    body?: Readable,
    range?: ChunkRange,
  ): Promise<CompletedUpload>;
  cancel(name: RepositoryName, id: string): Promise<void>;
  /** A whole blob in one request (`POST ?digest=`): nothing remains if it fails. */
  putMonolithic(name: RepositoryName, digest: Digest, body: Readable): Promise<CompletedUpload>;
  /** Drops what this process remembers about a session deleted behind its back (by the purge job). */
  forget(id: string): void;
}

/** Options of the upload service. */
export interface UploadServiceOptions {
  driver: StorageDriver;
  blobs: BlobService;
  cache: MetadataCache;
  lock: KeyedLock;
  /** Called when a request starts and stops streaming upload data. */
  onTransfer?: (delta: 1 | -1) => void;
}

interface HashState {
  hash: Hash;
  size: number;
}

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACKED_ALGORITHM = 'sha256';

/** The `Range` header value for a session holding `size` bytes (`0-0` when empty, as distribution does). */
export function uploadRange(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

/** Creates the upload service. */
export function createUploadService(options: UploadServiceOptions): UploadService {
  const { driver, blobs, cache, lock } = options;
  const onTransfer = options.onTransfer ?? (() => {});
  const hashes = createLru<string, HashState>({ maxEntries: 10_000 });
  const key = (name: RepositoryName, id: string) => `${name}/${id}`;

  async function status(name: RepositoryName, id: string): Promise<UploadStatus> {
    if (!UPLOAD_ID.test(id)) throw uploadUnknown(id);
    try {
      const { size } = await driver.stat(uploadPath(name, id));
      return { id, size };
    } catch (err) {
      if (isNotFound(err)) throw uploadUnknown(id);
      throw err;
    }
  }

  async function appendUnlocked(
    name: RepositoryName,
    id: string,
    body: Readable,
    range: ChunkRange | undefined,
  ): Promise<AppendResult> {
    const current = await status(name, id);
    if (range && range.start !== current.size) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'chunk does not start where the upload ends', {
        status: 416,
        headers: { Range: uploadRange(current.size) },
        detail: { expectedStart: current.size, receivedRange: `${range.start}-${range.end}` },
      });
    }
    const state = hashes.get(key(name, id)) ?? startHashAtZero(name, id, current.size);
    const tracked = state && state.size === current.size ? state : undefined;
    if (!tracked) hashes.delete(key(name, id));
    const chunk = range ? ofLength(body, range, current.size) : body;
    onTransfer(1);
    let size: number;
    try {
      size = await driver.append(uploadPath(name, id), tracked ? hashing(chunk, tracked.hash) : chunk);
    } catch (err) {
      hashes.delete(key(name, id));
      throw err;
    } finally {
      onTransfer(-1);
    }
    if (tracked) tracked.size = size;
    return { id, size, received: size - current.size };
  }

  /** A session this process has no hash for can still be hashed as it streams if it is empty. */
  function startHashAtZero(name: RepositoryName, id: string, size: number): HashState | undefined {
    if (size !== 0) return undefined;
    const state = { hash: newHash(TRACKED_ALGORITHM), size: 0 };
    hashes.set(key(name, id), state);
    return state;
  }

  async function actualDigest(
    name: RepositoryName,
    id: string,
    expected: Digest,
    size: number,
  ): Promise<Digest> {
    const algorithm = algorithmOf(expected);
    const state = hashes.get(key(name, id));
    if (algorithm === TRACKED_ALGORITHM && state && state.size === size) {
      return digestFromHash(algorithm, state.hash.copy());
    }
    const hash = newHash(algorithm);
    await pipelineAsync(await driver.reader(uploadPath(name, id)), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) hash.update(chunk);
    });
    return digestFromHash(algorithm, hash);
  }

  async function publish(name: RepositoryName, id: string, digest: Digest, size: number): Promise<void> {
    const place = async () => {
      if ((await blobs.storedSize(digest)) !== undefined) {
        // The registry already has these bytes: this upload was a duplicate.
        await deleteQuietly(driver, uploadPath(name, id));
        return;
      }
      await driver.move(uploadPath(name, id), blobDataPath(digest));
      cache.rememberBlobSize(digest, size);
    };
    // The link may become durable before the data: a link without data reads as an unknown
    // blob, never as a partial one, so both can proceed at once.
    await Promise.all([place(), blobs.link(name, digest)]);
    hashes.delete(key(name, id));
  }

  async function completeUnlocked(
    name: RepositoryName,
    id: string,
    digest: Digest,
    body: Readable | undefined,
    range: ChunkRange | undefined,
  ): Promise<CompletedUpload> {
    const { size, received } = body
      ? await appendUnlocked(name, id, body, range)
      : { ...(await status(name, id)), received: 0 };
    const actual = await actualDigest(name, id, digest, size);
    if (actual !== digest) {
      throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
        detail: { expected: digest, actual, size },
      });
    }
    await publish(name, id, digest, size);
    return { size, received };
  }

  async function start(name: RepositoryName): Promise<UploadStatus> {
    const id = randomUUID();
    await driver.append(uploadPath(name, id), emptyStream());
    hashes.set(key(name, id), { hash: newHash(TRACKED_ALGORITHM), size: 0 });
    return { id, size: 0 };
  }

  return {
    start,
    status,

    append: (name, id, body, range) => lock(key(name, id), () => appendUnlocked(name, id, body, range)),

    complete: (name, id, digest, body, range) =>
      lock(key(name, id), () => completeUnlocked(name, id, digest, body, range)),

    async cancel(name, id) {
      await status(name, id);
      await lock(key(name, id), async () => {
        hashes.delete(key(name, id));
        await deleteQuietly(driver, uploadPath(name, id));
      });
    },

    async putMonolithic(name, digest, body) {
      const { id } = await start(name);
      try {
        return await lock(key(name, id), () => completeUnlocked(name, id, digest, body, undefined));
      } catch (err) {
        hashes.delete(key(name, id));
        await deleteQuietly(driver, uploadPath(name, id));
        throw err;
      }
    },

    forget(id) {
      hashes.deleteWhere((entry) => entry.endsWith(`/${id}`));
    },
  };
}

/**
 * Passes a chunk through, failing it as soon as it is longer than its Content-Range says, or
 * at its end when it is shorter: the driver then appends none of it.
 */
function ofLength(body: Readable, range: ChunkRange, sessionSize: number): Readable {
  const expected = range.end - range.start + 1;
  let received = 0;
  const mismatch = () =>
    new RegistryError('BLOB_UPLOAD_INVALID', 'chunk length does not match its Content-Range', {
      headers: { Range: uploadRange(sessionSize) },
      detail: { receivedRange: `${range.start}-${range.end}`, uploadSize: sessionSize },
    });
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      callback(received > expected ? mismatch() : null, chunk);
    },
    flush(callback) {
      callback(received === expected ? null : mismatch());
    },
  });
  return pipeline(body, counter, () => {});
}

/** Passes a stream through while feeding every chunk to `hash`. */
function hashing(body: Readable, hash: Hash): Readable {
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  return pipeline(body, tap, () => {});
}

function emptyStream(): Readable {
  return Readable.from([]);
}

async function deleteQuietly(driver: StorageDriver, path: string): Promise<void> {
  await orMissing(driver.delete(path), undefined);
}

/** BLOB_UPLOAD_UNKNOWN for a session id. */
export function uploadUnknown(id: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', {
    detail: { uuid: id.slice(0, 100) },
  });
}
