/**
 * Whether a repository exists: it does once a blob or manifest has been linked into it, which
 * writes its catalog marker. An upload in progress alone does not make a repository. A
 * repository delete removes its marker, and garbage collection the marker of a repository with
 * nothing stored (docs/gc.md); a write racing that puts the marker back.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import { catalogEntryPath } from '../blobstore/layout.js';
import { RegistryError } from './errors.js';
import type { RepositoryName } from './names.js';

/** True when the repository has its catalog marker: one stat, on every backend. */
export async function repositoryExists(driver: StorageDriver, name: RepositoryName): Promise<boolean> {
  return (await orMissing(driver.stat(catalogEntryPath(name)), undefined)) !== undefined;
}

/**
 * Makes a repository exist by writing its catalog marker. Called alongside every write that
 * makes one (a blob link, a manifest), and always written: a marker lost to a failed request
 * is put back by the client's retry, whatever a cache remembers.
 */
export async function markRepository(driver: StorageDriver, name: RepositoryName): Promise<void> {
  await driver.putContent(catalogEntryPath(name), EMPTY);
}

/**
 * Runs `write` (the write that makes `name` exist) alongside its marker write, and settles
 * once both have ended, so no write of the request is still under way when it answers.
 */
export async function withMarker<T>(
  driver: StorageDriver,
  name: RepositoryName,
  write: Promise<T>,
): Promise<T> {
  const [written, marked] = await Promise.allSettled([write, markRepository(driver, name)]);
  if (written.status === 'rejected') throw written.reason;
  if (marked.status === 'rejected') throw marked.reason;
  return written.value;
}

/** The error for something missing from a repository: NAME_UNKNOWN when the repository itself is. */
export async function missingIn(
  driver: StorageDriver,
  name: RepositoryName,
  otherwise: RegistryError,
): Promise<RegistryError> {
  if (await repositoryExists(driver, name)) return otherwise;
  return nameUnknown(name);
}

/** NAME_UNKNOWN for a repository. */
export function nameUnknown(name: RepositoryName): RegistryError {
  return new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name } });
}

const EMPTY = new Uint8Array(0);

/**
 * After a write that made `name` exist checked its references for tombstones (`lost` are the
 * paths GC took): when GC took the repository's catalog marker, because the repository looked
 * empty before this write, the marker is written again. The other losses are the caller's.
 */
export async function remarkIfCollected(
  driver: StorageDriver,
  name: RepositoryName,
  lost: readonly string[],
): Promise<string[]> {
  const marker = catalogEntryPath(name);
  if (!lost.includes(marker)) return [...lost];
  await markRepository(driver, name);
  return lost.filter((path) => path !== marker);
}
