/**
 * Manifests: pushed bytes stored exactly as received, one revision file per repository and
 * digest (`revisions.ts`). Pushing checks that everything the manifest references is already
 * in the repository; the subject of an OCI 1.1 manifest goes into the referrers index. A push
 * and a delete of the same digest may race, in one process or several: the order of their
 * writes and a second look at storage keep every tag pointing at a manifest that exists.
 */
import type { StorageDriver } from '../blobstore/driver.js';
import { blobDataPath, catalogEntryPath, layerLinkPath, revisionPath } from '../blobstore/layout.js';
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
import { missingIn, remarkIfCollected, withMarker } from './repositories.js';
import { createRevisionStore, type References, type StoredManifest } from './revisions.js';
import type { Actor } from './tag-history.js';
import { manifestUnknown, type TagService } from './tags.js';
import type { ReferenceGuard } from './tombstones.js';

export type { StoredManifest } from './revisions.js';

/** A manifest reference from a URL: a tag or a digest. */
export type Reference = { tag: Tag; digest?: undefined } | { digest: Digest; tag?: undefined };

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
  /** Who pushes, and from where: recorded in the history of each tag the push moves. */
  actor?: Actor;
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
  delete(name: RepositoryName, reference: Reference, actor?: Actor): Promise<void>;
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
  /** The tombstone check after writing a revision (tombstones.ts). */
  guard: ReferenceGuard;
  /** True when GC may delete untagged manifests of the repository (a retention rule says so). */
  collectsUntagged?: (name: RepositoryName) => boolean;
}

