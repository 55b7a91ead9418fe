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
  const { last } = request;
  return readPage(
    {
      read: directoryEntries(driver, CATALOG_ROOT),
      position: (text) => catalogEntryName(namePrefix(text)),
      item(entry) {
        const name = repositoryOfCatalogEntry(entry);
        if (!isValidName(name) || (last !== undefined && name <= last)) return undefined;
        return visible(name as RepositoryName) ? (name as RepositoryName) : undefined;
      },
    },
    request,
  );
}

/**
 * The longest start of `last` made of the characters names are made of, where the escape
 * keeps order. A `last` that is no name is placed just before it sorts; `item` leaves out
 * the few names that are still not after it.
 */
function namePrefix(last: string): RepositoryName {
  return (NAME_CHARACTERS.exec(last)?.[0] ?? '') as RepositoryName;
}

const NAME_CHARACTERS = /^[-./0-9_a-z]*/;
