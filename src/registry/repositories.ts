/**
 * Whether a repository exists: it does once a blob or manifest has been linked into it.
 * An upload in progress alone does not make a repository.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import { REPOSITORY_MARKERS, repositoryPath } from '../blobstore/layout.js';
import { RegistryError } from './errors.js';
import type { RepositoryName } from './names.js';

/** True when the repository has any linked blob or manifest. */
export async function repositoryExists(driver: StorageDriver, name: RepositoryName): Promise<boolean> {
  const found = await Promise.all(
    REPOSITORY_MARKERS.map((marker) =>
      orMissing(driver.stat(`${repositoryPath(name)}/${marker}`), undefined),
    ),
  );
  return found.some((info) => info?.isDir);
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
