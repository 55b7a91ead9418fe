/**
 * Manifests: pushed bytes stored exactly as received, one revision file per repository and
 * digest holding a header line (the media type they were pushed with, the subject) followed
 * by the bytes. Pushing checks that everything the manifest references is already in the
 * repository; the subject of an OCI 1.1 manifest goes into the referrers index.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import { revisionPath } from '../blobstore/layout.js';
import type { BlobService } from './blobs.js';
import { deletesDisabled } from './blobs.js';
import type { MetadataCache, RevisionInfo } from './cache.js';
import { algorithmOf, type Digest, digestOf } from './digest.js';
import { RegistryError } from './errors.js';
import { type Holders, holdersOf } from './index-holders.js';
import { indexChildren, type ManifestLimits, type ParsedManifest, parseManifest } from './manifest-parse.js';
import { checkReferences } from './manifest-references.js';
import { INDEX_TYPES } from './media-types.js';
import type { RepositoryName, Tag } from './names.js';
import type { ReferrerDescriptor, ReferrerService } from './referrers.js';
import { missingIn, withMarker } from './repositories.js';
import { manifestUnknown, type TagService } from './tags.js';

/** A manifest reference from a URL: a tag or a digest. */
export type Reference = { tag: Tag; digest?: undefined } | { digest: Digest; tag?: undefined };

/** A stored manifest with its body. */
export interface StoredManifest extends RevisionInfo {
  body: Buffer;
}

/** The outcome of a manifest push. */
export interface PushedManifest {
  digest: Digest;
  subject?: Digest;
}

/** What a push says besides the reference and the bytes. */
export interface PushOptions {
  /** The request's Content-Type. */
  contentType: string | undefined;
  /**
   * More tags to point at the manifest (the spec's `?tag=` parameters). Only a push by
   * digest may name them: a push by tag already says which tag it sets.
   */
  tags?: Tag[];
}

/** Manifest operations of the registry. */
export interface ManifestService {
  /** Describes a manifest without reading its body (HEAD). */
  describe(name: RepositoryName, reference: Reference): Promise<RevisionInfo>;
  get(name: RepositoryName, reference: Reference): Promise<StoredManifest>;
  put(
    name: RepositoryName,
    reference: Reference,
    body: Buffer,
    options: PushOptions,
  ): Promise<PushedManifest>;
  /** Deletes a tag (tag reference) or a manifest and every tag pointing at it (digest reference). */
  delete(name: RepositoryName, reference: Reference): Promise<void>;
}

/** Options of the manifest service. */
export interface ManifestServiceOptions {
  driver: StorageDriver;
  cache: MetadataCache;
  blobs: BlobService;
  tags: TagService;
  referrers: ReferrerService;
  deleteEnabled: boolean;
  /** Bounds every pushed manifest must keep (`validation.manifests.*`). */
  limits: ManifestLimits;
}

