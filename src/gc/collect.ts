/**
 * One garbage collection run, online (docs/gc.md has the protocol and why no push loses a
 * blob): mark what nothing references and is older than the grace period; tombstone it; wait
 * `deletedelay`; mark again from storage; claim each tombstone still pending (a conditional
 * write, so a push reviving it at the same moment wins or loses whole); delete what was
 * claimed, links before blobs, in batches; wait `deletedelay` again and remove the
 * tombstones. The caller holds the GC lease; its signal aborts the run before any delete.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPreconditionFailed, orMissing, type StorageDriver } from '../blobstore/driver.js';
import {
  blobDataPath,
  catalogEntryPath,
  layerLinkPath,
  revisionPath,
  TOMBSTONE_RUN_PATH,
  TOMBSTONES_ROOT,
  tombstonePath,
} from '../blobstore/layout.js';
import type { Digest } from '../registry/digest.js';
import { forEachLimited } from '../registry/limited.js';
import type { RepositoryName } from '../registry/names.js';
import { encodeRecord, parseRecord, type RunRecord, type TombstoneRecord } from '../registry/tombstones.js';
import { type Candidates, findCandidates, stillCandidates, type UntaggedPolicy } from './candidates.js';
import { GC_CONCURRENCY, type Inventory, takeInventory } from './inventory.js';
import {
  type DoomedManifests,
  inventoryCounts,
  type LinkCandidate,
  orphanReferrerEntries,
  pathsOf,
} from './plan.js';
import { type GcReport, type Phase, phaseTimer } from './report.js';

/** Options of collectGarbage. */
export interface CollectOptions {
  driver: StorageDriver;
  /** Nothing modified more recently than this many ms ago is deleted (`gc.graceperiod`). */
  gracePeriodMs: number;
  /** The wait between tombstoning and deleting, and after deleting (`gc.deletedelay`). */
  deleteDelayMs: number;
  /** Only report what would be deleted. */
  dryRun?: boolean;
  /** Aborted when the GC lease is lost. */
  signal?: AbortSignal;
  /** How long the lease lasts unless renewed: the run record's validity. */
  leaseTtlMs: number;
  /**
   * False only in the test that shows what the protocol prevents (BERTH_TEST_SKIP_TOMBSTONE_CHECK):
   * deletes every candidate without marking again or minding revived tombstones.
   */
  recheck?: boolean;
  /** Which untagged manifests may go (retention rules); none when absent. */
  untagged?: UntaggedPolicy | undefined;
  /** Told as phases start and progress (a progress line on a terminal). */
  onProgress?: (phase: Phase, done: number, total: number) => void;
  now?: () => number;
}

/** Tombstones claimed and objects deleted per batch. */
const BATCH = 1000;

/** How many manifests a map of them holds. */
function countOf(manifests: DoomedManifests): number {
  let count = 0;
  for (const digests of manifests.values()) count += digests.size;
  return count;
}

/** How many objects with tombstones a run deleted. */
function deletedCount(deleted: Deleted): number {
  return countOf(deleted.manifests) + deleted.emptied.length + deleted.links.length + deleted.blobs.length;
}

/** Runs one collection; resolves with its report. */
export async function collectGarbage(options: CollectOptions): Promise<GcReport> {
  const { driver, signal } = options;
  const now = options.now ?? Date.now;
  const timer = phaseTimer();
  const run = `${now()}-${randomUUID().slice(0, 8)}`;
  const progress = options.onProgress ?? (() => {});

  progress('mark', 0, 0);
  // A run that died leaves tombstones behind: void now that this run holds the lease.
  if (!options.dryRun) await orMissing(driver.delete(TOMBSTONES_ROOT), undefined);
  const first = await takeInventory(driver);
  const marking = { untagged: options.untagged, now: now() };
  const candidates = await findCandidates(driver, first, now() - options.gracePeriodMs, marking);
  timer.end('mark');
  const report = (deleted: Deleted, revived: number): GcReport => ({
    dryRun: options.dryRun === true,
    ...inventoryCounts(first),
    deleted: {
      repositories: deleted.emptied.length,
      manifests: countOf(deleted.manifests),
      links: deleted.links.length,
      blobs: deleted.blobs.length,
      referrers: deleted.referrers,
    },
    bytesFreed: deleted.blobs.reduce((sum, digest) => sum + (candidates.sizes.get(digest) ?? 0), 0),
    revived,
    phases: timer.phases(),
  });
  if (options.dryRun) {
    return report({ ...candidates, referrers: orphanReferrerEntries(first).length }, 0);
  }
  const targets = pathsOf(candidates.links, candidates.blobs, candidates.manifests, candidates.emptied);
  if (targets.length === 0) {
    const referrers = await deleteOrphanReferrers(driver, first, new Map());
    return report({ manifests: new Map(), emptied: [], links: [], blobs: [], referrers }, 0);
  }

  progress('tombstone', 0, targets.length);
  const versions = await tombstone(driver, run, targets, options.leaseTtlMs, now);
  timer.end('tombstone');
  progress('wait', 0, 0);
  await sleep(options.deleteDelayMs, undefined, { signal });
  timer.end('wait');

  progress('remark', 0, 0);
  const recheck = options.recheck !== false;
  const second = recheck ? await takeInventory(driver, { known: first }) : first;
  const still = recheck
    ? await stillCandidates(driver, second, candidates, { ...marking, now: now() })
    : candidates;
  timer.end('remark');

  const deleted = await claimAndDelete(driver, run, still, versions, options, now);
  const referrers = await deleteOrphanReferrers(driver, second, deleted.manifests);
  timer.end('delete');

  progress('cleanup', 0, 0);
  await sleep(options.deleteDelayMs, undefined, { signal });
  await orMissing(driver.delete(TOMBSTONES_ROOT), undefined);
  timer.end('cleanup');
  const revived = targets.length - deletedCount(deleted);
  return report({ ...deleted, referrers }, revived);
}

