/**
 * The catalog: every repository that has at least one linked blob or manifest, found by
 * walking the repositories tree.
 */
import { isNotFound, type StorageDriver } from '../blobstore/driver.js';
import { REPOSITORIES_ROOT, REPOSITORY_MARKERS } from '../blobstore/layout.js';
import type { RepositoryName } from './names.js';
import { asciiOrder } from './tags.js';

const MARKERS: ReadonlySet<string> = new Set(REPOSITORY_MARKERS);

/** All repository names in ASCII order. */
export async function listRepositories(driver: StorageDriver): Promise<RepositoryName[]> {
  const names = new Set<string>();
  const prefix = `${REPOSITORIES_ROOT}/`;
  try {
    await driver.walk(REPOSITORIES_ROOT, (info) => {
      if (!info.isDir) return 'skip';
      const slash = info.path.lastIndexOf('/');
      const base = info.path.slice(slash + 1);
      if (!base.startsWith('_')) return 'continue';
      if (MARKERS.has(base)) names.add(info.path.slice(prefix.length, slash));
      return 'skip';
    });
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  return ([...names] as RepositoryName[]).sort(asciiOrder);
}
