/**
 * In-memory metadata cache (`storage.cache.blobdescriptor: inmemory`, as in distribution).
 * It remembers facts that change only by deletion: a blob's size, that a blob or manifest
 * is linked into a repository, and manifest bodies (content-addressed, so immutable).
 * Deletions made by this process forget the facts at once; with several replicas, another
 * replica's deletion is seen when the entry is evicted or the process restarts, which is the
 * trade distribution makes too. Tags move, so they are not kept here (the tag service checks
 * its own entries with a stat on every use).
 */
import type { Digest } from './digest.js';
import { createLru } from './lru.js';
import type { RepositoryName } from './names.js';

/** What a repository's revision link records about a manifest. */
export interface RevisionInfo {
  digest: Digest;
  mediaType: string;
  size: number;
  subject?: Digest;
}

/** The metadata cache used by the blob and manifest services. */
export interface MetadataCache {
  blobSize(digest: Digest): number | undefined;
  rememberBlobSize(digest: Digest, size: number): void;
  isLinked(name: RepositoryName, digest: Digest): boolean;
  rememberLinked(name: RepositoryName, digest: Digest): void;
  revision(name: RepositoryName, digest: Digest): RevisionInfo | undefined;
  rememberRevision(name: RepositoryName, info: RevisionInfo): void;
  manifestBody(digest: Digest): Buffer | undefined;
  rememberManifestBody(digest: Digest, body: Buffer): void;
  /** Forgets that a blob is linked into `name` (blob delete). */
  forgetLink(name: RepositoryName, digest: Digest): void;
  /** Forgets a manifest revision of `name` (manifest delete). */
  forgetRevision(name: RepositoryName, digest: Digest): void;
  /** Forgets everything about a blob in every repository (garbage collection). */
  forgetBlob(digest: Digest): void;
}

/** Limits of the in-memory cache. */
export interface MetadataCacheOptions {
  maxEntries?: number;
  maxManifestBytes?: number;
}

/** A cache that remembers nothing: `storage.cache.blobdescriptor: none`. */
export function createNullCache(): MetadataCache {
  return {
    blobSize: () => undefined,
    rememberBlobSize: () => {},
    isLinked: () => false,
    rememberLinked: () => {},
    revision: () => undefined,
    rememberRevision: () => {},
    manifestBody: () => undefined,
    rememberManifestBody: () => {},
    forgetLink: () => {},
    forgetRevision: () => {},
    forgetBlob: () => {},
  };
}

/** An LRU-bounded in-memory cache. */
export function createMemoryCache(options: MetadataCacheOptions = {}): MetadataCache {
  const maxEntries = options.maxEntries ?? 100_000;
  const sizes = createLru<Digest, number>({ maxEntries });
  const links = createLru<string, true>({ maxEntries });
  const revisions = createLru<string, RevisionInfo>({ maxEntries });
  const bodies = createLru<Digest, Buffer>({
    maxEntries,
    maxWeight: options.maxManifestBytes ?? 64 * 1024 * 1024,
    weigh: (body) => body.length,
  });
  const key = (name: RepositoryName, digest: Digest): string => `${name}@${digest}`;
  const isForDigest = (digest: Digest) => (entry: string) => entry.endsWith(`@${digest}`);

  return {
    blobSize: (digest) => sizes.get(digest),
    rememberBlobSize: (digest, size) => sizes.set(digest, size),
    isLinked: (name, digest) => links.get(key(name, digest)) === true,
    rememberLinked: (name, digest) => links.set(key(name, digest), true),
    revision: (name, digest) => revisions.get(key(name, digest)),
    rememberRevision: (name, info) => revisions.set(key(name, info.digest), info),
    manifestBody: (digest) => bodies.get(digest),
    rememberManifestBody: (digest, body) => bodies.set(digest, body),
    forgetLink: (name, digest) => links.delete(key(name, digest)),
    forgetRevision: (name, digest) => revisions.delete(key(name, digest)),
    forgetBlob(digest) {
      sizes.delete(digest);
      bodies.delete(digest);
      links.deleteWhere(isForDigest(digest));
      revisions.deleteWhere(isForDigest(digest));
    },
  };
}
