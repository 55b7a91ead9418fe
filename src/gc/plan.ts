/**
 * Marking: from an inventory, what nothing references. Every stored manifest is a root (tags,
 * tag history and untagged manifests all point at manifests; what goes of those is decided by
 * deleting manifests, never here), so a layer link is unreferenced when no manifest of its
 * repository names the blob, and a blob when no manifest anywhere names it and no remaining
 * link holds it. A repository with a revision GC cannot read keeps all its links.
 */
import {
  blobDataPath,
  catalogEntryPath,
  layerLinkPath,
  referrerPath,
  revisionPath,
} from '../blobstore/layout.js';
import type { Digest } from '../registry/digest.js';
import type { RepositoryName } from '../registry/names.js';
import type { Inventory, RepositoryInventory } from './inventory.js';

/** A layer link nothing references. */
export interface LinkCandidate {
  name: RepositoryName;
  digest: Digest;
}

/** What marking found unreferenced (before the grace period is applied). */
export interface Unreferenced {
  links: LinkCandidate[];
  blobs: Digest[];
  /** Referrers entries whose referrer manifest is gone: layout paths. */
  referrerEntries: string[];
}

/** Untagged manifests this run deletes, by repository: they keep nothing. */
export type DoomedManifests = ReadonlyMap<RepositoryName, ReadonlySet<Digest>>;

const NONE: DoomedManifests = new Map();

function referencedIn(repo: RepositoryInventory, doomed: DoomedManifests): Set<Digest> | 'all' {
  const blobs = new Set<Digest>();
  const going = doomed.get(repo.name);
  for (const [digest, refs] of repo.manifests) {
    if (going?.has(digest)) continue;
    if (!refs) return 'all';
    for (const blob of refs.blobs) blobs.add(blob);
  }
  return blobs;
}

/** Layer links that no manifest of their repository references, written before `cutoff` (ms). */
export function unreferencedLinks(
  inventory: Inventory,
  cutoff = Number.POSITIVE_INFINITY,
  doomed: DoomedManifests = NONE,
): LinkCandidate[] {
  return inventory.repositories.flatMap((repo) => {
    const referenced = referencedIn(repo, doomed);
    if (referenced === 'all') return [];
    return [...repo.links]
      .filter(([digest, modTime]) => !referenced.has(digest) && modTime < cutoff)
      .map(([digest]) => ({ name: repo.name, digest }));
  });
}

/**
 * Blobs written before `cutoff` (ms) that no manifest references and no link outside
 * `doomedLinks` (the links this run deletes) holds.
 */
export function unreferencedBlobs(
  inventory: Inventory,
  doomedLinks: readonly LinkCandidate[],
  cutoff = Number.POSITIVE_INFINITY,
  doomedManifests: DoomedManifests = NONE,
): Digest[] {
  const doomed = new Set(doomedLinks.map(linkKey));
  const held = new Set<Digest>();
  for (const repo of inventory.repositories) {
    const going = doomedManifests.get(repo.name);
    for (const [digest, refs] of repo.manifests) {
      if (going?.has(digest)) continue;
      for (const blob of refs?.blobs ?? []) held.add(blob);
    }
    for (const digest of repo.links.keys())
      if (!doomed.has(linkKey({ name: repo.name, digest }))) held.add(digest);
  }
  return [...inventory.blobs]
    .filter(([digest, modTime]) => !held.has(digest) && modTime < cutoff)
    .map(([digest]) => digest)
    .sort();
}

/** Referrers entries naming a referrer manifest the repository no longer has (or that `deleted` holds). */
export function orphanReferrerEntries(inventory: Inventory, deleted: DoomedManifests = NONE): string[] {
  return inventory.repositories.flatMap((repo) =>
    [...repo.referrers].flatMap(([subject, referrers]) =>
      referrers
        .filter((referrer) => !repo.manifests.has(referrer) || deleted.get(repo.name)?.has(referrer))
        .map((referrer) => referrerPath(repo.name, subject, referrer)),
    ),
  );
}

/** A stable key of a link candidate. */
export function linkKey({ name, digest }: LinkCandidate): string {
  return `${name}@${digest}`;
}

/**
 * The layout paths of what a run deletes, in the order it deletes them: manifests, then
 * links, then blobs, so that whatever a failed run leaves behind still holds what it needs.
 */
export function pathsOf(
  links: readonly LinkCandidate[],
  blobs: readonly Digest[],
  manifests: DoomedManifests = NONE,
  emptied: readonly RepositoryName[] = [],
): string[] {
  return [
    ...[...manifests].flatMap(([name, digests]) => [...digests].map((digest) => revisionPath(name, digest))),
    ...links.map(({ name, digest }) => layerLinkPath(name, digest)),
    ...blobs.map(blobDataPath),
    ...emptied.map(catalogEntryPath),
  ];
}

/** Counts of what an inventory holds, for the report. */
export function inventoryCounts(inventory: Inventory): {
  repositories: number;
  manifests: number;
  blobs: number;
} {
  return {
    repositories: inventory.repositories.length,
    manifests: inventory.repositories.reduce((sum, repo) => sum + repo.manifests.size, 0),
    blobs: inventory.blobs.size,
  };
}

/**
 * Repositories in the catalog with no manifest, tag, layer link or upload session left, whose
 * marker was written before `cutoff`. Tag history and pull records do not count: they remain
 * for retention to expire, and come back into view if the name is pushed again.
 */
export function emptyRepositories(inventory: Inventory, cutoff = Number.POSITIVE_INFINITY): RepositoryName[] {
  const stored = new Set(
    inventory.repositories
      .filter((repo) => repo.manifests.size + repo.links.size + repo.tagPaths.length + repo.uploads > 0)
      .map((repo) => repo.name),
  );
  return [...inventory.catalog]
    .filter(([name, modTime]) => !stored.has(name) && modTime < cutoff)
    .map(([name]) => name)
    .sort();
}
