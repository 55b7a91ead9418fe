/**
 * The filesystem driver: objects are files under a root directory. Every write that makes
 * something visible goes through a temp file (or the upload's own file), fsync, rename and a
 * directory fsync, so a crash leaves either the old object or the new one, never a torn one.
 * An empty object (a marker) is created in place: there is no content to tear. Temp files
 * are dot-files, which `list` and `walk` never report. Appends flush to disk in the background
 * as they go, so publishing a large upload does not wait for all of it at the end, and a failed
 * append is truncated away, so the object keeps exactly the bytes it had.
 */
import {
  constants,
  type Dirent,
  readFile as readFileCallback,
  type Stats,
  stat as statCallback,
} from 'node:fs';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hasErrorCode } from '../fs/system-error.js';
import {
  type FileInfo,
  PathNotFoundError,
  type StorageDriver,
  StorageFullError,
  type WalkVisitor,
} from './driver.js';
import { createBufferPool, FileReadStream } from './file-read-stream.js';
import { prepareRootDirectory } from './root-directory.js';
import { tempFileName } from './temp-files.js';
import { backgroundWriteback, countingFlushes } from './writeback.js';

/** Options of the filesystem driver. */
export interface FilesystemDriverOptions {
  /** Directory under which everything is stored; created if missing. */
  rootDirectory: string;
}

/** Appended bytes between two background flushes of the file being appended to. */
const WRITEBACK_EVERY = 4 * 1024 * 1024;

/**
 * Creates a filesystem driver rooted at `rootDirectory` (made absolute and created); throws an
 * Error naming the directory when it is not one or cannot be written.
 */
export async function createFilesystemDriver(options: FilesystemDriverOptions): Promise<StorageDriver> {
  const root = nodePath.resolve(options.rootDirectory);
  await prepareRootDirectory(root);
  const full = (path: string): string => (path === '/' ? root : root + path);
  const startWriteback = backgroundWriteback();
  const readBuffers = createBufferPool();

  return {
    name: 'filesystem',

    getContent(path) {
      // The callback API: fs/promises' FileHandle machinery costs several times more per
      // small file, and tags and manifests are read on every pull.
      return new Promise((resolve, reject) => {
        readFileCallback(full(path), (err, content) =>
          err ? reject(mapError(err, path)) : resolve(content),
        );
      });
    },

    putContent: (path, content) =>
      writing(path, async () => {
        const target = full(path);
        if (content.length === 0) {
          await (await openCreatingParents(target, 'w')).close();
          await syncDirectory(nodePath.dirname(target));
          return;
        }
        const temp = await openTemp(nodePath.dirname(target));
        try {
          try {
            await temp.handle.writeFile(content);
            await temp.handle.sync();
          } finally {
            await temp.handle.close();
          }
          await renameDurably(temp.path, target);
        } catch (err) {
          // Leave no temp file behind (a disk-full write, say); the old object is untouched.
          await fs.rm(temp.path, { force: true });
          throw err;
        }
      }),

    async reader(path, offset = 0, length) {
      let handle: fs.FileHandle;
      try {
        handle = await fs.open(full(path), constants.O_RDONLY);
      } catch (err) {
        throw mapError(err, path);
      }
      try {
        const available = Math.max((await handle.stat()).size - offset, 0);
        return new FileReadStream(handle, offset, Math.min(length ?? available, available), readBuffers);
      } catch (err) {
        await handle.close();
        throw err;
      }
    },

    append: (path, source) =>
      writing(path, async () => {
        const target = full(path);
        const handle = await openCreatingParents(target, 'a');
        try {
          const { size } = await handle.stat();
          const sink = handle.createWriteStream({ autoClose: false, highWaterMark: 1024 * 1024 });
          try {
            await pipeline(
              source,
              countingFlushes(WRITEBACK_EVERY, () => startWriteback(target)),
              sink,
            );
          } catch (err) {
            // All or nothing: a chunk that failed (client gone, rejected, disk full) is cut off
            // again, once no write of it is still under way, so a retry starts from a known size.
            // Destroying the sink closed the handle, hence the truncate by path.
            await closed(sink);
            await fs.truncate(target, size);
            throw err;
          } finally {
            sink.destroy();
          }
          return size + sink.bytesWritten;
        } finally {
          await handle.close();
        }
      }),

    stat(path) {
      return new Promise((resolve, reject) => {
        statCallback(full(path), (err, stats) =>
          err ? reject(mapError(err, path)) : resolve(toFileInfo(path, stats)),
        );
      });
    },

    async list(path, page) {
      try {
        const names = (await fs.readdir(full(path))).filter(isVisible).sort();
        const after = page?.after;
        const listed = after === undefined ? names : names.filter((name) => name > after);
        return listed.slice(0, page?.limit ?? listed.length);
      } catch (err) {
        throw mapError(err, path);
      }
    },

    move: (from, to) =>
      writing(to, async () => {
        const source = full(from);
        try {
          const handle = await fs.open(source, constants.O_RDONLY);
          try {
            await handle.sync();
          } finally {
            await handle.close();
          }
        } catch (err) {
          throw mapError(err, from);
        }
        await renameDurably(source, full(to));
      }),

    async delete(path) {
      const target = full(path);
      try {
        await fs.lstat(target);
      } catch (err) {
        throw mapError(err, path);
      }
      await fs.rm(target, { recursive: true, force: true });
    },

    async walk(path, visit) {
      try {
        await fs.stat(full(path));
      } catch (err) {
        throw mapError(err, path);
      }
      await walkDirectory(root, path, visit);
    },
  };
}

