/**
 * Blobs as a repository sees them: content-addressed data shared by all repositories, made
 * visible in one repository by a link. Pushing or mounting a blob links it; deleting a blob
 * from a repository removes only the link. Sizes are cached for as long as memory allows (the
 * bytes of a digest never change); links for `storage.cache.ttl` (docs/caches.md).
 */
import type { Readable } from 'node:stream';
import { isNotFound, orMissing, type StorageDriver } from '../blobstore/driver.js';
import { blobDataPath, catalogEntryPath, layerLinkPath } from '../blobstore/layout.js';
import type { MetadataCache } from './cache.js';
import type { Digest } from './digest.js';
import { RegistryError } from './errors.js';
import type { RepositoryName } from './names.js';
import { missingIn, remarkIfCollected, withMarker } from './repositories.js';
import type { ReferenceGuard } from './tombstones.js';

/** A blob as served: its digest and size in bytes. */
export interface BlobDescriptor {
  digest: Digest;
  size: number;
}

/** Blob operations of the registry. */
export interface BlobService {
  /** Describes a blob linked into `name`; BLOB_UNKNOWN or NAME_UNKNOWN otherwise. */
  stat(name: RepositoryName, digest: Digest): Promise<BlobDescriptor>;
  /**
   * A URL a client may download a blob's bytes from directly (a presigned S3 URL), when the
   * store hands them out; undefined otherwise. Ask only after `stat` found the blob linked.
   */
  downloadURL(digest: Digest): Promise<string | undefined>;
  /** Streams `length` bytes of a linked blob from `offset`. */
  open(name: RepositoryName, digest: Digest, offset: number, length: number): Promise<Readable>;
  /** Unlinks a blob from a repository. */
  delete(name: RepositoryName, digest: Digest): Promise<void>;
  /**
   * Links stored blob data into a repository: always writes the link (idempotent). Fails with
   * UNAVAILABLE when garbage collection deleted the blob meanwhile (push it again).
   */
  link(name: RepositoryName, digest: Digest, options?: LinkOptions): Promise<void>;
  /** Size of a blob linked into `name`, or undefined when it is not there. */
  linkedSize(name: RepositoryName, digest: Digest): Promise<number | undefined>;
  /** Size of the stored data of a blob regardless of repository, or undefined. */
  storedSize(digest: Digest): Promise<number | undefined>;
  /** Links a blob of `from` into `name`; false when `from` does not have it (or GC just took it). */
  mount(name: RepositoryName, digest: Digest, from: RepositoryName): Promise<boolean>;
}

/** What a caller of `link` knows about the blob. */
export interface LinkOptions {
  /** The guard's clock, read before the caller last learnt that the blob exists (tombstones.ts). */
  begun?: number;
  /** Settles once the caller has stored the blob's bytes, which it does while the link is written. */
  stored?: Promise<unknown>;
}

/** Options of the blob service. */
export interface BlobServiceOptions {
  driver: StorageDriver;
  cache: MetadataCache;
  deleteEnabled: boolean;
  /** The tombstone check after writing a link (tombstones.ts). */
  guard: ReferenceGuard;
}

/** Creates the blob service. */
export function createBlobService({ driver, cache, deleteEnabled, guard }: BlobServiceOptions): BlobService {
  async function isLinked(name: RepositoryName, digest: Digest): Promise<boolean> {
    if (cache.isLinked(name, digest)) return true;
    const checkedAt = cache.now();
    if (!(await orMissing(driver.stat(layerLinkPath(name, digest)), undefined))) return false;
    cache.rememberLinked(name, digest, checkedAt);
    return true;
  }

  async function storedSize(digest: Digest): Promise<number | undefined> {
    const cached = cache.blobSize(digest);
    if (cached !== undefined) return cached;
    const info = await orMissing(driver.stat(blobDataPath(digest)), undefined);
    if (info) cache.rememberBlobSize(digest, info.size);
    return info?.size;
  }

  async function stat(name: RepositoryName, digest: Digest): Promise<BlobDescriptor> {
    const [linked, size] = await Promise.all([isLinked(name, digest), storedSize(digest)]);
    if (linked && size !== undefined) return { digest, size };
    throw await missingIn(driver, name, blobUnknown(digest));
  }

  /**
   * Writes the link, then looks for tombstones: false when GC deleted the blob meanwhile. The
   * link is then removed again, so that it never vouches for a blob that is gone.
   */
  async function linkIfAlive(
    name: RepositoryName,
    digest: Digest,
    begun: number,
    stored?: Promise<unknown>,
  ): Promise<boolean> {
    await Promise.all([withMarker(driver, name, writeLink(name, digest)), stored]);
    const targets = [blobDataPath(digest), layerLinkPath(name, digest), catalogEntryPath(name)];
    const lost = await remarkIfCollected(driver, name, await guard.lost(targets, begun));
    if (lost.length === 0) return true;
    cache.forgetLink(name, digest);
    if (lost.includes(blobDataPath(digest)))
      await orMissing(driver.delete(layerLinkPath(name, digest)), undefined);
    return false;
  }

  async function link(name: RepositoryName, digest: Digest, options: LinkOptions = {}): Promise<void> {
    const alive = await linkIfAlive(name, digest, options.begun ?? guard.begin(), options.stored);
    if (!alive) throw collectedMeanwhile(digest);
  }

  async function writeLink(name: RepositoryName, digest: Digest): Promise<void> {
    // Written even when the cache says the link exists: another process may have deleted it
    // since, and a push that answered 201 must leave the blob in the repository.
    const checkedAt = cache.now();
    await driver.putContent(layerLinkPath(name, digest), EMPTY);
    cache.rememberLinked(name, digest, checkedAt);
  }

  return {
    stat,
    link,
    storedSize,

    downloadURL: (digest) => driver.redirectURL(blobDataPath(digest)),

    async open(_name, digest, offset, length) {
      try {
        return await driver.reader(blobDataPath(digest), offset, length);
      } catch (err) {
        if (isNotFound(err)) throw blobUnknown(digest);
        throw err;
      }
    },

    async delete(name, digest) {
      if (!deleteEnabled) throw deletesDisabled();
      try {
        await driver.delete(layerLinkPath(name, digest));
      } catch (err) {
        if (isNotFound(err)) throw await missingIn(driver, name, blobUnknown(digest));
        throw err;
      } finally {
        cache.forgetLink(name, digest);
      }
    },

    async linkedSize(name, digest) {
      const [linked, size] = await Promise.all([isLinked(name, digest), storedSize(digest)]);
      return linked ? size : undefined;
    },

    async mount(name, digest, from) {
      const begun = guard.begin();
      const [linked, size] = await Promise.all([isLinked(from, digest), storedSize(digest)]);
      if (!linked || size === undefined) return false;
      // Taken by GC meanwhile: the client falls back to uploading the blob, which brings it back.
      return linkIfAlive(name, digest, begun);
    },
  };
}

const EMPTY = Buffer.alloc(0);

/** BLOB_UNKNOWN for a digest. */
export function blobUnknown(digest: Digest): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
}

/** A blob that garbage collection deleted while a push was linking it: the client pushes it again. */
export function collectedMeanwhile(digest: Digest): RegistryError {
  return new RegistryError(
    'UNAVAILABLE',
    'garbage collection deleted this blob while it was being pushed; push it again',
    { status: 503, detail: { digest } },
  );
}

/** The error for any delete while `storage.delete.enabled` is false. */
export function deletesDisabled(): RegistryError {
  return new RegistryError('UNSUPPORTED', 'deletes are disabled on this registry (storage.delete.enabled)', {
    status: 405,
  });
}
