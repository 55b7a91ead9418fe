/**
 * The filesystem driver's file primitives: durable directory creation and renames, the
 * version token of a file, and the mapping of system errors to the driver's errors. Shared by
 * the driver's object writes and its staged writes.
 */
import { constants, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import type { Writable } from 'node:stream';
import { hasErrorCode } from '../fs/system-error.js';
import { type FileInfo, PathNotFoundError, StorageFullError } from './driver.js';

/** The version token of a file: what `stat` reports and conditional writes compare. */
export function versionOf(stats: Stats): string {
  // Writes replace files by rename, which changes the inode; staged writes change size and mtime.
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/** What `stat` and `walk` report about a file or directory at driver path `path`. */
export function toFileInfo(path: string, stats: Stats): FileInfo {
  const isDir = stats.isDirectory();
  return { path, size: isDir ? 0 : stats.size, modTime: stats.mtime, isDir, version: versionOf(stats) };
}

/** False for the driver's own dot-files (temp and lock files), which no listing shows. */
export function isVisible(name: string): boolean {
  return !name.startsWith('.');
}

/**
 * Modes of what the driver creates: the store holds the token signing key and private
 * repositories' blobs, so only Berth's own user may read it (as zot does).
 */
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;

/** Opens `path` with `flags`, creating it owner-only and its missing parent directories durably. */
export async function openCreatingParents(path: string, flags: string | number): Promise<fs.FileHandle> {
  try {
    return await fs.open(path, flags, FILE_MODE);
  } catch (err) {
    if (!hasErrorCode(err, 'ENOENT')) throw err;
    await makeDirectories(nodePath.dirname(path));
    return await fs.open(path, flags, FILE_MODE);
  }
}

/**
 * `mkdir -p` that also makes the new directories' own entries durable: each created
 * directory is recorded in its parent, so each such parent is fsynced.
 */
export async function makeDirectories(directory: string): Promise<void> {
  const first = await fs.mkdir(directory, { recursive: true, mode: DIRECTORY_MODE });
  if (first === undefined) return;
  let created = directory;
  const parents: string[] = [];
  while (created.length >= first.length) {
    parents.push(nodePath.dirname(created));
    created = nodePath.dirname(created);
  }
  await Promise.all(parents.map(syncDirectory));
}

/** Renames over the target, creating its directory, then makes the directory entry durable. */
export async function renameDurably(source: string, target: string): Promise<void> {
  const directory = nodePath.dirname(target);
  try {
    await fs.rename(source, target);
  } catch (err) {
    if (!hasErrorCode(err, 'ENOENT')) throw err;
    await makeDirectories(directory);
    await fs.rename(source, target);
  }
  await syncDirectory(directory);
}

/**
 * Makes a directory's entries durable. Concurrent calls are not merged here: the journal
 * already commits concurrent fsyncs together, and merging them in user space was measured
 * to lower throughput.
 */
export async function syncDirectory(directory: string): Promise<void> {
  await syncFile(directory);
}

/** Flushes a file (or directory) to disk by path. */
export async function syncFile(path: string): Promise<void> {
  const handle = await fs.open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Resolves once a destroyed file stream has finished its last write and closed its file. */
export function closed(stream: Writable): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', resolve));
}

/** The driver's error for a failed system call on driver path `path`. */
export function mapError(err: unknown, path: string): unknown {
  if (hasErrorCode(err, 'ENOENT') || hasErrorCode(err, 'ENOTDIR')) return new PathNotFoundError(path);
  if (hasErrorCode(err, 'ENOSPC') || hasErrorCode(err, 'EDQUOT'))
    return new StorageFullError(path, { cause: err });
  return err;
}

/** Runs a write, turning "no space" (and a missing source) into the driver's errors. */
export async function writing<T>(path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw mapError(err, path);
  }
}
