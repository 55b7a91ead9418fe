/**
 * `berth fsck`: checks a store while servers may be using it, and with `repair` quarantines
 * what is broken and deletes leftovers of interrupted writes.
 *
 * A repair follows the damage through: a manifest that references a corrupt or missing blob
 * is broken, so is a tag or referrers entry that names it, and all of them are quarantined in
 * the same run, so that the next run finds the store clean and a push of the same image puts
 * everything back. A corrupt blob takes its layer links with it: a server that remembers the
 * blob's size (sizes are cached for good, the bytes of a digest never change) would otherwise
 * go on answering HEAD for it, and a client would skip uploading the good bytes again.
 */
import type { Leftover, StorageDriver } from '../blobstore/driver.js';
import {
  layerLinkPath,
  QUARANTINE_ROOT,
  quarantineRunName,
  REPOSITORY_MARKERS,
  UPLOADS_DIRECTORY,
} from '../blobstore/layout.js';
import { repositoriesInTree } from '../registry/catalog-migration.js';
import type { Digest } from '../registry/digest.js';
import type { RepositoryName } from '../registry/names.js';
import { checkBlobs } from './blob-check.js';
import type { Finding, FsckReport, LeftoverFinding, Progress } from './findings.js';
import { findLeftovers } from './leftover-sweep.js';
import { createQuarantine, type Quarantine } from './quarantine.js';
import { checkRepository } from './repository-check.js';

/** Options of one run. */
export interface FsckOptions {
  /** Quarantine broken items and delete leftovers. */
  repair: boolean;
  /** Only leftovers last written before this are touched. */
  cutoff: Date;
  /** When the run started: names its quarantine directory. */
  started: Date;
  progress?: Progress;
}

/** Repair order: what points at something goes before what it points at. */
const REPAIR_ORDER: ReadonlyArray<Finding['kind']> = ['tag', 'referrer', 'manifest', 'blob'];

/** Checks the store behind `driver` (and repairs it with `repair`). */
export async function runFsck(driver: StorageDriver, options: FsckOptions): Promise<FsckReport> {
  const progress = options.progress ?? (() => {});
  const markers = new Set<string>([...REPOSITORY_MARKERS, UPLOADS_DIRECTORY]);
  const repositories = (await repositoriesInTree(driver, markers)).sort();
  const leftovers = await findLeftovers(driver, repositories, options.cutoff);
  const blobs = await checkBlobs(driver, progress);
  const report: FsckReport = {
    checked: {
      blobs: blobs.count,
      bytes: blobs.bytes,
      repositories: repositories.length,
      manifests: 0,
      tags: 0,
      referrers: 0,
    },
    broken: [...blobs.corrupt.values()],
    leftovers: leftovers.map(leftoverFinding),
  };
  for (const [index, name] of repositories.entries()) {
    progress(`repositories ${index + 1}/${repositories.length}`);
    const checked = await checkRepository(driver, name, blobs);
    report.broken.push(...checked.broken);
    report.checked.manifests += checked.manifests;
    report.checked.tags += checked.tags;
    report.checked.referrers += checked.referrers;
  }
  report.broken.sort(
    (a, b) => REPAIR_ORDER.indexOf(a.kind) - REPAIR_ORDER.indexOf(b.kind) || (a.item < b.item ? -1 : 1),
  );
  if (!options.repair) return report;

  const run = quarantineRunName(options.started);
  report.quarantine = `${QUARANTINE_ROOT}/${run}`;
  const quarantine = createQuarantine(driver, run);
  for (const finding of report.broken) {
    finding.action = await attempt(() => repair(quarantine, repositories, finding));
  }
  for (const [index, leftover] of leftovers.entries()) {
    const finding = report.leftovers[index] as LeftoverFinding;
    finding.action = await attempt(async () => {
      await driver.leftovers.remove(leftover);
      return 'deleted';
    });
  }
  return report;
}

async function repair(
  quarantine: Quarantine,
  repositories: readonly RepositoryName[],
  finding: Finding,
): Promise<string> {
  if (finding.kind !== 'blob')
    return (await quarantine.object(finding.path)) ? 'quarantined' : 'gone already';
  let links = 0;
  for (const name of repositories) {
    if (await quarantine.object(layerLinkPath(name, finding.item as Digest))) links += 1;
  }
  const moved = await quarantine.blob(finding.path);
  return `${moved ? 'quarantined' : 'gone already'}, with ${links} layer link(s)`;
}

/** The action's description, or what made it fail (the run goes on with the next item). */
async function attempt(action: () => Promise<string>): Promise<string> {
  try {
    return await action();
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  }
}

function leftoverFinding(leftover: Leftover): LeftoverFinding {
  return {
    kind: leftover.kind,
    path: leftover.path,
    size: leftover.size,
    modTime: leftover.modTime.toISOString(),
  };
}
