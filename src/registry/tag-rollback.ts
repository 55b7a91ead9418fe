/**
 * Rolling a tag back: to a digest named outright, or to where it pointed a number of moves
 * ago according to its history. The move is an ordinary tag move recorded as `rollback`, so
 * immutable tags refuse it like any other move, and it can itself be rolled back.
 */
import { revisionPath } from '../blobstore/layout.js';
import type { Digest } from './digest.js';
import { RegistryError } from './errors.js';
import type { Reference } from './manifests.js';
import type { RepositoryName, Tag } from './names.js';
import { type Actor, type TagHistory, valueAfter } from './tag-history.js';
import type { TagService } from './tags.js';
import type { ReferenceGuard } from './tombstones.js';

/** Where to move the tag: a digest, or `steps` moves back in its history. */
export type RollbackTarget = { digest: Digest; steps?: undefined } | { steps: number; digest?: undefined };

/** Moves a tag back and resolves with the digest it now points at. */
export type RollbackTag = (
  name: RepositoryName,
  tag: Tag,
  target: RollbackTarget,
  by?: Actor,
) => Promise<Digest>;

/** What a rollback needs. */
export interface RollbackDependencies {
  tags: TagService;
  history: TagHistory;
  /** Throws MANIFEST_UNKNOWN (or NAME_UNKNOWN) unless the manifest exists in the repository. */
  describe(name: RepositoryName, reference: Reference): Promise<unknown>;
  /** GC's tombstone check: the manifest must not be one GC is deleting (docs/gc.md). */
  guard: Pick<ReferenceGuard, 'begin' | 'lost' | 'assertInTime'>;
  /** True when GC may delete untagged manifests of the repository. */
  collectsUntagged?: (name: RepositoryName) => boolean;
}

/** Creates the rollback operation. */
export function createTagRollback(dependencies: RollbackDependencies): RollbackTag {
  const { tags, history, describe, guard } = dependencies;
  const collectsUntagged = dependencies.collectsUntagged ?? (() => false);
  async function stepsBack(name: RepositoryName, tag: Tag, steps: number): Promise<Digest> {
    const { items } = await history.page(name, tag, { size: steps + 1 });
    const entry = items[steps];
    if (!entry) {
      throw new RegistryError(
        'MANIFEST_UNKNOWN',
        `the history of tag ${tag} holds ${items.length} move(s), not ${steps + 1}`,
        {
          detail: { tag, steps, moves: items.length },
        },
      );
    }
    const digest = valueAfter(entry);
    if (digest) return digest;
    throw new RegistryError(
      'MANIFEST_UNKNOWN',
      `tag ${tag} did not exist ${steps} move(s) ago (it was deleted)`,
      {
        detail: { tag, steps, deleted: entry.time },
      },
    );
  }

  return async (name, tag, target, by) => {
    const digest = target.digest ?? (await stepsBack(name, tag, target.steps));
    const begun = guard.begin();
    await describe(name, { digest });
    // Revived before the tag is written, and written in time for GC's second mark to see it.
    if ((await guard.lost([revisionPath(name, digest)], begun)).length > 0) {
      throw new RegistryError('MANIFEST_UNKNOWN', 'garbage collection is deleting this manifest', {
        detail: { digest },
      });
    }
    if (collectsUntagged(name)) guard.assertInTime(begun);
    await tags.set(name, tag, digest, by, 'rollback');
    return digest;
  };
}
