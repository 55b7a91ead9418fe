/**
 * The tags list, a page at a time: one listing call of the repository's tags directory for
 * a page, however many tags it holds.
 */
import type { StorageDriver } from '../blobstore/driver.js';
import { tagsPath } from '../blobstore/layout.js';
import { isValidTag, type RepositoryName, type Tag } from './names.js';
import { directoryEntries, type Page, type PageRequest, readPage } from './pagination.js';
import { nameUnknown, repositoryExists } from './repositories.js';

/** One page of the tags of a repository in ASCII order; NAME_UNKNOWN when it does not exist. */
export async function tagsPage(
  driver: StorageDriver,
  name: RepositoryName,
  request: PageRequest,
): Promise<Page<Tag>> {
  const page = await readPage(
    {
      read: directoryEntries(driver, tagsPath(name)),
      position: (last) => last,
      item: (entry) => (isValidTag(entry) ? (entry as Tag) : undefined),
    },
    request,
  );
  // Only an empty page can belong to a repository that does not exist.
  if (page.items.length > 0 || (await repositoryExists(driver, name))) return page;
  throw nameUnknown(name);
}
