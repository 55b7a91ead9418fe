/**
 * The in-process metadata cache: one clock cache under one memory budget
 * (`storage.cache.maxmemory`) holding five kinds of facts, each with its staleness bound
 * (docs/caches.md has the whole argument):
 *
 * - by digest alone, kept until evicted, since the bytes of a digest never change: a blob's
 *   size and a manifest's body. They are only ever used after a fact below said that the
 *   repository has the digest, so a delete still wins.
 * - whether a repository has a blob (`linked`) or a manifest (`revision`), and which digest a
 *   tag points at: trusted for `storage.cache.ttl` after storage was asked, then asked again
 *   (tags by comparing the tag object's version). A change made through another process is
 *   therefore seen within the ttl; one made through this process at once, because the
 *   services update or forget the entry as they write or delete.
 *
 * Nothing may skip a write or delete data because of what this cache says; it only saves
 * reads. A timestamp passed to `remember*` is taken before the storage call whose answer is
 * remembered, so the ttl counts from the moment storage could last have been seen.
 */

import {
  createKeyBuilder,
  ENTRY_BYTES,
  flatString,
  internMediaType,
  KIND,
  mediaTypeBytes,
  numberBytes,
  objectBytes,
  stringBytes,
} from './cache-keys.js';
import { createClockCache } from './clock-cache.js';
import type { Digest } from './digest.js';
import type { RepositoryName, Tag } from './names.js';

/** What a repository's revision file records about a manifest. */
export interface RevisionInfo {
  digest: Digest;
  mediaType: string;
  size: number;
  subject?: Digest;
}

/** A remembered tag: the digest it pointed at and the version of the tag object then. */
export interface TagFact {
  digest: Digest;
  version: string;
  /** True while storage was asked less than the ttl ago: the digest may be used unchecked. */
  fresh: boolean;
}

/** The metadata cache used by the blob, manifest and tag services. */
export interface MetadataCache {
  /** The cache's clock: read it before a storage call and pass it to `remember*`. */
  now(): number;
  blobSize(digest: Digest): number | undefined;
  rememberBlobSize(digest: Digest, size: number): void;
  /** True only while a link seen in storage is younger than the ttl. */
  isLinked(name: RepositoryName, digest: Digest): boolean;
  rememberLinked(name: RepositoryName, digest: Digest, checkedAt: number): void;
  forgetLink(name: RepositoryName, digest: Digest): void;
  /** A revision seen in storage less than the ttl ago. */
  revision(name: RepositoryName, digest: Digest): RevisionInfo | undefined;
  rememberRevision(name: RepositoryName, info: RevisionInfo, checkedAt: number): void;
  forgetRevision(name: RepositoryName, digest: Digest): void;
  manifestBody(digest: Digest): Buffer | undefined;
  rememberManifestBody(digest: Digest, body: Buffer): void;
  tag(name: RepositoryName, tag: Tag): TagFact | undefined;
  rememberTag(name: RepositoryName, tag: Tag, fact: Omit<TagFact, 'fresh'>, checkedAt: number): void;
  forgetTag(name: RepositoryName, tag: Tag): void;
  /** Estimated bytes held, never above the budget. */
  readonly weight: number;
}

/** Bounds of the cache. */
export interface MetadataCacheOptions {
  /** How long a repository fact is trusted, in ms (`storage.cache.ttl`); 0 checks storage every time. */
  ttl?: number | undefined;
  /** The memory budget in bytes for all entries together (`storage.cache.maxmemory`). */
  maxMemory?: number | undefined;
  /** A monotonic clock in ms; tests pass their own. */
  now?: () => number;
}

/** Default of `storage.cache.ttl`. */
export const DEFAULT_CACHE_TTL = 1000;

/** Default of `storage.cache.maxmemory` (docs/caches.md says why). */
export const DEFAULT_CACHE_MAX_MEMORY = 32 * 1024 * 1024;

interface RevisionEntry {
  mediaType: string;
  size: number;
  subject: Digest | undefined;
  checkedAt: number;
}

interface TagEntry {
  digest: Digest;
  version: string;
  checkedAt: number;
}

type Value = number | string | RevisionEntry | TagEntry;

