/**
 * The on-storage layout: the one place that maps registry names to driver paths.
 *
 *   /
 *   ├── blobs/                                  content-addressed bytes, shared by all repositories
 *   │   └── <alg>/<hex[0:2]>/<hex>              one layer or config
 *   ├── data/<id[0:2]>/<id>                     an upload's bytes while staged; on S3 a committed
 *   │                                           blob's bytes stay here and its blob path refers to
 *   │                                           them, so publishing copies nothing
 *   ├── catalog/<escaped name>                  empty marker per repository: the catalog, listed
 *   │                                           flat and in order (see catalogEntryName)
 *   ├── leases/<job>                            who runs a periodic job now, and until when (JSON)
 *   ├── migrations/<name>                       empty marker: a one-time migration has finished
 *   ├── _auth/token-signing-key.pem             the built-in token server's key, shared by replicas
 *   └── repositories/
 *       └── <name>/                             e.g. library/ubuntu (nested directories)
 *           ├── _layers/<alg>/<hex>             empty marker: the blob is part of this repository
 *           ├── _manifests/
 *           │   ├── revisions/<alg>/<hex>       a manifest: one JSON header line (media type,
 *           │   │                               subject), then the pushed bytes unchanged
 *           │   ├── tags/<tag>                  the digest the tag points at
 *           │   ├── history/<tag>/<entry>       one move of the tag (JSON), newest first
 *           │   └── referrers/<alg>/<hex>/      manifests whose `subject` is <alg>:<hex>
 *           │       └── <alg>-<hex>             one referrer's descriptor (JSON)
 *           └── _uploads/<id>                   an upload session's state (JSON: size, hash
 *                                               midstate, the driver's staged-object record)
 *
 * A blob is visible in a repository only through its `_layers` marker, so a push or a mount
 * into one repository says nothing about another. Names of repositories and tags come from
 * validated grammars (`names.ts`), so no component can be `..` or empty, and no repository
 * name component can start with `_`; a tag can (see "Reserved names" at the end).
 * Files that change together live in shared directories (`_layers/<alg>`, `tags`,
 * `revisions/<alg>`) so that concurrent writes share directory fsyncs.
 */
import { algorithmOf, type Digest, hexOf } from '../registry/digest.js';
import type { RepositoryName, Tag } from '../registry/names.js';

/** Root of all repositories. */
export const REPOSITORIES_ROOT = '/repositories';

/** Root of all blob data. */
export const BLOBS_ROOT = '/blobs';

/** Entries under a repository directory that belong to the repository itself. */
export const REPOSITORY_MARKERS = ['_layers', '_manifests'] as const;

/** The bytes of a blob. */
export function blobDataPath(digest: Digest): string {
  const hex = hexOf(digest);
  return `${BLOBS_ROOT}/${algorithmOf(digest)}/${hex.slice(0, 2)}/${hex}`;
}

/** The directory of one repository. */
export function repositoryPath(name: RepositoryName): string {
  return `${REPOSITORIES_ROOT}/${name}`;
}

/** The marker that makes a blob part of a repository. */
export function layerLinkPath(name: RepositoryName, digest: Digest): string {
  return `${repositoryPath(name)}/_layers/${algorithmOf(digest)}/${hexOf(digest)}`;
}

/** A manifest of a repository: its header line and body. */
export function revisionPath(name: RepositoryName, digest: Digest): string {
  return `${repositoryPath(name)}/_manifests/revisions/${algorithmOf(digest)}/${hexOf(digest)}`;
}

/** The directory holding one directory per tag. */
export function tagsPath(name: RepositoryName): string {
  return `${repositoryPath(name)}/_manifests/tags`;
}

/** The file holding the digest a tag points at. */
export function tagPath(name: RepositoryName, tag: Tag): string {
  return `${tagsPath(name)}/${tag}`;
}

/** The directory of the referrers of one subject. */
export function referrersPath(name: RepositoryName, subject: Digest): string {
  return `${repositoryPath(name)}/_manifests/referrers/${algorithmOf(subject)}/${hexOf(subject)}`;
}

/** The descriptor of one referrer of a subject. */
export function referrerPath(name: RepositoryName, subject: Digest, referrer: Digest): string {
  return `${referrersPath(name, subject)}/${algorithmOf(referrer)}-${hexOf(referrer)}`;
}

