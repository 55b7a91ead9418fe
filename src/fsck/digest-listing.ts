/** Listing what a repository's directories hold, by digest, for `berth fsck`. */
import { type FileInfo, orMissing, type StorageDriver } from '../blobstore/driver.js';
import { referrersRootPath } from '../blobstore/layout.js';
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

/** Every entry of a repository's referrers index (one walk: `<alg>/<hex>/<alg>-<hex>` files). */
export async function referrerEntries(driver: StorageDriver, name: RepositoryName): Promise<ReferrerEntry[]> {
  const root = referrersRootPath(name);
  const entries: ReferrerEntry[] = [];
  const visit = (info: FileInfo) => {
    const [algorithm, hex, entry, ...deeper] = info.path.slice(root.length + 1).split('/');
    if (info.isDir || entry === undefined || deeper.length > 0) return undefined;
    // An entry is named `<alg>-<hex>`: a digest's `:` cannot be in a path.
    const subject = digestOrUndefined(`${algorithm}:${hex}`);
    const referrer = digestOrUndefined(entry.replace('-', ':'));
    if (subject && referrer) entries.push({ subject, referrer });
    return undefined;
  };
  await orMissing(driver.walk(root, visit), undefined);
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
