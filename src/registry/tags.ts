/**
 * Tags: names that point at a manifest digest of the same repository. Moving a tag is one
 * atomic write of its file; deleting a tag never touches the manifest it pointed at.
 */
import { isNotFound, orMissing, type StorageDriver } from '../blobstore/driver.js';
import { tagPath, tagsPath } from '../blobstore/layout.js';
import { type Digest, parseDigest } from './digest.js';
import { RegistryError } from './errors.js';
import { forEachLimited, LOOKUPS_IN_FLIGHT } from './limited.js';
import { createLru } from './lru.js';
import { isValidTag, type RepositoryName, type Tag } from './names.js';
import type { Page, PageRequest } from './pagination.js';
import { missingIn } from './repositories.js';
import { tagsPage } from './tag-pages.js';

/** Tag operations of the registry. */
export interface TagService {
  /** The digest a tag points at; MANIFEST_UNKNOWN or NAME_UNKNOWN otherwise. */
  resolve(name: RepositoryName, tag: Tag): Promise<Digest>;
  set(name: RepositoryName, tag: Tag, digest: Digest): Promise<void>;
  delete(name: RepositoryName, tag: Tag): Promise<void>;
  /** One page of the tags of a repository in ASCII order; NAME_UNKNOWN when it does not exist. */
  list(name: RepositoryName, request: PageRequest): Promise<Page<Tag>>;
  /** Every tag of a repository with the digest it points at, in ASCII order of the tags. */
  entries(name: RepositoryName): Promise<Array<[Tag, Digest]>>;
}

/** Creates the tag service. */
export function createTagService(driver: StorageDriver): TagService {
  // Tags move, so a remembered digest is only used after a stat shows the tag file unchanged:
  // one cheap storage call per resolve instead of a read, correct across processes.
  const known = createLru<string, { version: string; digest: Digest }>({ maxEntries: 10_000 });

  async function current(name: RepositoryName, tag: Tag): Promise<Digest | undefined> {
    const path = tagPath(name, tag);
    try {
      const { version } = await driver.stat(path);
      const cached = known.get(path);
      if (cached?.version === version) return cached.digest;
      const digest = parseDigest((await driver.getContent(path)).toString('utf8').trim());
      // Remember it against the version seen before the read: a write in between only
      // means one more read next time.
      known.set(path, { version, digest });
      return digest;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The tags of a repository, unsorted; undefined when it has no tags directory. */
  async function tagNames(name: RepositoryName): Promise<Tag[] | undefined> {
    const names = await orMissing(driver.list(tagsPath(name)), undefined);
    return names?.filter(isValidTag) as Tag[] | undefined;
  }

  async function entries(name: RepositoryName): Promise<Array<[Tag, Digest]>> {
    const tags = ((await tagNames(name)) ?? []).sort(asciiOrder);
    const targets: Array<Digest | undefined> = [];
    await forEachLimited(tags, LOOKUPS_IN_FLIGHT, async (tag, i) => {
      targets[i] = await current(name, tag);
    });
    // A tag deleted between listing and reading is simply gone.
    return tags.flatMap((tag, i) => {
      const target = targets[i];
      return target ? [[tag, target] as [Tag, Digest]] : [];
    });
  }

  return {
    list: (name, request) => tagsPage(driver, name, request),

    async resolve(name, tag) {
      const digest = await current(name, tag);
      if (digest) return digest;
      throw await missingIn(driver, name, manifestUnknown({ tag }));
    },

    async set(name, tag, digest) {
      await driver.putContent(tagPath(name, tag), Buffer.from(digest));
    },

    async delete(name, tag) {
      try {
        await driver.delete(tagPath(name, tag));
      } catch (err) {
        if (isNotFound(err)) throw await missingIn(driver, name, manifestUnknown({ tag }));
        throw err;
      }
    },

    entries,
  };
}

/** Byte-wise (ASCII) order, as Go's sort.Strings and the spec's "lexical" order. */
export function asciiOrder(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** MANIFEST_UNKNOWN for a tag or digest. */
export function manifestUnknown(detail: { tag?: string; digest?: string }): RegistryError {
  return new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown to registry', { detail });
}