interface Deleted {
  manifests: DoomedManifests;
  emptied: RepositoryName[];
  links: LinkCandidate[];
  blobs: Digest[];
  referrers: number;
}

/** Writes a pending tombstone per target; resolves with each one's version. */
async function tombstone(
  driver: StorageDriver,
  run: string,
  targets: string[],
  leaseTtlMs: number,
  now: () => number,
): Promise<Map<string, string>> {
  await writeRunRecord(driver, { run, phase: 'collecting', until: now() + leaseTtlMs });
  const versions = new Map<string, string>();
  const pending = encodeRecord({ state: 'pending', run } satisfies TombstoneRecord);
  await forEachLimited(targets, GC_CONCURRENCY, async (target) => {
    versions.set(target, await driver.putContent(tombstonePath(target), pending));
  });
  return versions;
}

/**
 * Claims each tombstone with a conditional write of `deleting` and deletes the claimed targets
 * batch by batch; a tombstone a push revived meanwhile fails the condition and its target stays.
 */
async function claimAndDelete(
  driver: StorageDriver,
  run: string,
  still: Candidates,
  versions: Map<string, string>,
  options: CollectOptions,
  now: () => number,
): Promise<Deleted> {
  const deleting = encodeRecord({ state: 'deleting', run } satisfies TombstoneRecord);
  const claim = async (target: string): Promise<boolean> => {
    const version = versions.get(target);
    if (version === undefined) return false;
    if (options.recheck === false) return true;
    try {
      await driver.putContent(tombstonePath(target), deleting, { ifMatch: version });
    } catch (err) {
      if (isPreconditionFailed(err)) return false;
      throw err;
    }
    // A store that ignores conditions: a revival written just before is seen here at least.
    if (driver.conditionalWrites) return true;
    const stone = await orMissing(driver.getContent(tombstonePath(target)), undefined);
    return parseRecord<TombstoneRecord>(stone)?.state === 'deleting';
  };
  const deleted = new Set<string>();
  // Manifests, then links, then blobs: what a failed run leaves behind still holds its blobs.
  const paths = pathsOf(still.links, still.blobs, still.manifests, still.emptied);
  const total = paths.length;
  options.onProgress?.('delete', 0, total);
  for (let start = 0; start < paths.length; start += BATCH) {
    const batch = paths.slice(start, start + BATCH);
    options.signal?.throwIfAborted();
    await writeRunRecord(driver, { run, phase: 'collecting', until: now() + options.leaseTtlMs });
    const claimed = await filterLimited(batch, claim);
    options.signal?.throwIfAborted();
    await driver.deleteMany(claimed);
    for (const path of claimed) deleted.add(path);
    options.onProgress?.('delete', deleted.size, total);
  }
  await writeRunRecord(driver, { run, phase: 'deleted', until: now() + options.leaseTtlMs });
  const manifests = new Map<RepositoryName, Set<Digest>>();
  for (const [name, digests] of still.manifests) {
    const gone = [...digests].filter((digest) => deleted.has(revisionPath(name, digest)));
    if (gone.length > 0) manifests.set(name, new Set(gone));
  }
  return {
    manifests,
    emptied: still.emptied.filter((name) => deleted.has(catalogEntryPath(name))),
    links: still.links.filter((link) => deleted.has(layerLinkPath(link.name, link.digest))),
    blobs: still.blobs.filter((digest) => deleted.has(blobDataPath(digest))),
    referrers: 0,
  };
}

/**
 * Removes referrers entries whose manifest is gone (a crash between deleting a manifest and
 * its entry). Safe without tombstones: a push writes the manifest before its entry.
 */
async function deleteOrphanReferrers(
  driver: StorageDriver,
  inventory: Inventory,
  deletedManifests: DoomedManifests,
): Promise<number> {
  const orphans = orphanReferrerEntries(inventory, deletedManifests);
  await driver.deleteMany(orphans);
  return orphans.length;
}

async function writeRunRecord(driver: StorageDriver, record: RunRecord): Promise<void> {
  await driver.putContent(TOMBSTONE_RUN_PATH, encodeRecord(record));
}

async function filterLimited<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const verdicts = new Array<boolean>(items.length);
  await forEachLimited(items, GC_CONCURRENCY, async (item, i) => {
    verdicts[i] = await keep(item);
  });
  return items.filter((_, i) => verdicts[i]);
}
