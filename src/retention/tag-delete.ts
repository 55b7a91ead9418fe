/**
 * Deleting a tag retention decided on, without losing a push that moves it meanwhile. There
 * is no conditional delete on the stores Berth uses, so: stat the tag just before deleting and
 * go ahead only if it is still the version read; after deleting, look at its history, and if a
 * push recorded a move since the read (its tag write landed between the stat and the delete),
 * write the tag back to where that push put it. A push writes its tag before its entry, so a
 * push whose entry lands after that look is still lost: the window is one push's two writes
 * landing around retention's delete and its look, both within milliseconds (docs/retention.md).
 */
import { isNotFound, isPreconditionFailed, orMissing, type StorageDriver } from '../blobstore/driver.js';
import { pullRecordPath, tagHistoryPath, tagPath } from '../blobstore/layout.js';
import type { RepositoryName } from '../registry/names.js';
import { type Actor, readEntry, type TagHistory, valueAfter } from '../registry/tag-history.js';
import type { TagState } from './tag-state.js';

/** Who retention's moves are recorded as. */
export const RETENTION_ACTOR: Actor = { name: 'retention', address: '' };

/** What became of a tag retention meant to delete. */
export type DeleteOutcome =
  /** Deleted, recorded as a `retention` entry. */
  | 'deleted'
  /** Moved or deleted by someone else since it was read: left alone. */
  | 'moved'
  /** Deleted, then written back to a push that raced the delete (recorded as a `rollback`). */
  | 'restored';

/**
 * Deletes `state.tag` if it is unchanged since read; `newestSeen` is the newest history entry
 * id when it was read (undefined when it had none).
 */
export async function deleteUnmovedTag(
  driver: StorageDriver,
  history: TagHistory,
  name: RepositoryName,
  state: TagState,
  newestSeen: string | undefined,
): Promise<DeleteOutcome> {
  const path = tagPath(name, state.tag);
  const now = await orMissing(driver.stat(path), undefined);
  if (now?.version !== state.version) return 'moved';
  try {
    await driver.delete(path);
  } catch (err) {
    if (isNotFound(err)) return 'moved';
    throw err;
  }
  const ours = await history.record(name, state.tag, {
    digest: state.digest,
    action: 'retention',
    actor: RETENTION_ACTOR,
  });
  const restored = await restoreRacingPush(driver, history, name, state, [ours, newestSeen]);
  if (restored) return 'restored';
  await orMissing(driver.delete(pullRecordPath(name, state.tag)), undefined);
  return 'deleted';
}

/** Writes the tag back to the newest move recorded since it was read; true when it did. */
async function restoreRacingPush(
  driver: StorageDriver,
  history: TagHistory,
  name: RepositoryName,
  state: TagState,
  [ours, newestSeen]: [string, string | undefined],
): Promise<boolean> {
  const ids = await orMissing(driver.list(tagHistoryPath(name, state.tag)), []);
  // Ids sort newest first, so those before the newest seen at the read were written since.
  const since = ids.filter((id) => id !== ours && (newestSeen === undefined || id < newestSeen));
  for (const id of since) {
    const entry = await readEntry(driver, name, state.tag, id);
    if (!entry || entry.action === 'retention') continue;
    const digest = valueAfter(entry);
    if (!digest) return false; // the newest move since is a delete: the tag stays deleted
    try {
      await driver.putContent(tagPath(name, state.tag), Buffer.from(digest), { ifNoneMatch: '*' });
    } catch (err) {
      // Written again meanwhile (another push): that one stands.
      if (!isPreconditionFailed(err)) throw err;
      return true;
    }
    await history.record(name, state.tag, { digest, action: 'rollback', actor: RETENTION_ACTOR });
    return true;
  }
  return false;
}
