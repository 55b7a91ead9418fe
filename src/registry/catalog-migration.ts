/**
 * Building the catalog index of a store written before Berth kept one. Such a store has
 * repositories but no catalog markers, so its catalog would look empty and every repository
 * unknown. At start-up the repositories tree is walked once, each repository marked, and then
 * the migration recorded as finished. Until that record exists every start-up walks again, so
 * a migration cut short (a crash, a pod killed while starting) is finished by the next one;
 * two processes migrating at once write the same markers, which is harmless.
 */
import { isStorageFull, orMissing, type StorageDriver } from '../blobstore/driver.js';
import { migrationDonePath, REPOSITORIES_ROOT, REPOSITORY_MARKERS } from '../blobstore/layout.js';
import type { Logger } from '../log/logger.js';
import { forEachLimited, LOOKUPS_IN_FLIGHT } from './limited.js';
import { isValidName, type RepositoryName } from './names.js';
import { markRepository } from './repositories.js';

const DONE = migrationDonePath('catalog');
const MARKERS: ReadonlySet<string> = new Set(REPOSITORY_MARKERS);

/**
 * Marks every repository of a store that has no catalog index yet and logs how many; one
 * stat when the store has one. Resolves with the number marked by a migration that finished.
 */
export async function migrateCatalog(driver: StorageDriver, logger: Logger): Promise<number> {
  if (await orMissing(driver.stat(DONE), undefined)) return 0;
  const names = await repositoriesInTree(driver);
  try {
    await forEachLimited(names, LOOKUPS_IN_FLIGHT, (name) => markRepository(driver, name));
    await driver.putContent(DONE, new Uint8Array(0));
  } catch (err) {
    // Pulls need no markers, so a full store still starts and serves them, as it did before.
    if (!isStorageFull(err)) throw err;
    logger.error('storage is full: the catalog index is incomplete until a start-up with space builds it', {
      repositories: names.length,
    });
    return 0;
  }
  if (names.length > 0) {
    logger.info(`catalog index built for ${names.length} repositories stored before it existed`, {
      repositories: names.length,
    });
  }
  return names.length;
}

/**
 * Repositories as the tree shows them: directories holding a `_layers` or `_manifests` (or
 * another of `markers`: `berth fsck` counts one with only upload sessions too).
 */
export async function repositoriesInTree(
  driver: StorageDriver,
  markers: ReadonlySet<string> = MARKERS,
): Promise<RepositoryName[]> {
  const names = new Set<RepositoryName>();
  const prefix = `${REPOSITORIES_ROOT}/`;
  const walked = driver.walk(REPOSITORIES_ROOT, (info) => {
    if (!info.isDir) return 'skip';
    const slash = info.path.lastIndexOf('/');
    const base = info.path.slice(slash + 1);
    if (!base.startsWith('_')) return 'continue';
    const name = info.path.slice(prefix.length, slash);
    if (markers.has(base) && isValidName(name)) names.add(name as RepositoryName);
    return 'skip';
  });
  await orMissing(walked, undefined);
  return [...names];
}