/** Creates the manifest service. */
export function createManifestService(options: ManifestServiceOptions): ManifestService {
  const { driver, cache, blobs, tags, referrers, deleteEnabled, limits, guard } = options;
  const collectsUntagged = options.collectsUntagged ?? (() => false);
  const revisions = createRevisionStore(driver, cache);

  async function describe(name: RepositoryName, reference: Reference): Promise<RevisionInfo> {
    const digest = reference.digest ?? (await tags.resolve(name, reference.tag));
    const info = await revisions.info(name, digest);
    if (info) return info;
    throw await missingIn(driver, name, manifestUnknown(reference.tag ? { tag: reference.tag } : { digest }));
  }

  async function childrenOf(name: RepositoryName, digest: Digest): Promise<Digest[]> {
    const manifest = await revisions.stored(name, digest);
    return manifest && INDEX_TYPES.has(manifest.mediaType) ? indexChildren(manifest.body) : [];
  }

  /** Writes a manifest's revision and its referrers entry: every time, whatever is cached. */
  async function keep(name: RepositoryName, manifest: StoredManifest, parsed: ParsedManifest): Promise<void> {
    await revisions.write(name, manifest, referencesOf(parsed));
    if (parsed.subject) await referrers.record(name, parsed.subject, referrerOf(manifest, parsed));
  }

  /**
   * A push that GC overtook: its revision is removed again unless a tag points at it (it could
   * not be pulled whole), and the client learns which references to push again.
   */
  async function overtaken(
    name: RepositoryName,
    manifest: StoredManifest,
    parsed: ParsedManifest,
    lost: string[],
  ): Promise<RegistryError> {
    const tagged = (await tags.entries(name)).some(([, target]) => target === manifest.digest);
    if (!tagged) {
      if (parsed.subject) await referrers.remove(name, parsed.subject.digest, manifest.digest);
      await revisions.delete(name, manifest.digest);
    }
    const gone = new Set(lost);
    const missing = [...parsed.blobs, ...parsed.manifests]
      .map(({ digest }) => digest)
      .filter(
        (digest) =>
          gone.has(blobDataPath(digest)) ||
          gone.has(layerLinkPath(name, digest)) ||
          gone.has(revisionPath(name, digest)),
      );
    return new RegistryError(
      'MANIFEST_BLOB_UNKNOWN',
      'garbage collection deleted what this manifest references while it was being pushed; push the image again',
      { detail: { missing: [...new Set(missing)].slice(0, MAX_NAMED) } },
    );
  }

  async function put(
    name: RepositoryName,
    reference: Reference,
    body: Buffer,
    { contentType, tags: extraTags = [], actor }: PushOptions,
  ): Promise<PushedManifest> {
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
    const parsed = parseManifest(body, contentType, limits);
    // Before the check: the tombstone check must know how old the facts it relies on may be.
    const begun = guard.begin();
    await checkReferences(parsed, {
      blobSize: (blob) => blobs.linkedSize(name, blob),
      manifestSize: async (child) => (await revisions.info(name, child))?.size,
    });
    const manifest: StoredManifest = { digest, mediaType: parsed.mediaType, size: body.length, body };
    if (parsed.subject) manifest.subject = parsed.subject.digest;
    await withMarker(driver, name, keep(name, manifest, parsed));
    // Before any tag points at it: a manifest whose blobs GC took meanwhile is refused whole.
    const lost = await remarkIfCollected(
      driver,
      name,
      await guard.lost(referencedPaths(name, digest, parsed), begun),
    );
    if (lost.length > 0) throw await overtaken(name, manifest, parsed, lost);
    if (collectsUntagged(name)) guard.assertInTime(begun);
    for (const tag of reference.tag ? [reference.tag] : extraTags) await tags.set(name, tag, digest, actor);
    // A delete of this digest may have removed the revision since it was written (see below).
    if (!(await revisions.exists(name, digest))) await keep(name, manifest, parsed);
    return parsed.subject ? { digest, subject: parsed.subject.digest } : { digest };
  }

  /**
   * Racing a push of the same digest, in this process or another (docs/caches.md): the push
   * writes the revision, then its tags, then looks at storage; this removes the tags pointing
   * at the digest, then the revision, then looks at the tags again. A push's tag written
   * before this listed the tags is deleted with the others (the delete wins; an untagged
   * revision may stay). One written after that listing is either seen by the second look,
   * which writes the revision back from the bytes read here, or written after it, hence after
   * the revision was deleted, and the push's own look finds the revision gone and writes it
   * again. Either way no tag is left pointing at a missing manifest; and since tags go first,
   * neither can a crash halfway through.
   */
  async function deleteManifest(name: RepositoryName, digest: Digest, actor?: Actor): Promise<void> {
    const manifest = await revisions.read(name, digest);
    if (!manifest) throw await missingIn(driver, name, manifestUnknown({ digest }));
    const tagged = await tags.entries(name);
    const holders = await holdersOf(digest, tagged, (child) => childrenOf(name, child));
    if (holders) throw heldByTaggedIndex(holders);
    const pointing = tagged.filter(([, target]) => target === digest).map(([tag]) => tag);
    // All or none: an immutable tag among them refuses the delete before any tag goes.
    tags.assertRemovable(name, pointing);
    for (const tag of pointing) await tags.remove(name, tag, actor);
    if (manifest.subject) await referrers.remove(name, manifest.subject, digest);
    await revisions.delete(name, digest);
    const retagged = (await tags.entries(name)).some(([, target]) => target === digest);
    // These bytes were accepted when pushed: limits lowered since must not stop their return.
    if (retagged) await keep(name, manifest, parseManifest(manifest.body, manifest.mediaType, NO_LIMITS));
  }

  return {
    describe,
    put,

    async get(name, reference) {
      const info = await describe(name, reference);
      const body = cache.manifestBody(info.digest);
      if (body) return { ...info, body };
      const stored = await revisions.read(name, info.digest);
      if (stored) return stored;
      throw manifestUnknown({ digest: info.digest });
    },

    async delete(name, reference, actor) {
      if (!deleteEnabled) throw deletesDisabled();
      if (reference.tag === undefined) await deleteManifest(name, reference.digest, actor);
      else await tags.delete(name, reference.tag, actor);
    },
  };
}

/** What a revision header records of a manifest's references. */
export function referencesOf(parsed: Pick<ParsedManifest, 'blobs' | 'manifests'>): References {
  return {
    blobs: [...new Set(parsed.blobs.map(({ digest }) => digest))],
    manifests: [...new Set(parsed.manifests.map(({ digest }) => digest))],
  };
}

/** Every object a stored manifest depends on, its own revision included. */
function referencedPaths(name: RepositoryName, digest: Digest, parsed: ParsedManifest): string[] {
  return [
    catalogEntryPath(name),
    revisionPath(name, digest),
    ...parsed.blobs.flatMap(({ digest: blob }) => [blobDataPath(blob), layerLinkPath(name, blob)]),
    ...parsed.manifests.map((child) => revisionPath(name, child.digest)),
  ];
}

const NO_LIMITS: ManifestLimits = { maxDescriptors: Number.POSITIVE_INFINITY };

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
