/**
 * Finding the leftovers of interrupted writes that are old enough to sweep, keeping every one
 * that belongs to an open upload session.
 *
 * Sessions are read before the driver lists leftovers: a session that ends meanwhile has
 * written its blob's pointer before its state went, so the driver's scan for pointers, which
 * comes later, sees the pointer; a session that starts meanwhile has nothing older than the
 * cutoff (taken before both).
 */
import type { Leftover, StorageDriver } from '../blobstore/driver.js';
import { orMissing } from '../blobstore/driver.js';
import { DATA_ROOT, stagedDataPath, uploadsPath } from '../blobstore/layout.js';
import type { RepositoryName } from '../registry/names.js';

/** The leftovers last written before `cutoff` that no open upload session owns. */
export async function findLeftovers(
  driver: StorageDriver,
  repositories: readonly RepositoryName[],
  cutoff: Date,
): Promise<Leftover[]> {
  const open = await openSessionData(driver, repositories);
  const found: Leftover[] = [];
  for await (const leftover of driver.leftovers.list(DATA_ROOT, cutoff)) {
    if (!open.some((prefix) => leftover.path.startsWith(prefix))) found.push(leftover);
  }
  return found;
}

/** The staged-data path of every open upload session: its data is at or below it. */
async function openSessionData(
  driver: StorageDriver,
  repositories: readonly RepositoryName[],
): Promise<string[]> {
  const prefixes: string[] = [];
  for (const name of repositories) {
    for (const id of await orMissing(driver.list(uploadsPath(name)), [] as string[]))
      prefixes.push(stagedDataPath(id));
  }
  return prefixes;
}