/** The cache: `storage.cache.blobdescriptor: inmemory`. */
export function createMemoryCache(options: MetadataCacheOptions = {}): MetadataCache {
  const ttl = options.ttl ?? DEFAULT_CACHE_TTL;
  const now = options.now ?? (() => performance.now());
  const entries = createClockCache<string, Value>({
    maxWeight: options.maxMemory ?? DEFAULT_CACHE_MAX_MEMORY,
  });
  const keys = createKeyBuilder();
  const fresh = (checkedAt: number) => now() - checkedAt < ttl;
  const put = (key: string, value: Value, valueBytes: number) =>
    entries.set(key, value, ENTRY_BYTES + Math.ceil(key.length / 8) * 8 + valueBytes);

  return {
    now,

    blobSize(digest) {
      const size = entries.get(keys.ofDigest(KIND.blobSize, digest));
      return typeof size === 'number' ? size : undefined;
    },
    rememberBlobSize(digest, size) {
      put(keys.ofDigest(KIND.blobSize, digest), size, numberBytes(size));
    },

    isLinked(name, digest) {
      const checkedAt = entries.get(keys.inRepository(KIND.linked, name, digest));
      return typeof checkedAt === 'number' && fresh(checkedAt);
    },
    rememberLinked(name, digest, checkedAt) {
      if (ttl > 0) put(keys.inRepository(KIND.linked, name, digest), checkedAt, numberBytes(checkedAt));
    },
    forgetLink(name, digest) {
      entries.delete(keys.inRepository(KIND.linked, name, digest));
    },

    revision(name, digest) {
      const entry = entries.get(keys.inRepository(KIND.revision, name, digest)) as RevisionEntry | undefined;
      if (!entry || !fresh(entry.checkedAt)) return undefined;
      const info: RevisionInfo = { digest, mediaType: entry.mediaType, size: entry.size };
      if (entry.subject) info.subject = entry.subject;
      return info;
    },
    rememberRevision(name, info, checkedAt) {
      if (ttl === 0) return;
      const mediaType = internMediaType(info.mediaType);
      const subject = info.subject && (flatString(info.subject) as Digest);
      const entry: RevisionEntry = { mediaType, size: info.size, subject, checkedAt };
      const subjectBytes = subject ? stringBytes(subject) : 0;
      const numbers = numberBytes(info.size) + numberBytes(checkedAt);
      const bytes = objectBytes(4) + numbers + mediaTypeBytes(mediaType) + subjectBytes;
      put(keys.inRepository(KIND.revision, name, info.digest), entry, bytes);
    },
    forgetRevision(name, digest) {
      entries.delete(keys.inRepository(KIND.revision, name, digest));
    },

    manifestBody(digest) {
      const body = entries.get(keys.ofDigest(KIND.body, digest));
      return typeof body === 'string' ? Buffer.from(body, 'latin1') : undefined;
    },
    rememberManifestBody(digest, body) {
      // A string of one byte per character costs its length plus a header; a Buffer costs a
      // kilobyte or more of bookkeeping besides (measured), and a slice would keep its whole
      // parent alive.
      const text = body.toString('latin1');
      put(keys.ofDigest(KIND.body, digest), text, stringBytes(text));
    },

    tag(name, tag) {
      const entry = entries.get(keys.ofTag(name, tag)) as TagEntry | undefined;
      if (!entry) return undefined;
      return { digest: entry.digest, version: entry.version, fresh: fresh(entry.checkedAt) };
    },
    rememberTag(name, tag, { digest, version }, checkedAt) {
      const bytes = objectBytes(3) + numberBytes(checkedAt) + stringBytes(digest) + stringBytes(version);
      const entry: TagEntry = {
        digest: flatString(digest) as Digest,
        version: flatString(version),
        checkedAt,
      };
      put(keys.ofTag(name, tag), entry, bytes);
    },
    forgetTag(name, tag) {
      entries.delete(keys.ofTag(name, tag));
    },

    get weight() {
      return entries.weight;
    },
  };
}

/** A cache that remembers nothing: `storage.cache.blobdescriptor: none`. */
export function createNullCache(): MetadataCache {
  return createMemoryCache({ ttl: 0, maxMemory: 0 });
}
