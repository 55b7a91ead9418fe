/**
 * The on-storage layout: the one place that maps registry names to driver paths.
 *
 *   /
 *   ├── blobs/                                   content-addressed bytes, shared by all repositories
 *   │   └── <alg>/<hex[0:2]>/<hex>/data          layers, configs and manifests alike
 *   └── repositories/
 *       └── <name>/                              e.g. library/ubuntu (nested directories)
 *           ├── _layers/<alg>/<hex>/link         the blob is part of this repository (holds the digest)
 *           ├── _manifests/
 *           │   ├── revisions/<alg>/<hex>/link   a manifest of this repository (JSON: media type, size, subject)
 *           │   ├── tags/<tag>/current/link      the digest the tag points at
 *           │   └── referrers/<alg>/<hex>/       manifests whose `subject` is <alg>:<hex>
 *           │       └── <alg>-<hex>/link         one referrer's descriptor (JSON)
 *           └── _uploads/<id>/data               an upload session's bytes so far
 *
 * A blob is visible in a repository only through its `_layers` link, so a push or a mount
 * into one repository says nothing about another. Names of repositories and tags come from
 * validated grammars (`names.ts`), so no component can be `..`, empty or start with `_`.
 */
import { algorithmOf, type Digest, hexOf } from '../registry/digest.js';
import type { RepositoryName, Tag } from '../registry/names.js';

/** Root of all repositories. */
export const REPOSITORIES_ROOT = '/repositories';

/** Root of all blob data. */
export const BLOBS_ROOT = '/blobs';

/** Entries under a repository directory that belong to the repository itself. */
export const REPOSITORY_MARKERS = ['_layers', '_manifests'] as const;

/** The bytes of a blob (or manifest). */
export function blobDataPath(digest: Digest): string {
  const hex = hexOf(digest);
  return `${BLOBS_ROOT}/${algorithmOf(digest)}/${hex.slice(0, 2)}/${hex}/data`;
}

/** The directory of one repository. */
export function repositoryPath(name: RepositoryName): string {
  return `${REPOSITORIES_ROOT}/${name}`;
}

/** The link that makes a blob part of a repository. */
export function layerLinkPath(name: RepositoryName, digest: Digest): string {
  return `${repositoryPath(name)}/_layers/${algorithmOf(digest)}/${hexOf(digest)}/link`;
}

/** The link that makes a manifest part of a repository. */
export function revisionLinkPath(name: RepositoryName, digest: Digest): string {
  return `${repositoryPath(name)}/_manifests/revisions/${algorithmOf(digest)}/${hexOf(digest)}/link`;
}

/** The directory holding one directory per tag. */
export function tagsPath(name: RepositoryName): string {
  return `${repositoryPath(name)}/_manifests/tags`;
}

/** The directory of one tag. */
export function tagPath(name: RepositoryName, tag: Tag): string {
  return `${tagsPath(name)}/${tag}`;
}

/** The link holding the digest a tag currently points at. */
export function tagCurrentLinkPath(name: RepositoryName, tag: Tag): string {
  return `${tagPath(name, tag)}/current/link`;
}

/** The directory of the referrers of one subject. */
export function referrersPath(name: RepositoryName, subject: Digest): string {
  return `${repositoryPath(name)}/_manifests/referrers/${algorithmOf(subject)}/${hexOf(subject)}`;
}

/** The descriptor of one referrer of a subject. */
export function referrerLinkPath(name: RepositoryName, subject: Digest, referrer: Digest): string {
  return `${referrersPath(name, subject)}/${algorithmOf(referrer)}-${hexOf(referrer)}/link`;
}

/** The directory of all upload sessions of a repository. */
export function uploadsPath(name: RepositoryName): string {
  return `${repositoryPath(name)}/_uploads`;
}

/** The directory of one upload session. */
export function uploadPath(name: RepositoryName, id: string): string {
  return `${uploadsPath(name)}/${id}`;
}

/** The bytes received so far by an upload session. */
export function uploadDataPath(name: RepositoryName, id: string): string {
  return `${uploadPath(name, id)}/data`;
}
