/**
 * Finding and deleting idle upload sessions: sessions nobody has written to since a cutoff
 * belong to clients that crashed or gave up. This is a maintenance job, not an upload
 * operation: a timer runs it (src/maintenance.ts) and no request waits for it.
 */
import { type FileInfo, orMissing, type StorageDriver, type WalkDecision } from '../blobstore/driver.js';
import { REPOSITORIES_ROOT, UPLOADS_DIRECTORY } from '../blobstore/layout.js';

/** Options of purgeIdleUploads. */
export interface PurgeOptions {
  /** Only count the idle sessions. */
  dryRun?: boolean;
  /** Called with the id of each deleted session, so in-memory state about it can go too. */
  onPurged?: (id: string) => void;
}

/** Deletes the sessions idle since before `cutoff` (with dryRun, only counts them); returns how many. */
export async function purgeIdleUploads(
  driver: StorageDriver,
  cutoff: Date,
  { dryRun = false, onPurged = () => {} }: PurgeOptions = {},
): Promise<number> {
  let purged = 0;
  const purgeDirectory = async (directory: string): Promise<void> => {
    for (const id of await orMissing(driver.list(directory), [])) {
      const session = `${directory}/${id}`;
      const activity = (await orMissing(driver.stat(session), undefined))?.modTime;
      if (activity === undefined || activity >= cutoff) continue;
      purged += 1;
      if (dryRun) continue;
      await orMissing(driver.delete(session), undefined);
      onPurged(id);
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
