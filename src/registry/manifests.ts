/**
 * Manifests: pushed bytes stored exactly as received (as blobs, content-addressed), made
 * part of a repository by a revision link that records the media type they were pushed
 * with. Pushing checks that everything the manifest references is already in the
 * repository; the subject of an OCI 1.1 manifest goes into the referrers index.
 */
import { isNotFound, type StorageDriver } from '../blobstore/driver.js';
import { blobDataPath, revisionLinkPath } from '../blobstore/layout.js';
import type { BlobService } from './blobs.js';
import { deletesDisabled } from './blobs.js';
import type { MetadataCache, RevisionInfo } from './cache.js';
import { algorithmOf, type Digest, digestOf } from './digest.js';
import { RegistryError } from './errors.js';
import { type ParsedManifest, parseManifest } from './manifest-parse.js';
import type { RepositoryName, Tag } from './names.js';
import type { ReferrerDescriptor, ReferrerService } from './referrers.js';
import { missingIn } from './repositories.js';
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

/** Manifest operations of the registry. */
export interface ManifestService {
  /** Describes a manifest without reading its body (HEAD). */
  describe(name: RepositoryName, reference: Reference): Promise<RevisionInfo>;
  get(name: RepositoryName, reference: Reference): Promise<StoredManifest>;
  put(
    name: RepositoryName,
    reference: Reference,
    body: Buffer,
    contentType: string | undefined,
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
}

/** Creates the manifest service. */
export function createManifestService(options: ManifestServiceOptions): ManifestService {
  const { driver, cache, blobs, tags, referrers, deleteEnabled } = options;

  async function revision(name: RepositoryName, digest: Digest): Promise<RevisionInfo | undefined> {
    const cached = cache.revision(name, digest);
    if (cached) return cached;
    let info: RevisionInfo;
    try {
      info = JSON.parse(
        (await driver.getContent(revisionLinkPath(name, digest))).toString('utf8'),
      ) as RevisionInfo;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    cache.rememberRevision(name, info);
    return info;
  }

  async function describe(name: RepositoryName, reference: Reference): Promise<RevisionInfo> {
    const digest = reference.digest ?? (await tags.resolve(name, reference.tag));
    const info = await revision(name, digest);
    if (info) return info;
    throw await missingIn(driver, name, manifestUnknown(reference.tag ? { tag: reference.tag } : { digest }));
  }

  async function readBody(info: RevisionInfo): Promise<Buffer> {
    const cached = cache.manifestBody(info.digest);
    if (cached) return cached;
    let body: Buffer;
    try {
      body = await driver.getContent(blobDataPath(info.digest));
    } catch (err) {
      if (isNotFound(err)) throw manifestUnknown({ digest: info.digest });
      throw err;
    }
    cache.rememberManifestBody(info.digest, body);
    return body;
  }

  async function checkReferences(name: RepositoryName, manifest: ParsedManifest): Promise<void> {
    const [blobSizes, children] = await Promise.all([
      Promise.all(manifest.blobs.map((d) => blobs.linkedSize(name, d.digest))),
      Promise.all(manifest.manifests.map((d) => revision(name, d.digest))),
    ]);
    const missing = [
      ...manifest.blobs.filter((_, i) => blobSizes[i] === undefined),
      ...manifest.manifests.filter((_, i) => children[i] === undefined),
    ];
    if (missing.length > 0) {
      throw new RegistryError(
        'MANIFEST_BLOB_UNKNOWN',
        'manifest references a manifest or blob unknown to the repository',
        {
          detail: { missing: missing.map((d) => d.digest) },
        },
      );
    }
    const wrongSize = [
      ...manifest.blobs.filter((d, i) => blobSizes[i] !== d.size),
      ...manifest.manifests.filter((d, i) => children[i]?.size !== d.size),
    ];
    if (wrongSize.length > 0) {
      throw new RegistryError('MANIFEST_INVALID', 'a descriptor size does not match the stored content', {
        detail: { digests: wrongSize.map((d) => d.digest) },
      });
    }
  }

  async function store(name: RepositoryName, info: RevisionInfo, body: Buffer): Promise<void> {
    if ((await blobs.storedSize(info.digest)) === undefined) {
      await driver.putContent(blobDataPath(info.digest), body);
      cache.rememberBlobSize(info.digest, body.length);
    }
    cache.rememberManifestBody(info.digest, body);
    const existing = await revision(name, info.digest);
    if (existing?.mediaType === info.mediaType && existing.subject === info.subject) return;
    await driver.putContent(revisionLinkPath(name, info.digest), Buffer.from(JSON.stringify(info)));
    cache.rememberRevision(name, info);
  }

  return {
    describe,

    async get(name, reference) {
      const info = await describe(name, reference);
      return { ...info, body: await readBody(info) };
    },

    async put(name, reference, body, contentType) {
      const digest = digestOf(body, reference.digest ? algorithmOf(reference.digest) : 'sha256');
      if (reference.digest && reference.digest !== digest) {
        throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match the digest in the URL', {
          detail: { expected: reference.digest, actual: digest },
        });
      }
      const manifest = parseManifest(body, contentType);
      await checkReferences(name, manifest);
      const info: RevisionInfo = { digest, mediaType: manifest.mediaType, size: body.length };
      if (manifest.subject) info.subject = manifest.subject.digest;
      await store(name, info, body);
      if (manifest.subject) await referrers.record(name, manifest.subject, referrerOf(info, manifest));
      if (reference.tag) await tags.set(name, reference.tag, digest);
      return manifest.subject ? { digest, subject: manifest.subject.digest } : { digest };
    },

    async delete(name, reference) {
      if (!deleteEnabled) throw deletesDisabled();
      if (reference.tag) {
        await tags.delete(name, reference.tag);
        return;
      }
      const info = await describe(name, reference);
      for (const tag of await tags.pointingAt(name, info.digest)) await tags.delete(name, tag);
      if (info.subject) await referrers.remove(name, info.subject, info.digest);
      cache.forgetRevision(name, info.digest);
      try {
        await driver.delete(revisionLinkPath(name, info.digest).slice(0, -'/link'.length));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  };
}

function referrerOf(info: RevisionInfo, manifest: ParsedManifest): ReferrerDescriptor {
  const descriptor: ReferrerDescriptor = { mediaType: info.mediaType, digest: info.digest, size: info.size };
  if (manifest.artifactType !== undefined) descriptor.artifactType = manifest.artifactType;
  if (manifest.annotations) descriptor.annotations = manifest.annotations;
  return descriptor;
}
