/**
 * A repository's tags as retention reads them, straight from storage (never a cache): each
 * tag's digest and object version, when it last moved, and its history entry ids. Two flat
 * scans (tags, history) and one read per tag.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import { tagHistoriesPath, tagPath, tagsPath } from '../blobstore/layout.js';
import { type Digest, parseDigest } from '../registry/digest.js';
import { forEachLimited, LOOKUPS_IN_FLIGHT } from '../registry/limited.js';
import { isValidTag, type RepositoryName, type Tag } from '../registry/names.js';
import { entryTime } from '../registry/tag-history.js';

/** One tag as read. */
export interface TagState {
  tag: Tag;
  digest: Digest;
  /** The tag object's version when read: a delete goes ahead only if it is unchanged. */
  version: string;
  /** When it last moved (ms): its newest history entry, or its object's write time if later. */
  movedAt: number;
}

/** What retention reads of a repository's tags. */
export interface RepositoryTags {
  tags: TagState[];
  /** Tag -> its history entry ids, newest first; also for tags that no longer exist. */
  histories: Map<Tag, string[]>;
}

/** Reads a repository's tags and the ids of their history entries. */
export async function readRepositoryTags(
  driver: StorageDriver,
  name: RepositoryName,
): Promise<RepositoryTags> {
  const histories = await scanByTag(driver, tagHistoriesPath(name));
  const written = await scanByTag(driver, tagsPath(name));
  const tags: Array<TagState | undefined> = [];
  await forEachLimited([...written.keys()], LOOKUPS_IN_FLIGHT, async (tag, i) => {
    const read = await orMissing(driver.getVersioned(tagPath(name, tag)), undefined);
    if (!read) return; // deleted since the scan
    const modTime = written.get(tag)?.[0]?.modTime ?? 0;
    const newest = histories.get(tag)?.[0];
    const movedAt = Math.max(modTime, (newest && entryTime(newest.rest)) ?? 0);
    const digest = parseDigest(read.content.toString('utf8').trim());
    tags[i] = { tag, digest, version: read.version, movedAt };
  });
  const ids = new Map([...histories].map(([tag, entries]) => [tag, entries.map((entry) => entry.rest)]));
  return { tags: tags.filter((state) => state !== undefined), histories: ids };
}

interface Scanned {
  rest: string;
  modTime: number;
}

/** Objects below `root` grouped by their first path component (a tag), in listing order. */
async function scanByTag(driver: StorageDriver, root: string): Promise<Map<Tag, Scanned[]>> {
  const byTag = new Map<Tag, Scanned[]>();
  for await (const { path, modTime } of driver.scan(root)) {
    const [tag, ...rest] = path.slice(root.length + 1).split('/');
    if (tag === undefined || !isValidTag(tag)) continue;
    const entries = byTag.get(tag as Tag) ?? [];
    entries.push({ rest: rest.join('/'), modTime: modTime.getTime() });
    byTag.set(tag as Tag, entries);
  }
  return byTag;
}
