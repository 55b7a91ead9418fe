/**
 * What a GC run means to delete: untagged manifests a retention rule lets go, and the links and
 * blobs nothing kept references, each older than the grace period; then, after the wait, what
 * of that a fresh look at storage still finds unreferenced.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import { blobDataPath } from '../blobstore/layout.js';
import type { Digest } from '../registry/digest.js';
import { forEachLimited } from '../registry/limited.js';
import type { RepositoryName } from '../registry/names.js';
import { GC_CONCURRENCY, type Inventory, type RepositoryInventory, taggedRoots } from './inventory.js';
import {
  type DoomedManifests,
  emptyRepositories,
  type LinkCandidate,
  linkKey,
  unreferencedBlobs,
  unreferencedLinks,
} from './plan.js';

/** Which untagged manifests may go (retention's `untagged` rules, src/retention/). */
export interface UntaggedPolicy {
  /** True when a rule lets untagged manifests of the repository go at all. */
  applies(name: RepositoryName): boolean;
  /**
   * The manifests that may go, given what the repository's tags and tag history point at
   * (`roots`) and the time now (ms).
   */
  select(repo: RepositoryInventory, roots: ReadonlySet<Digest>, now: number): Digest[];
}

/** What a run means to delete. */
export interface Candidates {
  manifests: DoomedManifests;
  /** Repositories with nothing stored: their catalog markers go. */
  emptied: RepositoryName[];
  links: LinkCandidate[];
  blobs: Digest[];
  /** Bytes of each candidate blob. */
  sizes: Map<Digest, number>;
}

/** Options of findCandidates and stillCandidates. */
export interface CandidateOptions {
  untagged?: UntaggedPolicy | undefined;
  now: number;
}

/** Untagged manifests of `repositories` the policy lets go, written before `cutoff`. */
async function untaggedGoing(
  driver: StorageDriver,
  repositories: readonly RepositoryInventory[],
  policy: UntaggedPolicy | undefined,
  now: number,
  cutoff: number,
): Promise<Map<RepositoryName, Set<Digest>>> {
  const going = new Map<RepositoryName, Set<Digest>>();
  if (!policy) return going;
  for (const repo of repositories.filter((candidate) => policy.applies(candidate.name))) {
    const roots = await taggedRoots(driver, repo);
    const selected = policy
      .select(repo, roots, now)
      .filter((digest) => !roots.has(digest) && (repo.manifestTimes.get(digest) ?? now) < cutoff);
    if (selected.length > 0) going.set(repo.name, new Set(selected));
  }
  return going;
}

/**
 * Everything unreferenced and last written before `cutoff`, with the size of each blob (a stat
 * each, since a listing does not show it on S3: only candidates are asked).
 */
export async function findCandidates(
  driver: StorageDriver,
  inventory: Inventory,
  cutoff: number,
  options: CandidateOptions,
): Promise<Candidates> {
  const manifests = await untaggedGoing(
    driver,
    inventory.repositories,
    options.untagged,
    options.now,
    cutoff,
  );
  const links = unreferencedLinks(inventory, cutoff, manifests);
  const sizes = new Map<Digest, number>();
  const unreferenced = unreferencedBlobs(inventory, links, cutoff, manifests);
  const present = new Array<boolean>(unreferenced.length);
  await forEachLimited(unreferenced, GC_CONCURRENCY, async (digest, i) => {
    const info = await orMissing(driver.stat(blobDataPath(digest)), undefined);
    if (info) sizes.set(digest, info.size);
    present[i] = info !== undefined;
  });
  const emptied = emptyRepositories(inventory, cutoff);
  return { manifests, emptied, links, blobs: unreferenced.filter((_, i) => present[i]), sizes };
}

/** The candidates that a fresh inventory (tags read again) still finds unreferenced. */
export async function stillCandidates(
  driver: StorageDriver,
  inventory: Inventory,
  previous: Candidates,
  options: CandidateOptions,
): Promise<Candidates> {
  const named = inventory.repositories.filter((repo) => previous.manifests.has(repo.name));
  const fresh = await untaggedGoing(driver, named, options.untagged, options.now, Number.POSITIVE_INFINITY);
  const manifests = new Map<RepositoryName, Set<Digest>>();
  for (const [name, digests] of previous.manifests) {
    const still = [...digests].filter((digest) => fresh.get(name)?.has(digest));
    if (still.length > 0) manifests.set(name, new Set(still));
  }
  const unreferenced = new Set(
    unreferencedLinks(inventory, Number.POSITIVE_INFINITY, manifests).map(linkKey),
  );
  const links = previous.links.filter((link) => unreferenced.has(linkKey(link)));
  const blobs = new Set(unreferencedBlobs(inventory, links, Number.POSITIVE_INFINITY, manifests));
  const stillEmpty = new Set(emptyRepositories(inventory));
  return {
    ...previous,
    manifests,
    emptied: previous.emptied.filter((name) => stillEmpty.has(name)),
    links,
    blobs: previous.blobs.filter((digest) => blobs.has(digest)),
  };
}
