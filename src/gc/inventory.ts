/**
 * What the store holds, as garbage collection sees it: every repository with its manifests
 * (and what each references, from the revision header), its layer links and its referrers
 * entries, and every blob, each with when it was last written. Read with two flat scans (on
 * S3, a request per thousand objects) and one read per manifest not already known, never
 * through the registry's caches: GC must see storage as it is now.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import {
  BLOBS_ROOT,
  CATALOG_ROOT,
  REPOSITORIES_ROOT,
  repositoryOfCatalogEntry,
  revisionPath,
} from '../blobstore/layout.js';
import type { Digest } from '../registry/digest.js';
import { forEachLimited } from '../registry/limited.js';
import { parseManifest } from '../registry/manifest-parse.js';
import type { RepositoryName } from '../registry/names.js';
import { type References, splitRevision } from '../registry/revisions.js';

/** One repository's content. */
export interface RepositoryInventory {
  name: RepositoryName;
  /** Manifest digest -> what it references; undefined for a revision that could not be read. */
  manifests: Map<Digest, References | undefined>;
  /** Blobs linked into the repository, with when each link was last written (ms). */
  links: Map<Digest, number>;
  /** Referrers entries: subject digest -> referrer digests. */
  referrers: Map<Digest, Digest[]>;
  /** When each manifest's revision was last written (ms). */
  manifestTimes: Map<Digest, number>;
  /** Paths of the tag objects and tag history entries: read only where untagged manifests may go. */
  tagPaths: string[];
  historyPaths: string[];
  /** Upload sessions in progress. */
  uploads: number;
}

/** Everything GC looks at. */
export interface Inventory {
  repositories: RepositoryInventory[];
  /** Every blob, with when it was last written (ms). */
  blobs: Map<Digest, number>;
  /** Every repository in the catalog, with when its marker was last written (ms). */
  catalog: Map<RepositoryName, number>;
}

/** Storage operations GC keeps in flight at once. */
export const GC_CONCURRENCY = 16;

/** Options of takeInventory. */
export interface InventoryOptions {
  /** An earlier inventory: the references of a revision never change, so they are not read again. */
  known?: Inventory;
}

/** Reads the store's repositories and blobs. */
export async function takeInventory(
  driver: StorageDriver,
  options: InventoryOptions = {},
): Promise<Inventory> {
  // The catalog first: a push writes its content alongside its marker, so a repository whose
  // marker is seen here and is not empty shows up in the scan of repositories after it.
  const catalog = await scanCatalog(driver);
  const [repositories, blobs] = await Promise.all([scanRepositories(driver), scanBlobs(driver)]);
  const known = new Map(options.known?.repositories.map((repo) => [repo.name, repo.manifests]));
  const unread = repositories.flatMap((repo) =>
    [...repo.manifests.keys()]
      .filter((digest) => !known.get(repo.name)?.has(digest))
      .map((digest) => ({ repo, digest })),
  );
  for (const repo of repositories) {
    for (const digest of repo.manifests.keys()) {
      const refs = known.get(repo.name)?.get(digest);
      if (refs) repo.manifests.set(digest, refs);
    }
  }
  await forEachLimited(unread, GC_CONCURRENCY, async ({ repo, digest }) => {
    const refs = await referencesOf(driver, repo.name, digest);
    if (refs === 'gone') repo.manifests.delete(digest);
    else repo.manifests.set(digest, refs);
  });
  return { repositories, blobs, catalog };
}

async function scanCatalog(driver: StorageDriver): Promise<Map<RepositoryName, number>> {
  const catalog = new Map<RepositoryName, number>();
  for await (const { path, modTime } of driver.scan(CATALOG_ROOT)) {
    const entry = path.slice(CATALOG_ROOT.length + 1);
    if (!entry.includes('/'))
      catalog.set(repositoryOfCatalogEntry(entry) as RepositoryName, modTime.getTime());
  }
  return catalog;
}

async function scanBlobs(driver: StorageDriver): Promise<Map<Digest, number>> {
  const blobs = new Map<Digest, number>();
  for await (const { path, modTime } of driver.scan(BLOBS_ROOT)) {
    // /blobs/<alg>/<xx>/<hex>
    const [algorithm, , hex, extra] = path.slice(BLOBS_ROOT.length + 1).split('/');
    if (algorithm && hex && extra === undefined)
      blobs.set(`${algorithm}:${hex}` as Digest, modTime.getTime());
  }
  return blobs;
}

