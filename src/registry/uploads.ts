/**
 * Blob upload sessions. A session is a state object on storage (upload-session.ts) plus the
 * driver's staged bytes, so any replica can take the next chunk, and a restart loses nothing
 * acknowledged. A chunk is all or nothing: one that fails (client gone, length not matching
 * its Content-Range, storage failing) leaves the session as it was, so a retry cannot land
 * after stray bytes. The session keeps its sha256 midstate, so completing it, on any replica,
 * reads nothing back. Nothing becomes visible as a blob until its digest has been verified;
 * publishing commits the staged bytes in place (no copy, on S3 either).
 */

import { randomUUID } from 'node:crypto';
import { pipeline, type Readable, Transform } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { orMissing, type StagedObject, type StorageDriver } from '../blobstore/driver.js';
import { blobDataPath, stagedDataPath, uploadPath, verificationPath } from '../blobstore/layout.js';
import type { BlobService } from './blobs.js';
import { algorithmOf, type Digest } from './digest.js';
import { RegistryError } from './errors.js';
import type { KeyedLock } from './locks.js';
import type { RepositoryName } from './names.js';
import type { ReferenceGuard } from './tombstones.js';
import { oneShotHash, RESUMABLE_ALGORITHM, type RunningHash, resumableHash } from './upload-hash.js';
import {
  claimSession,
  createSession,
  readSession,
  type SessionState,
  uploadRange,
} from './upload-session.js';

export { uploadRange, uploadUnknown } from './upload-session.js';

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
}

/** Options of the upload service. */
export interface UploadServiceOptions {
  driver: StorageDriver;
  blobs: BlobService;
  /** Orders this process's requests for one session (see locks.ts). */
  lock: KeyedLock;
  /** Called when a request starts and stops streaming upload data. */
  onTransfer?: (delta: 1 | -1) => void;
  /** The tombstone check's clock, read before looking whether the blob is stored (tombstones.ts). */
  guard: Pick<ReferenceGuard, 'begin'>;
}

