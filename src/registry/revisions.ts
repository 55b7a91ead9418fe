/**
 * Revision files: one per repository and manifest digest, holding a header line (the media
 * type the manifest was pushed with, its size and subject) followed by the pushed bytes.
 * Reads go through the metadata cache (`cache.ts`): the header for `storage.cache.ttl`, the
 * body for as long as memory allows. Whether a revision exists *now* is always asked of
 * storage (`exists`, `read`), for the manifest service's race handling.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import { revisionPath } from '../blobstore/layout.js';
import type { MetadataCache, RevisionInfo } from './cache.js';
import type { Digest } from './digest.js';
import type { RepositoryName } from './names.js';

/** A stored manifest with its body. */
export interface StoredManifest extends RevisionInfo {
  body: Buffer;
}

/** Revision file operations. */
export interface RevisionStore {
  /** The header of a revision: from the cache within the ttl, else from storage. */
  info(name: RepositoryName, digest: Digest): Promise<RevisionInfo | undefined>;
  /** A revision with its body: from the cache when it holds both, else one read of storage. */
  stored(name: RepositoryName, digest: Digest): Promise<StoredManifest | undefined>;
  /** Reads a revision from storage, never from the cache. */
  read(name: RepositoryName, digest: Digest): Promise<StoredManifest | undefined>;
  /** True when storage has the revision now. */
  exists(name: RepositoryName, digest: Digest): Promise<boolean>;
  /**
   * Writes a revision file, replacing any. `references` (the blobs and manifests it names) go
   * into the header, so that garbage collection marks without parsing manifests.
   */
  write(name: RepositoryName, manifest: StoredManifest, references: References): Promise<void>;
  /** Deletes a revision file; nothing when it is already gone. */
  delete(name: RepositoryName, digest: Digest): Promise<void>;
}

/** Creates the revision store. */
export function createRevisionStore(driver: StorageDriver, cache: MetadataCache): RevisionStore {
  function remember(name: RepositoryName, manifest: StoredManifest, checkedAt: number): void {
    const { body, ...info } = manifest;
    cache.rememberRevision(name, info, checkedAt);
    cache.rememberManifestBody(manifest.digest, body);
  }

  async function read(name: RepositoryName, digest: Digest): Promise<StoredManifest | undefined> {
    const checkedAt = cache.now();
    const file = await orMissing(driver.getContent(revisionPath(name, digest)), undefined);
    if (!file) {
      cache.forgetRevision(name, digest);
      return undefined;
    }
    const manifest = decodeRevision(digest, file);
    remember(name, manifest, checkedAt);
    return manifest;
  }

  return {
    read,

    async info(name, digest) {
      return cache.revision(name, digest) ?? (await read(name, digest));
    },

    async stored(name, digest) {
      const info = cache.revision(name, digest);
      const body = info && cache.manifestBody(digest);
      return info && body ? { ...info, body } : read(name, digest);
    },

    async exists(name, digest) {
      return (await orMissing(driver.stat(revisionPath(name, digest)), undefined)) !== undefined;
    },

    async write(name, manifest, references) {
      const checkedAt = cache.now();
      await driver.putContent(revisionPath(name, manifest.digest), encodeRevision(manifest, references));
      remember(name, manifest, checkedAt);
    },

    async delete(name, digest) {
      try {
        await orMissing(driver.delete(revisionPath(name, digest)), undefined);
      } finally {
        cache.forgetRevision(name, digest);
      }
    },
  };
}

/** What a manifest references, as its revision header records it. */
export interface References {
  /** Config, layers and other blobs. */
  blobs: Digest[];
  /** Manifests an index lists. */
  manifests: Digest[];
}

/** The header line of a revision file. Revisions written before Berth recorded `refs` lack it. */
export interface RevisionHeader extends Omit<RevisionInfo, 'digest'> {
  refs?: References;
}

/** A revision file: the header as one JSON line, a newline, then the manifest bytes. */
function encodeRevision(manifest: StoredManifest, refs: References): Buffer {
  const header: RevisionHeader = { mediaType: manifest.mediaType, size: manifest.size };
  if (manifest.subject) header.subject = manifest.subject;
  header.refs = refs;
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), manifest.body]);
}

/** The header and body of a revision file; throws when it is damaged. */
export function splitRevision(digest: Digest, file: Buffer): { header: RevisionHeader; body: Buffer } {
  const newline = file.indexOf(10);
  const header = JSON.parse(file.subarray(0, newline).toString('utf8')) as RevisionHeader;
  const body = file.subarray(newline + 1);
  if (newline < 0 || body.length !== header.size) {
    throw new Error(
      `revision file of ${digest} is damaged: ${body.length} bytes after the header, expected ${header.size}`,
    );
  }
  return { header, body };
}

function decodeRevision(digest: Digest, file: Buffer): StoredManifest {
  const { header, body } = splitRevision(digest, file);
  const { refs: _refs, ...info } = header;
  return { digest, ...info, body };
}