/** Resolves once a destroyed file stream has finished its last write and closed its file. */
function closed(stream: Writable): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', resolve));
}

function isVisible(name: string): boolean {
  return !name.startsWith('.');
}

async function walkDirectory(root: string, path: string, visit: WalkVisitor): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(path === '/' ? root : root + path, { withFileTypes: true });
  } catch (err) {
    // A directory removed while we walk (a concurrent delete) simply has no children.
    if (hasErrorCode(err, 'ENOENT')) return;
    throw err;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (!isVisible(entry.name)) continue;
    const child = path === '/' ? `/${entry.name}` : `${path}/${entry.name}`;
    let info: FileInfo;
    try {
      info = toFileInfo(child, await fs.stat(root + child));
    } catch (err) {
      if (hasErrorCode(err, 'ENOENT')) continue;
      throw err;
    }
    const decision = await visit(info);
    if (info.isDir && decision !== 'skip') await walkDirectory(root, child, visit);
  }
}

function toFileInfo(path: string, stats: Stats): FileInfo {
  const isDir = stats.isDirectory();
  return {
    path,
    size: isDir ? 0 : stats.size,
    modTime: stats.mtime,
    isDir,
    // Writes replace files by rename, which changes the inode; appends change size and mtime.
    version: `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`,
  };
}

async function openTemp(directory: string): Promise<{ path: string; handle: fs.FileHandle }> {
  const path = nodePath.join(directory, tempFileName());
  return { path, handle: await openCreatingParents(path, 'wx') };
}

async function openCreatingParents(path: string, flags: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(path, flags);
  } catch (err) {
    if (!hasErrorCode(err, 'ENOENT')) throw err;
    await makeDirectories(nodePath.dirname(path));
    return await fs.open(path, flags);
  }
}

/**
 * `mkdir -p` that also makes the new directories' own entries durable: each created
 * directory is recorded in its parent, so each such parent is fsynced.
 */
async function makeDirectories(directory: string): Promise<void> {
  const first = await fs.mkdir(directory, { recursive: true });
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
async function renameDurably(source: string, target: string): Promise<void> {
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
async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function mapError(err: unknown, path: string): unknown {
  if (hasErrorCode(err, 'ENOENT') || hasErrorCode(err, 'ENOTDIR')) return new PathNotFoundError(path);
  if (hasErrorCode(err, 'ENOSPC') || hasErrorCode(err, 'EDQUOT'))
    return new StorageFullError(path, { cause: err });
  return err;
}

/** Runs a write, turning "no space" (and a missing source) into the driver's errors. */
async function writing<T>(path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw mapError(err, path);
  }
}
