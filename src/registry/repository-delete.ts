/**
 * Deleting a repository: its tags and their history, manifests, referrers, layer links,
 * upload sessions (with their staged bytes) and finally its catalog marker. Blob data stays:
 * other repositories may share it, and garbage collection frees what nothing references.
 * The marker goes last, so a delete cut short leaves a repository that still exists and can
 * be deleted again; a push afterwards makes the name exist anew.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import {
  catalogEntryPath,
  layerLinksPath,
  repositoryContentPaths,
  revisionsPath,
  tagsPath,
  uploadsPath,
} from '../blobstore/layout.js';
import { deletesDisabled } from './blobs.js';
import type { MetadataCache } from './cache.js';
import { type Digest, parseDigest } from './digest.js';
import { isValidTag, type RepositoryName, type Tag } from './names.js';
import { nameUnknown, repositoryExists } from './repositories.js';
import { discardSession } from './upload-purge.js';

/** Options of the repository deleter. */
export interface RepositoryDeleteOptions {
  driver: StorageDriver;
  cache: MetadataCache;
  deleteEnabled: boolean;
}

/** Deletes a repository; NAME_UNKNOWN when it does not exist, UNSUPPORTED when deletes are off. */
export type DeleteRepository = (name: RepositoryName) => Promise<void>;

/** Creates the repository delete operation. */
export function createRepositoryDelete({
  driver,
  cache,
  deleteEnabled,
}: RepositoryDeleteOptions): DeleteRepository {
  const listed = (path: string) => orMissing(driver.list(path), [] as string[]);

  /** The digests stored as `<alg>/<hex>` below `path`. */
  async function digestsBelow(path: string): Promise<Digest[]> {
    const digests: Digest[] = [];
    for (const algorithm of await listed(path)) {
      for (const hex of await listed(`${path}/${algorithm}`)) {
        const digest = tryDigest(`${algorithm}:${hex}`);
        if (digest) digests.push(digest);
      }
    }
    return digests;
  }

  /**
   * Lists what this process may remember about the repository and returns how to forget it,
   * once deleted: a remembered layer link would otherwise let a push skip a layer the
   * repository no longer has. Other replicas trust theirs for `storage.cache.ttl` at most, as
   * after any delete (docs/caches.md).
   */
  async function forgetter(name: RepositoryName): Promise<() => void> {
    const tags = (await listed(tagsPath(name))).filter(isValidTag) as Tag[];
    const revisions = await digestsBelow(revisionsPath(name));
    const links = await digestsBelow(layerLinksPath(name));
    return () => {
      for (const tag of tags) cache.forgetTag(name, tag);
      for (const digest of revisions) cache.forgetRevision(name, digest);
      for (const digest of links) cache.forgetLink(name, digest);
    };
  }

  return async (name) => {
    if (!deleteEnabled) throw deletesDisabled();
    if (!(await repositoryExists(driver, name))) throw nameUnknown(name);
    for (const id of await listed(uploadsPath(name)))
      await discardSession(driver, `${uploadsPath(name)}/${id}`);
    const forget = await forgetter(name);
    try {
      for (const path of repositoryContentPaths(name)) await orMissing(driver.delete(path), undefined);
      await orMissing(driver.delete(catalogEntryPath(name)), undefined);
    } finally {
      forget();
    }
  };
}

function tryDigest(text: string): Digest | undefined {
  try {
    return parseDigest(text);
  } catch {
    return undefined;
  }
}