/**
 * Every repository below the root. One scan sees a repository's keys in order, so its
 * referrers entries (`_manifests/referrers/...`) are listed before its revisions
 * (`_manifests/revisions/...`): a push writes a revision before its entry, so an entry seen
 * here has its revision seen too, unless the revision was deleted.
 */
async function scanRepositories(driver: StorageDriver): Promise<RepositoryInventory[]> {
  const repositories = new Map<string, RepositoryInventory>();
  for await (const { path, modTime } of driver.scan(REPOSITORIES_ROOT)) {
    const parts = path.slice(REPOSITORIES_ROOT.length + 1).split('/');
    const own = parts.findIndex((part) => part.startsWith('_'));
    if (own <= 0) continue;
    const name = parts.slice(0, own).join('/');
    let repo = repositories.get(name);
    if (!repo) {
      repo = {
        name: name as RepositoryName,
        manifests: new Map(),
        links: new Map(),
        referrers: new Map(),
        manifestTimes: new Map(),
        tagPaths: [],
        historyPaths: [],
        uploads: 0,
      };
      repositories.set(name, repo);
    }
    record(repo, parts.slice(own), modTime.getTime(), path);
  }
  return [...repositories.values()];
}

/** Files one object of a repository under what it is (`rest` starts at the `_` directory). */
function record(repo: RepositoryInventory, rest: string[], modTime: number, path: string): void {
  if (rest[0] === '_uploads') {
    repo.uploads += 1;
    return;
  }
  if (rest[0] === '_layers') {
    const [, algorithm, hex, extra] = rest;
    if (algorithm && hex && extra === undefined) repo.links.set(`${algorithm}:${hex}` as Digest, modTime);
    return;
  }
  const [area, kind, algorithm, hex, entry] = rest;
  if (area === '_manifests' && kind === 'revisions' && algorithm && hex && !entry) {
    repo.manifests.set(`${algorithm}:${hex}` as Digest, undefined);
    repo.manifestTimes.set(`${algorithm}:${hex}` as Digest, modTime);
  } else if (area === '_manifests' && kind === 'tags' && algorithm && !hex) {
    repo.tagPaths.push(path);
  } else if (area === '_manifests' && kind === 'history' && algorithm && hex && !entry) {
    repo.historyPaths.push(path);
  } else if (area === '_manifests' && kind === 'referrers' && algorithm && hex && entry) {
    const subject = `${algorithm}:${hex}` as Digest;
    const referrers = repo.referrers.get(subject) ?? [];
    referrers.push(entry.replace('-', ':') as Digest);
    repo.referrers.set(subject, referrers);
  }
}

/** What a revision references: from its header, or by parsing the manifest for older revisions. */
async function referencesOf(
  driver: StorageDriver,
  name: RepositoryName,
  digest: Digest,
): Promise<References | undefined | 'gone'> {
  const file = await orMissing(driver.getContent(revisionPath(name, digest)), undefined);
  if (!file) return 'gone';
  try {
    const { header, body } = splitRevision(digest, file);
    if (header.refs) return header.refs;
    const parsed = parseManifest(body, header.mediaType, { maxDescriptors: Number.POSITIVE_INFINITY });
    return { blobs: parsed.blobs.map((d) => d.digest), manifests: parsed.manifests.map((d) => d.digest) };
  } catch {
    // Unreadable: what it references is unknown, so marking keeps everything in its repository.
    return undefined;
  }
}

/**
 * The manifests a repository's tags and tag history entries point at, read from storage now:
 * the roots that keep untagged manifests from going (docs/gc.md). A read per tag and entry.
 */
export async function taggedRoots(driver: StorageDriver, repo: RepositoryInventory): Promise<Set<Digest>> {
  const roots = new Set<Digest>();
  const read = async (path: string, digestOf: (content: string) => string | undefined) => {
    const content = await orMissing(driver.getContent(path), undefined);
    const digest = content && digestOf(content.toString('utf8'));
    if (digest) roots.add(digest as Digest);
  };
  await forEachLimited(repo.tagPaths, GC_CONCURRENCY, (path) => read(path, (text) => text.trim()));
  await forEachLimited(repo.historyPaths, GC_CONCURRENCY, (path) => read(path, historyDigest));
  return roots;
}

/** The digest a tag history entry names, or undefined for something that is not one. */
function historyDigest(text: string): string | undefined {
  try {
    const digest = (JSON.parse(text) as { digest?: unknown }).digest;
    return typeof digest === 'string' ? digest : undefined;
  } catch {
    return undefined;
  }
}
