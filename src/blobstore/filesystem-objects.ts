/**
 * Writing small objects on the filesystem: a temp dot-file beside the target, fsync, rename and
 * a directory fsync, so a crash leaves the old object or the new one, never a torn one. An
 * empty object (a marker) is written in place: there is no content to tear.
 *
 * A conditional write compares and replaces while holding a lock file beside the object, so it
 * is atomic across processes sharing the root. Unconditional writes take no lock: they may
 * overtake a conditional write, which is what "unconditional" means.
 */
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { withLockFile } from '../fs/lock-file.js';
import { hasErrorCode } from '../fs/system-error.js';
import { PreconditionFailedError, type WriteCondition } from './driver.js';
import {
  makeDirectories,
  openCreatingParents,
  renameDurably,
  syncDirectory,
  versionOf,
} from './filesystem-files.js';
import { lockFileName, tempFileName } from './temp-files.js';

/**
 * A conditional write holds its lock for a few milliseconds; one held this long belongs to a
 * frozen process or one on another host, and is taken over. Generous, because taking over a
 * live holder's lock could let two writers both succeed.
 */
const LOCK_STALE_MS = 30_000;
/** How long a conditional write waits for the lock before failing. */
const LOCK_GIVE_UP_MS = 60_000;

/**
 * Writes `content` as the file `target`, durably, replacing any; resolves with the new file's
 * stats. `modified` (seconds since the epoch) sets its modification time.
 */
export async function replaceFile(target: string, content: Uint8Array, modified?: number): Promise<Stats> {
  if (content.length === 0) return writeEmpty(target, modified);
  const temp = nodePath.join(nodePath.dirname(target), tempFileName());
  const handle = await openCreatingParents(temp, 'wx');
  try {
    try {
      await handle.writeFile(content);
      if (modified !== undefined) await handle.utimes(modified, modified);
      await handle.sync();
      await renameDurably(temp, target);
      // After the rename, which changes the file's ctime: the version of what now is at target.
      return await handle.stat();
    } finally {
      await handle.close();
    }
  } catch (err) {
    // Leave no temp file behind (a disk-full write, say); the old object is untouched.
    await fs.rm(temp, { force: true });
    throw err;
  }
}

async function writeEmpty(target: string, modified: number | undefined): Promise<Stats> {
  const handle = await openCreatingParents(target, 'w');
  let stats: Stats;
  try {
    if (modified !== undefined) await handle.utimes(modified, modified);
    stats = await handle.stat();
  } finally {
    await handle.close();
  }
  await syncDirectory(nodePath.dirname(target));
  return stats;
}

/**
 * Writes `content` as the file `target` if the file is still as `condition` says, else throws
 * PreconditionFailedError naming driver path `path`; resolves with the new file's stats.
 */
export async function replaceFileIf(
  target: string,
  path: string,
  content: Uint8Array,
  condition: WriteCondition,
): Promise<Stats> {
  const directory = nodePath.dirname(target);
  await makeDirectories(directory);
  const compareAndReplace = async () => {
    const current = await statIfExists(target);
    if (!satisfies(current, condition)) throw new PreconditionFailedError(path);
    return replaceFile(target, content, current && laterThan(current));
  };
  return withLockFile(nodePath.join(directory, lockFileName(nodePath.basename(target))), compareAndReplace, {
    busy: `a conditional write of ${path} waited too long for another one`,
    giveUpMs: LOCK_GIVE_UP_MS,
    staleAfterMs: LOCK_STALE_MS,
  });
}

function satisfies(current: Stats | undefined, condition: WriteCondition): boolean {
  if ('ifNoneMatch' in condition) return current === undefined;
  return current !== undefined && versionOf(current) === condition.ifMatch;
}

/**
 * A modification time after `current`'s (seconds). File times come from a coarse clock (a
 * few milliseconds) and a freed inode number is soon reused, so two replacements in one tick
 * could bring back an earlier version token, and a writer still holding that token would
 * wrongly succeed. Under the lock, each replacement's time is strictly later than the last.
 */
function laterThan(current: Stats): number {
  return Math.max(Date.now(), current.mtimeMs + 0.001) / 1000;
}

async function statIfExists(target: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(target);
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}
