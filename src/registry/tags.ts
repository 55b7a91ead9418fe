/**
 * Tags: names that point at a manifest digest of the same repository. Moving a tag is one
 * atomic write of its object, then one history entry (tag-history.ts); deleting a tag never
 * touches the manifest it pointed at. The tag is written before its entry, so a failed entry
 * write fails the request and the client's retry records it; only a crash in between loses
 * one. An immutable tag (immutable-tags.ts) is created with a conditional write, so two
 * replicas creating it at once cannot both win. Resolving may answer from the metadata cache
 * for `storage.cache.ttl` (docs/caches.md); a tag moved or deleted through this process is
 * updated there at once.
 */
import { isNotFound, isPreconditionFailed, orMissing, type StorageDriver } from '../blobstore/driver.js';
import { tagPath, tagsPath } from '../blobstore/layout.js';
import type { MetadataCache } from './cache.js';
import { type Digest, parseDigest } from './digest.js';
import { RegistryError } from './errors.js';
import { type ImmutableTags, immutableTagError, NO_IMMUTABLE_TAGS } from './immutable-tags.js';
import { forEachLimited, LOOKUPS_IN_FLIGHT } from './limited.js';
import { isValidTag, type RepositoryName, type Tag } from './names.js';
import type { Page, PageRequest } from './pagination.js';
import { missingIn } from './repositories.js';
import {
  type Actor,
  createTagHistory,
  type TagAction,
  type TagHistory,
  UNKNOWN_ACTOR,
} from './tag-history.js';
import { tagsPage } from './tag-pages.js';

/** Tag operations of the registry. */
export interface TagService {
  /** The digest a tag points at; MANIFEST_UNKNOWN or NAME_UNKNOWN otherwise. */
  resolve(name: RepositoryName, tag: Tag): Promise<Digest>;
  /**
   * Points a tag at a digest and records the move (unless a push leaves it where it was);
   * DENIED when the tag is immutable and points elsewhere.
   */
  set(name: RepositoryName, tag: Tag, digest: Digest, by?: Actor, action?: TagAction): Promise<void>;
  /** Deletes a tag; MANIFEST_UNKNOWN or NAME_UNKNOWN when it does not exist, DENIED when immutable. */
  delete(name: RepositoryName, tag: Tag, by?: Actor): Promise<void>;
  /**
   * Deletes a tag if it exists; false when it did not (a concurrent delete got there first).
   * DENIED when immutable.
   */
  remove(name: RepositoryName, tag: Tag, by?: Actor): Promise<boolean>;
  /** DENIED, naming the rule, when any of `tags` is immutable: checked before removing several. */
  assertRemovable(name: RepositoryName, tags: readonly Tag[]): void;
  /** One page of the tags of a repository in ASCII order; NAME_UNKNOWN when it does not exist. */
  list(name: RepositoryName, request: PageRequest): Promise<Page<Tag>>;
  /** Every tag of a repository with the digest it points at, in ASCII order of the tags. */
  entries(name: RepositoryName): Promise<Array<[Tag, Digest]>>;
}

/** What the tag service needs besides storage and the cache. */
export interface TagServiceOptions {
  /** Where moves are recorded; by default the history in the same store. */
  history?: TagHistory;
  immutable?: ImmutableTags;
}

/** Creates the tag service over a driver and the metadata cache it remembers tags in. */
export function createTagService(
  driver: StorageDriver,
  cache: MetadataCache,
  options: TagServiceOptions = {},
): TagService {
  const history = options.history ?? createTagHistory(driver);
  const immutable = options.immutable ?? NO_IMMUTABLE_TAGS;

  /**
   * The digest a tag points at. A remembered tag younger than the ttl is used as is; an older
   * one after a stat shows the tag object at the same version (one cheap call instead of a
   * read). `check` skips the first shortcut: deletes must see storage.
   */
  async function current(name: RepositoryName, tag: Tag, check = false): Promise<Digest | undefined> {
    const known = cache.tag(name, tag);
    if (known?.fresh && !check) return known.digest;
    const checkedAt = cache.now();
    const path = tagPath(name, tag);
    try {
      const { version } = await driver.stat(path);
      if (known?.version === version) {
        cache.rememberTag(name, tag, known, checkedAt);
        return known.digest;
      }
      const digest = parseDigest((await driver.getContent(path)).toString('utf8').trim());
      // Remembered against the version seen before the read: a write in between only means
      // one more read next time.
      cache.rememberTag(name, tag, { digest, version }, checkedAt);
      return digest;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      cache.forgetTag(name, tag);
      return undefined;
    }
  }

  async function remove(name: RepositoryName, tag: Tag, by = UNKNOWN_ACTOR): Promise<boolean> {
    const before = await current(name, tag, true);
    if (before === undefined) return false;
    const rule = immutable(name, tag);
    if (rule) throw immutableTagError(name, tag, rule);
    let removed: boolean;
    try {
      removed = await orMissing(
        driver.delete(tagPath(name, tag)).then(() => true),
        false,
      );
    } finally {
      cache.forgetTag(name, tag);
    }
    if (removed) await history.record(name, tag, { digest: before, action: 'delete', actor: by });
    return removed;
  }

  /** Writes the tag: once only when a rule makes it immutable, else whatever it held. */
  async function write(
    name: RepositoryName,
    tag: Tag,
    digest: Digest,
    before: Digest | undefined,
  ): Promise<void> {
    const rule = immutable(name, tag);
    if (!rule) {
      await driver.putContent(tagPath(name, tag), Buffer.from(digest));
      return;
    }
    if (before === digest) return;
    if (before !== undefined) throw immutableTagError(name, tag, rule);
    try {
      await driver.putContent(tagPath(name, tag), Buffer.from(digest), { ifNoneMatch: '*' });
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      // Created meanwhile by another push: fine if that push wrote the same digest.
      if ((await current(name, tag, true)) !== digest) throw immutableTagError(name, tag, rule);
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
      targets[i] = await current(name, tag, true);
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

    async set(name, tag, digest, by = UNKNOWN_ACTOR, action = 'push') {
      const before = await current(name, tag, true);
      try {
        await write(name, tag, digest, before);
      } finally {
        cache.forgetTag(name, tag);
      }
      if (action === 'push' && before === digest) return;
      await history.record(name, tag, { digest, action, actor: by });
    },

    async delete(name, tag, by) {
      if (!(await remove(name, tag, by))) throw await missingIn(driver, name, manifestUnknown({ tag }));
    },

    assertRemovable(name, candidates) {
      for (const tag of candidates) {
        const rule = immutable(name, tag);
        if (rule) throw immutableTagError(name, tag, rule);
      }
    },

    remove,
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
