/**
 * The filesystem driver's temp files: how they are named, and sweeping the ones a crash left
 * behind. `putContent` writes a temp file beside its target and renames it into place; a
 * process killed in between leaves the temp file. A conditional write holds a lock file beside
 * its target for a few milliseconds; a process killed meanwhile leaves that. Neither is ever
 * part of any object (dot-files are invisible to `list` and `walk`), so deleting one is safe
 * once no writer can still be using it, which is what the age bound guarantees.
 */
import { randomUUID } from 'node:crypto';
import type { Dir, Dirent, Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { hasErrorCode } from '../fs/system-error.js';

const TEMP_PREFIX = '.tmp-';
const LOCK_PREFIX = '.lock-';

/**
 * Temp files older than this are leftovers. Only small objects (tags, manifests, referrer
 * descriptors) go through temp files, and writing one takes well under a second; an hour
 * leaves room for a stalled disk and for clock skew between replicas sharing the storage.
 */
export const STALE_TEMP_FILE_AGE_MS = 3_600_000;

/** A fresh temp file name, unique across processes. */
export function tempFileName(): string {
  return `${TEMP_PREFIX}${randomUUID()}`;
}

/** The name of the lock file that guards conditional writes of the object named `name`. */
export function lockFileName(name: string): string {
  return `${LOCK_PREFIX}${name}`;
}

/** True for the name of a temp or lock file. */
export function isTempOrLock(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) || name.startsWith(LOCK_PREFIX);
}

/** Options of sweepStaleTempFiles. */
export interface SweepOptions {
  /** The current time in milliseconds (tests pass their own). */
  now?: number;
  /** Only count the stale temp files. */
  dryRun?: boolean;
}

/**
 * Deletes the temp and lock files anywhere under `root` last modified more than STALE_TEMP_FILE_AGE_MS
 * before `now` (with dryRun, only counts them); returns how many. Directories are read as
 * streams, so a store with millions of blobs costs time, not memory.
 */
export async function sweepStaleTempFiles(root: string, options: SweepOptions = {}): Promise<number> {
  const cutoff = new Date((options.now ?? Date.now()) - STALE_TEMP_FILE_AGE_MS);
  let swept = 0;
  for await (const found of tempFilesBefore(root, cutoff)) {
    swept += 1;
    if (!options.dryRun) await fs.rm(found.file, { force: true });
  }
  return swept;
}

/** A temp or lock file found under a root. */
export interface TempFile {
  /** The file's absolute name. */
  file: string;
  size: number;
  modTime: Date;
}

/** The temp and lock files anywhere under `root` last modified before `cutoff`. */
export async function* tempFilesBefore(root: string, cutoff: Date): AsyncGenerator<TempFile> {
  const directories = [root];
  for (let directory = directories.pop(); directory !== undefined; directory = directories.pop()) {
    for await (const entry of entriesOf(directory)) {
      const file = nodePath.join(directory, entry.name);
      if (entry.isDirectory()) directories.push(file);
      else if (isTempOrLock(entry.name)) {
        const stats = await statOf(file);
        if (stats && stats.mtime < cutoff) yield { file, size: stats.size, modTime: stats.mtime };
      }
    }
  }
}

/** The entries of a directory, or none when it was removed meanwhile (a concurrent delete). */
async function* entriesOf(directory: string): AsyncGenerator<Dirent> {
  let entries: Dir;
  try {
    entries = await fs.opendir(directory);
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  yield* entries;
}

async function statOf(file: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(file);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  return hasErrorCode(err, 'ENOENT') || hasErrorCode(err, 'ENOTDIR');
}
