/** Listing what a repository's directories hold, by digest, for `berth fsck`. */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import { referrersPath, referrersRootPath } from '../blobstore/layout.js';
import { type Digest, parseDigest } from '../registry/digest.js';
import type { RepositoryName } from '../registry/names.js';

/** The digests a `<alg>/<hex>` directory holds (layer links, revisions); names that are none are skipped. */
export async function digestsBelow(driver: StorageDriver, directory: string): Promise<Digest[]> {
  const digests: Digest[] = [];
  for (const algorithm of await orMissing(driver.list(directory), [] as string[])) {
    for (const hex of await orMissing(driver.list(`${directory}/${algorithm}`), [] as string[])) {
      const digest = digestOrUndefined(`${algorithm}:${hex}`);
      if (digest) digests.push(digest);
    }
  }
  return digests;
}

/** One entry of the referrers index: `referrer`'s `subject` is `subject`. */
export interface ReferrerEntry {
  subject: Digest;
  referrer: Digest;
}

/** Every entry of a repository's referrers index. */
export async function referrerEntries(driver: StorageDriver, name: RepositoryName): Promise<ReferrerEntry[]> {
  const entries: ReferrerEntry[] = [];
  for (const subject of await digestsBelow(driver, referrersRootPath(name))) {
    for (const entry of await orMissing(driver.list(referrersPath(name, subject)), [] as string[])) {
      // An entry is named `<alg>-<hex>`: a digest's `:` cannot be in a path.
      const referrer = digestOrUndefined(entry.replace('-', ':'));
      if (referrer) entries.push({ subject, referrer });
    }
  }
  return entries;
}

/** The digest `text` is, or undefined. */
export function digestOrUndefined(text: string): Digest | undefined {
  try {
    return parseDigest(text);
  } catch {
    return undefined;
  }
}