/** Root of staged upload data. */
export const DATA_ROOT = '/data';

/** Where the bytes of upload `id` are staged (`id` is a UUID). */
export function stagedDataPath(id: string): string {
  return `${DATA_ROOT}/${id.slice(0, 2)}/${id}`;
}

/**
 * Where the bytes of upload `id` wait, committed but not yet visible, while their digest is
 * computed by reading them back (a digest other than sha256, whose midstate sessions keep).
 */
export function verificationPath(id: string): string {
  return `${stagedDataPath(id)}-verify`;
}

/** Root of the catalog: one marker per repository. */
export const CATALOG_ROOT = '/catalog';

/**
 * A repository name as one path component whose bytewise order is the names' ASCII order, so
 * a listing of the catalog is already in the order the spec asks for and can be paged with
 * S3's StartAfter. Names are made of `-` `.` `/` `0-9` `_` `a-z`; a component can hold neither
 * `/` nor anything between `.` and `0` in its place, so `/` becomes `0` and each digit the
 * next character (`9` becomes `A`): order and length are kept, and a 255-character name stays
 * within a filesystem's 255-byte file names (escaping `/` as two characters would not).
 * `library/ubuntu-24` is stored as `library0ubuntu-35`. (On a case-insensitive filesystem
 * `x9` and `xa` would share a marker; Berth's filesystem storage assumes a case-sensitive one.)
 */
export function catalogEntryName(name: RepositoryName): string {
  return name.replace(/[/0-9]/g, (char) => CATALOG_ESCAPE[char] as string);
}

/** The inverse of catalogEntryName. */
export function repositoryOfCatalogEntry(entry: string): string {
  return entry.replace(/[0-9A]/g, (char) => CATALOG_UNESCAPE[char] as string);
}

const CATALOG_ESCAPE: Readonly<Record<string, string>> = Object.fromEntries(
  [...'/0123456789'].map((char, i) => [char, '0123456789A'[i] as string]),
);

const CATALOG_UNESCAPE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(CATALOG_ESCAPE).map(([char, escaped]) => [escaped, char]),
);

/** The catalog marker of a repository. */
export function catalogEntryPath(name: RepositoryName): string {
  return `${CATALOG_ROOT}/${catalogEntryName(name)}`;
}

/** Root of the markers of finished one-time migrations of the store. */
export const MIGRATIONS_ROOT = '/migrations';

/** The marker written once migration `name` has finished on this store. */
export function migrationDonePath(name: 'catalog'): string {
  return `${MIGRATIONS_ROOT}/${name}`;
}

/** The name of the directory, inside a repository's, holding its upload sessions. */
export const UPLOADS_DIRECTORY = '_uploads';

/** The directory of all upload sessions of a repository. */
export function uploadsPath(name: RepositoryName): string {
  return `${repositoryPath(name)}/${UPLOADS_DIRECTORY}`;
}

/** The state object of an upload session. */
export function uploadPath(name: RepositoryName, id: string): string {
  return `${uploadsPath(name)}/${id}`;
}

/** Root of the leases of periodic jobs. */
export const LEASES_ROOT = '/leases';

/** The lease object of a periodic job (`name` is a fixed job name such as `upload-purge`). */
export function leasePath(name: string): string {
  return `${LEASES_ROOT}/${name}`;
}

/** The built-in token server's signing key, unless `auth.token.signingkey` names a file. */
export const SIGNING_KEY_PATH = '/_auth/token-signing-key.pem';

/**
 * Root of garbage collection's tombstones (docs/gc.md): while a GC run is under way, one
 * object per path it means to delete, and the run's own record. Empty between runs, so that a
 * write creating a reference learns from one listing that nothing it names is at risk.
 */
export const TOMBSTONES_ROOT = '/tombstones';

/** The record of the GC run the tombstones belong to (its id and phase). */
export const TOMBSTONE_RUN_PATH = `${TOMBSTONES_ROOT}/run`;

/** The tombstone of an object GC means to delete (`target` is a layout path). */
export function tombstonePath(target: string): string {
  return `${TOMBSTONES_ROOT}/paths${target}`;
}

