/**
 * The catalog: every repository that exists, read a page at a time from the catalog index
 * (one marker per repository, named so that a plain listing is already in ASCII order of the
 * names; see layout.ts). A page costs one listing call, not a walk of the repositories tree.
 */
import type { StorageDriver } from '../blobstore/driver.js';
import { CATALOG_ROOT, catalogEntryName, repositoryOfCatalogEntry } from '../blobstore/layout.js';
import { isValidName, type RepositoryName } from './names.js';
import { directoryEntries, type Page, type PageRequest, readPage } from './pagination.js';

/** Decides whether a repository belongs in the caller's catalog. */
export type CatalogFilter = (name: RepositoryName) => boolean;

/** One page of the repositories `visible` lets through, in ASCII order. */
export function catalogPage(
  driver: StorageDriver,
  request: PageRequest,
  visible: CatalogFilter,
): Promise<Page<RepositoryName>> {
  return readPage(
    {
      read: directoryEntries(driver, CATALOG_ROOT),
      // The escape keeps order for any string, so a `last` that is no valid name still
      // lands where it sorts among the names.
      position: (last) => catalogEntryName(last as RepositoryName),
      item(entry) {
        const name = repositoryOfCatalogEntry(entry);
        if (!isValidName(name)) return undefined;
        return visible(name as RepositoryName) ? (name as RepositoryName) : undefined;
      },
    },
    request,
  );
}
