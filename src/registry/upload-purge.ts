/**
 * Finding and deleting idle upload sessions: sessions nobody has written to since a cutoff
 * belong to clients that crashed or gave up. This is a maintenance job, not an upload
 * operation: a timer runs it (src/maintenance.ts) and no request waits for it.
 */
import {
  type FileInfo,
  orMissing,
  type StagedObject,
  type StorageDriver,
  type WalkDecision,
} from '../blobstore/driver.js';
import { REPOSITORIES_ROOT, UPLOADS_DIRECTORY } from '../blobstore/layout.js';

/** Options of purgeIdleUploads. */
export interface PurgeOptions {
  /** Only count the idle sessions. */
  dryRun?: boolean;
}

/** Deletes the sessions idle since before `cutoff` (with dryRun, only counts them); returns how many. */
export async function purgeIdleUploads(
  driver: StorageDriver,
  cutoff: Date,
  { dryRun = false }: PurgeOptions = {},
): Promise<number> {
  let purged = 0;
  const purgeDirectory = async (directory: string): Promise<void> => {
    for (const id of await orMissing(driver.list(directory), [])) {
      const session = `${directory}/${id}`;
      const activity = (await orMissing(driver.stat(session), undefined))?.modTime;
      if (activity === undefined || activity >= cutoff) continue;
      purged += 1;
      if (dryRun) continue;
      await discardSession(driver, session);
    }
  };
  const visit = async (info: FileInfo): Promise<WalkDecision> => {
    if (!info.isDir) return 'skip';
    const base = info.path.slice(info.path.lastIndexOf('/') + 1);
    if (base === UPLOADS_DIRECTORY) await purgeDirectory(info.path);
    // Other `_` directories hold a repository's own data, never nested repositories.
    return base.startsWith('_') ? 'skip' : 'continue';
  };
  // A fresh store has no repositories directory until the first push.
  await orMissing(driver.walk(REPOSITORIES_ROOT, visit), undefined);
  return purged;
}

/**
 * Drops a session's staged bytes, then its state object (in that order, so a crash in between
 * leaves a session the next run finds again). A state that cannot be read is deleted alone.
 */
export async function discardSession(driver: StorageDriver, session: string): Promise<void> {
  const content = await orMissing(driver.getContent(session), undefined);
  if (content === undefined) return;
  const staged = stagedRecordOf(content);
  if (staged) await driver.staged.discard(staged);
  await orMissing(driver.delete(session), undefined);
}

function stagedRecordOf(content: Buffer): StagedObject | undefined {
  try {
    const state = JSON.parse(content.toString('utf8')) as { staged?: StagedObject };
    return typeof state?.staged?.size === 'number' ? state.staged : undefined;
  } catch {
    return undefined;
  }
}