// `berth fsck --repair`: broken items moved out of the registry's view, nothing destroyed.
//
//   /quarantine/<run>/                          one directory per repair run, named by its start
//   ├── <original path>                         what was at that path (a tag, a revision, a
//   │                                           referrer entry, a layer link, a blob's bytes)
//   └── _staging/<id>                           a quarantined blob's bytes while they are copied

/** Root of everything `berth fsck --repair` quarantined. */
export const QUARANTINE_ROOT = '/quarantine';

/** The directory name of a repair run that started at `started` (ISO time, `:` and `.` as `-`). */
export function quarantineRunName(started: Date): string {
  return started.toISOString().replace(/[:.]/g, '-');
}

/** Where repair run `run` keeps what was at `path` (a layout path). */
export function quarantinePath(run: string, path: string): string {
  return `${QUARANTINE_ROOT}/${run}${path}`;
}

/** Where repair run `run` stages the copy of a quarantined blob's bytes (`id` is a UUID). */
export function quarantineStagingPath(run: string, id: string): string {
  return `${QUARANTINE_ROOT}/${run}/_staging/${id}`;
}

/** The directory of a repository's layer links (`<alg>/<hex>` below it). */
export function layerLinksPath(name: RepositoryName): string {
  return `${repositoryPath(name)}/_layers`;
}

/*
 * Tags as versions: history, and what is reserved.
 *
 * Reserved names. Repository name components cannot start with `_`, so Berth's own names
 * inside a repository directory (`_layers`, `_manifests`, `_uploads`, and any `_name` added
 * later) never meet a nested repository. Tags can start with `_` (the spec's grammar is
 * `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`), so the rule for tags is one of place, not of
 * spelling: a directory keyed by tag (`_manifests/tags/`, `_manifests/history/`) holds tags
 * and nothing else, and Berth's own names go one level up, into `_manifests/`, where only
 * fixed names live. A tag named `_uploads`, `history` or `revisions` is then just a tag. The
 * filesystem driver's temp and lock files start with `.`, which neither grammar produces,
 * and no listing shows them. Anything new that must sit beside tags gets a directory of its
 * own under `_manifests/`, never a name inside `tags/` or `history/`.
 */

/** The directory of every tag's history: one directory per tag. */
export function tagHistoriesPath(name: RepositoryName): string {
  return `${repositoryPath(name)}/_manifests/history`;
}

/**
 * The history of one tag: one object per move, named `<inverted ms>-<random>` so that a
 * plain (bytewise) listing is newest first and pages with `list(path, { after, limit })`.
 */
export function tagHistoryPath(name: RepositoryName, tag: Tag): string {
  return `${tagHistoriesPath(name)}/${tag}`;
}

/** One entry of a tag's history. */
export function tagHistoryEntryPath(name: RepositoryName, tag: Tag, entry: string): string {
  return `${tagHistoryPath(name, tag)}/${entry}`;
}

/**
 * Everything a repository owns, for deleting it: its links, manifests (with tags, history
 * and referrers) and upload sessions. Not the repository directory itself, which also holds
 * nested repositories (`library` holds `library/ubuntu`).
 */
export function repositoryContentPaths(name: RepositoryName): string[] {
  return [...REPOSITORY_MARKERS, UPLOADS_DIRECTORY].map((own) => `${repositoryPath(name)}/${own}`);
}

/** The directory of a repository's manifests: `<alg>/<hex>` below it. */
export function revisionsPath(name: RepositoryName): string {
  return `${repositoryPath(name)}/_manifests/revisions`;
}

/** The directory of a repository's referrers index (`<alg>/<hex>/<alg>-<hex>` below it). */
export function referrersRootPath(name: RepositoryName): string {
  return `${repositoryPath(name)}/_manifests/referrers`;
}

// Retention (docs/retention.md): when each tag was last pulled, beside `tags/` and `history/`
// in a directory keyed by tag (see "Reserved names" above).
//
//   repositories/<name>/_manifests/pulls/<tag>  the last recorded pull of the tag: its time
//                                               (also the object's mtime, which a listing shows)

/** The directory of a repository's pull records: one object per tag. */
export function pullRecordsPath(name: RepositoryName): string {
  return `${repositoryPath(name)}/_manifests/pulls`;
}

/** The pull record of one tag. */
export function pullRecordPath(name: RepositoryName, tag: Tag): string {
  return `${pullRecordsPath(name)}/${tag}`;
}
