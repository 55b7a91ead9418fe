/**
 * Marking: from an inventory, what nothing references. Every stored manifest is a root (tags,
 * tag history and untagged manifests all point at manifests; what goes of those is decided by
 * deleting manifests, never here), so a layer link is unreferenced when no manifest of its
 * repository names the blob, and a blob when no manifest anywhere names it and no remaining
 * link holds it. A repository with a revision GC cannot read keeps all its links.
 */
import { blobDataPath, layerLinkPath, referrerPath } from '../blobstore/layout.js';
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

function referencedIn(repo: RepositoryInventory): Set<Digest> | 'all' {
  const blobs = new Set<Digest>();
  for (const refs of repo.manifests.values()) {
    if (!refs) return 'all';
    for (const blob of refs.blobs) blobs.add(blob);
  }
  return blobs;
}

/** Layer links that no manifest of their repository references, written before `cutoff` (ms). */
export function unreferencedLinks(inventory: Inventory, cutoff = Number.POSITIVE_INFINITY): LinkCandidate[] {
  return inventory.repositories.flatMap((repo) => {
    const referenced = referencedIn(repo);
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
): Digest[] {
  const doomed = new Set(doomedLinks.map(linkKey));
  const held = new Set<Digest>();
  for (const repo of inventory.repositories) {
    for (const refs of repo.manifests.values()) for (const blob of refs?.blobs ?? []) held.add(blob);
    for (const digest of repo.links.keys())
      if (!doomed.has(linkKey({ name: repo.name, digest }))) held.add(digest);
  }
  return [...inventory.blobs]
    .filter(([digest, modTime]) => !held.has(digest) && modTime < cutoff)
    .map(([digest]) => digest)
    .sort();
}

/** Referrers entries naming a referrer manifest the repository no longer has. */
export function orphanReferrerEntries(inventory: Inventory): string[] {
  return inventory.repositories.flatMap((repo) =>
    [...repo.referrers].flatMap(([subject, referrers]) =>
      referrers
        .filter((referrer) => !repo.manifests.has(referrer))
        .map((referrer) => referrerPath(repo.name, subject, referrer)),
    ),
  );
}

/** A stable key of a link candidate. */
export function linkKey({ name, digest }: LinkCandidate): string {
  return `${name}@${digest}`;
}

/** The layout paths of what a run deletes. */
export function pathsOf(links: readonly LinkCandidate[], blobs: readonly Digest[]): string[] {
  return [...links.map(({ name, digest }) => layerLinkPath(name, digest)), ...blobs.map(blobDataPath)];
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