/** Creates the manifest service. */
export function createManifestService(options: ManifestServiceOptions): ManifestService {
  const { driver, cache, blobs, tags, referrers, deleteEnabled, limits } = options;

  async function readRevision(name: RepositoryName, digest: Digest): Promise<StoredManifest | undefined> {
    const file = await orMissing(driver.getContent(revisionPath(name, digest)), undefined);
    if (!file) return undefined;
    const manifest = decodeRevision(digest, file);
    const { body, ...info } = manifest;
    cache.rememberRevision(name, info);
    cache.rememberManifestBody(digest, body);
    return manifest;
  }

  async function revision(name: RepositoryName, digest: Digest): Promise<RevisionInfo | undefined> {
    return cache.revision(name, digest) ?? (await readRevision(name, digest));
  }

  async function describe(name: RepositoryName, reference: Reference): Promise<RevisionInfo> {
    const digest = reference.digest ?? (await tags.resolve(name, reference.tag));
    const info = await revision(name, digest);
    if (info) return info;
    throw await missingIn(driver, name, manifestUnknown(reference.tag ? { tag: reference.tag } : { digest }));
  }

  /** A manifest with its body: from the cache when it holds both, else one read of its file. */
  async function storedManifest(name: RepositoryName, digest: Digest): Promise<StoredManifest | undefined> {
    const info = cache.revision(name, digest);
    const body = info && cache.manifestBody(digest);
    return info && body ? { ...info, body } : readRevision(name, digest);
  }

  async function childrenOf(name: RepositoryName, digest: Digest): Promise<Digest[]> {
    const manifest = await storedManifest(name, digest);
    return manifest && INDEX_TYPES.has(manifest.mediaType) ? indexChildren(manifest.body) : [];
  }

  async function store(name: RepositoryName, info: RevisionInfo, body: Buffer): Promise<void> {
    const existing = await revision(name, info.digest);
    if (existing?.mediaType === info.mediaType && existing.subject === info.subject) return;
    await driver.putContent(revisionPath(name, info.digest), encodeRevision(info, body));
    cache.rememberRevision(name, info);
    cache.rememberManifestBody(info.digest, body);
  }

  return {
    describe,

    async get(name, reference) {
      const info = await describe(name, reference);
      const body = cache.manifestBody(info.digest);
      if (body) return { ...info, body };
      const stored = await readRevision(name, info.digest);
      if (stored) return stored;
      throw manifestUnknown({ digest: info.digest });
    },

    async put(name, reference, body, { contentType, tags: extraTags = [] }) {
      if (reference.tag && extraTags.length > 0) {
        throw new RegistryError('UNSUPPORTED', 'tag parameters are only accepted when pushing by digest', {
          status: 400,
          detail: { reference: reference.tag },
        });
      }
      const digest = digestOf(body, reference.digest ? algorithmOf(reference.digest) : 'sha256');
      if (reference.digest && reference.digest !== digest) {
        throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match the digest in the URL', {
          detail: { expected: reference.digest, actual: digest },
        });
      }
      const manifest = parseManifest(body, contentType, limits);
      await checkReferences(manifest, {
        blobSize: (blob) => blobs.linkedSize(name, blob),
        manifestSize: async (child) => (await revision(name, child))?.size,
      });
      const info: RevisionInfo = { digest, mediaType: manifest.mediaType, size: body.length };
      if (manifest.subject) info.subject = manifest.subject.digest;
      await withMarker(driver, name, store(name, info, body));
      if (manifest.subject) await referrers.record(name, manifest.subject, referrerOf(info, manifest));
      for (const tag of reference.tag ? [reference.tag] : extraTags) await tags.set(name, tag, digest);
      return manifest.subject ? { digest, subject: manifest.subject.digest } : { digest };
    },

    async delete(name, reference) {
      if (!deleteEnabled) throw deletesDisabled();
      if (reference.tag) {
        await tags.delete(name, reference.tag);
        return;
      }
      const info = await describe(name, reference);
      const tagged = await tags.entries(name);
      const holders = await holdersOf(info.digest, tagged, (digest) => childrenOf(name, digest));
      if (holders) throw heldByTaggedIndex(holders);
      for (const [tag, digest] of tagged) if (digest === info.digest) await tags.delete(name, tag);
      if (info.subject) await referrers.remove(name, info.subject, info.digest);
      cache.forgetRevision(name, info.digest);
      await orMissing(driver.delete(revisionPath(name, info.digest)), undefined);
    },
  };
}

/** A revision file: the header as one JSON line, a newline, then the manifest bytes. */
function encodeRevision(info: RevisionInfo, body: Buffer): Buffer {
  const header: Omit<RevisionInfo, 'digest'> = { mediaType: info.mediaType, size: info.size };
  if (info.subject) header.subject = info.subject;
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]);
}

function decodeRevision(digest: Digest, file: Buffer): StoredManifest {
  const newline = file.indexOf(10);
  const header = JSON.parse(file.subarray(0, newline).toString('utf8')) as Omit<RevisionInfo, 'digest'>;
  const body = file.subarray(newline + 1);
  if (newline < 0 || body.length !== header.size) {
    throw new Error(
      `revision file of ${digest} is damaged: ${body.length} bytes after the header, expected ${header.size}`,
    );
  }
  return { digest, ...header, body };
}

/** Names shown of each kind; a repository may have thousands of tags. */
const MAX_NAMED = 10;

function heldByTaggedIndex({ indexes, tags }: Holders): RegistryError {
  return new RegistryError(
    'DENIED',
    'manifest is listed by an index that a tag still points at; delete or move those tags, or delete the index, first',
    { status: 409, detail: { indexes: indexes.slice(0, MAX_NAMED), tags: tags.slice(0, MAX_NAMED) } },
  );
}

function referrerOf(info: RevisionInfo, manifest: ParsedManifest): ReferrerDescriptor {
  const descriptor: ReferrerDescriptor = { mediaType: info.mediaType, digest: info.digest, size: info.size };
  if (manifest.artifactType !== undefined) descriptor.artifactType = manifest.artifactType;
  if (manifest.annotations) descriptor.annotations = manifest.annotations;
  return descriptor;
}