/** Creates the upload service. */
export function createUploadService(options: UploadServiceOptions): UploadService {
  const { driver, blobs, lock, guard } = options;
  const key = (name: RepositoryName, id: string) => `${name}/${id}`;
  // Names this process's claims, which it makes only while holding `lock` (upload-session.ts).
  const owner = randomUUID();
  const onTransfer = options.onTransfer ?? (() => {});

  /**
   * Streams a chunk into the staged bytes through `hash`; resolves with the new state, not yet
   * saved. The write is abandoned (and keeps nothing) as soon as `lost` aborts.
   */
  async function writeChunk(
    state: SessionState,
    body: Readable,
    range: ChunkRange | undefined,
    hash: RunningHash,
    lost?: AbortSignal,
  ): Promise<SessionState> {
    const chunk = hashing(range ? ofLength(body, range, state.size) : body, hash);
    const abort = () => chunk.destroy(lost?.reason as Error);
    lost?.addEventListener('abort', abort);
    onTransfer(1);
    try {
      const staged = await driver.staged.write(state.staged, chunk);
      const next: SessionState = { size: staged.size, staged };
      const saved = hash.save();
      if (saved !== undefined) next.hash = saved;
      return next;
    } finally {
      onTransfer(-1);
      lost?.removeEventListener('abort', abort);
    }
  }

  /** The hash to continue a session with: its saved midstate, or none when it has none. */
  async function continuedHash(state: SessionState): Promise<RunningHash | undefined> {
    if (state.size === 0) return resumableHash(undefined);
    return state.hash === undefined ? undefined : resumableHash(state.hash);
  }

  async function append(
    name: RepositoryName,
    id: string,
    body: Readable,
    range: ChunkRange | undefined,
  ): Promise<AppendResult> {
    const claimed = await claimSession(driver, name, id, range?.start, owner);
    try {
      const hash = (await continuedHash(claimed.state)) ?? oneShotHash(RESUMABLE_ALGORITHM);
      const next = await writeChunk(claimed.state, body, range, hash, claimed.lost);
      await claimed.finish(next);
      return { id, size: next.size, received: next.size - claimed.state.size };
    } catch (err) {
      await claimed.release();
      throw err;
    }
  }

  async function complete(
    name: RepositoryName,
    id: string,
    digest: Digest,
    body: Readable | undefined,
    range: ChunkRange | undefined,
  ): Promise<CompletedUpload> {
    const claimed = await claimSession(driver, name, id, body ? range?.start : undefined, owner);
    try {
      let state = claimed.state;
      let hash = algorithmOf(digest) === RESUMABLE_ALGORITHM ? await continuedHash(state) : undefined;
      if (body) {
        // A body that is the whole blob needs no saved midstate: node's faster hash will do.
        if (state.size === 0) hash = oneShotHash(algorithmOf(digest));
        state = await writeChunk(state, body, range, hash ?? oneShotHash(RESUMABLE_ALGORITHM), claimed.lost);
      }
      await publish(name, id, digest, state, hash);
      await claimed.remove();
      return { size: state.size, received: state.size - claimed.state.size };
    } catch (err) {
      // A failed completion leaves the session as it was before this request.
      await claimed.release();
      throw err;
    }
  }

  /**
   * Verifies the digest and makes the blob visible. With a hash that saw every byte this is
   * one commit; otherwise the bytes are committed aside, read back, hashed and moved.
   */
  async function publish(
    name: RepositoryName,
    id: string,
    digest: Digest,
    state: SessionState,
    hash: RunningHash | undefined,
  ): Promise<void> {
    if (hash) {
      checkDigest(digest, hash.digest(), state.size);
      const begun = guard.begin();
      await blobs.link(name, digest, { begun, stored: place(digest, state.staged) });
      return;
    }
    const aside = verificationPath(id);
    await driver.staged.commit(state.staged, aside);
    try {
      checkDigest(digest, await digestOfStored(aside, digest), state.size);
      const begun = guard.begin();
      await blobs.link(name, digest, { begun, stored: moveInto(aside, digest) });
    } finally {
      await orMissing(driver.delete(aside), undefined);
    }
  }

  /** Asked of storage itself, never of a cache: dropping bytes on a stale fact would lose a blob. */
  async function stored(digest: Digest): Promise<boolean> {
    return (await orMissing(driver.stat(blobDataPath(digest)), undefined)) !== undefined;
  }

  /** Commits staged bytes as a blob unless storage already has it (then they are dropped). */
  async function place(digest: Digest, staged: StagedObject): Promise<void> {
    if (await stored(digest)) return driver.staged.discard(staged);
    await driver.staged.commit(staged, blobDataPath(digest));
  }

  async function moveInto(aside: string, digest: Digest): Promise<void> {
    if (await stored(digest)) return;
    await driver.move(aside, blobDataPath(digest));
  }

  async function digestOfStored(path: string, expected: Digest): Promise<Digest> {
    const hash = oneShotHash(algorithmOf(expected));
    await pipelineAsync(await driver.reader(path), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) hash.update(chunk);
    });
    return hash.digest();
  }

  async function startSession(name: RepositoryName): Promise<{ id: string; state: SessionState }> {
    const id = randomUUID();
    const state: SessionState = { size: 0, staged: await driver.staged.start(stagedDataPath(id)) };
    await createSession(driver, name, id, state);
    return { id, state };
  }

  async function start(name: RepositoryName): Promise<UploadStatus> {
    const { id } = await startSession(name);
    return { id, size: 0 };
  }

  return {
    start,
    append: (name, id, body, range) => lock(key(name, id), () => append(name, id, body, range)),
    complete: (name, id, digest, body, range) =>
      lock(key(name, id), () => complete(name, id, digest, body, range)),

    async status(name, id) {
      const { state } = await readSession(driver, name, id);
      return { id, size: state.size };
    },

    async cancel(name, id) {
      const { state } = await readSession(driver, name, id);
      await driver.staged.discard(state.staged);
      await orMissing(driver.delete(uploadPath(name, id)), undefined);
    },

    async putMonolithic(name, digest, body) {
      // A session nobody else knows of, so no claim; it exists only so that a crash leaves
      // something the purge job finds and clears.
      const session = await startSession(name);
      let { state } = session;
      try {
        const hash = oneShotHash(algorithmOf(digest));
        state = await writeChunk(state, body, undefined, hash);
        await publish(name, session.id, digest, state, hash);
      } catch (err) {
        await driver.staged.discard(state.staged);
        throw err;
      } finally {
        await orMissing(driver.delete(uploadPath(name, session.id)), undefined);
      }
      return { size: state.size, received: state.size };
    },
  };
}

function checkDigest(expected: Digest, actual: Digest, size: number): void {
  if (actual === expected) return;
  throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
    detail: { expected, actual, size },
  });
}

/**
 * Passes a chunk through, failing it as soon as it is longer than its Content-Range says, or
 * at its end when it is shorter: the driver then keeps none of it.
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
function hashing(body: Readable, hash: RunningHash): Readable {
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  return pipeline(body, tap, () => {});
}
