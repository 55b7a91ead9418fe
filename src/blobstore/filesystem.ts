/**
 * The filesystem driver: objects are files under a root directory. Every write that makes
 * something visible goes through a temp file (or the staged object's own file), fsync, rename
 * and a directory fsync, so a crash leaves either the old object or the new one, never a torn
 * one (see filesystem-objects.ts and filesystem-staged.ts). Temp and lock files are dot-files,
 * which `list` and `walk` never report. There are no redirect URLs: blobs are served by Berth.
 */
import { constants, type Dirent, readFile as readFileCallback, stat as statCallback } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { hasErrorCode } from '../fs/system-error.js';
import { forEachLimited } from '../registry/limited.js';
import {
  type FileInfo,
  type ListPage,
  PathNotFoundError,
  type ScannedObject,
  type StorageDriver,
  type WalkVisitor,
} from './driver.js';
import { createBufferPool, FileReadStream } from './file-read-stream.js';
import {
  isVisible,
  mapError,
  renameDurably,
  syncFile,
  toFileInfo,
  versionOf,
  writing,
} from './filesystem-files.js';
import { filesystemLeftovers } from './filesystem-leftovers.js';
import { replaceFile, replaceFileIf } from './filesystem-objects.js';
import { filesystemStagedWrites } from './filesystem-staged.js';
import { prepareRootDirectory } from './root-directory.js';

/** Options of the filesystem driver. */

/** Files removed at once by deleteMany. */
const FILES_AT_ONCE = 16;

export interface FilesystemDriverOptions {
  /** Directory under which everything is stored; created if missing. */
  rootDirectory: string;
}

/**
 * Creates a filesystem driver rooted at `rootDirectory` (made absolute and created); throws an
 * Error naming the directory when it is not one or cannot be written.
 */
export async function createFilesystemDriver(options: FilesystemDriverOptions): Promise<StorageDriver> {
  const root = nodePath.resolve(options.rootDirectory);
  await prepareRootDirectory(root);
  const full = (path: string): string => (path === '/' ? root : root + path);
  const readBuffers = createBufferPool();

  return {
    name: 'filesystem',
    conditionalWrites: true,

    getContent(path) {
      // The callback API: fs/promises' FileHandle machinery costs several times more per
      // small file, and tags and manifests are read on every pull.
      return new Promise((resolve, reject) => {
        readFileCallback(full(path), (err, content) =>
          err ? reject(mapError(err, path)) : resolve(content),
        );
      });
    },

    async getVersioned(path) {
      let handle: fs.FileHandle;
      try {
        handle = await fs.open(full(path), constants.O_RDONLY);
      } catch (err) {
        throw mapError(err, path);
      }
      // One descriptor for both, so the version is that of the bytes read even if the object
      // is replaced meanwhile.
      try {
        const version = versionOf(await handle.stat());
        return { content: await handle.readFile(), version };
      } finally {
        await handle.close();
      }
    },

    putContent: (path, content, condition) =>
      writing(path, async () => {
        const written = condition
          ? await replaceFileIf(full(path), path, content, condition)
          : await replaceFile(full(path), content);
        return versionOf(written);
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

    stat(path) {
      return new Promise((resolve, reject) => {
        statCallback(full(path), (err, stats) => {
          if (err) return reject(mapError(err, path));
          if (stats.isDirectory()) return reject(new PathNotFoundError(path));
          resolve(toFileInfo(path, stats));
        });
      });
    },

    async list(path, page) {
      let names: string[];
      try {
        names = await fs.readdir(full(path));
      } catch (err) {
        throw mapError(err, path);
      }
      return pageOf(names.filter(isVisible).sort(), page);
    },

    move: (from, to) =>
      writing(to, async () => {
        try {
          await syncFile(full(from));
        } catch (err) {
          throw mapError(err, from);
        }
        await renameDurably(full(from), full(to));
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

    async deleteMany(paths) {
      await forEachLimited(paths, FILES_AT_ONCE, (path) => fs.rm(full(path), { force: true }));
    },

    scan: (path) => scanDirectory(root, path),

    async walk(path, visit) {
      try {
        await fs.stat(full(path));
      } catch (err) {
        throw mapError(err, path);
      }
      await walkDirectory(root, path, visit);
    },

    redirectURL: async () => undefined,

    staged: filesystemStagedWrites(full),

    leftovers: filesystemLeftovers(root),
  };
}

/** The names after `page.after`, at most `page.limit` of them; `sorted` is in bytewise order. */
function pageOf(sorted: string[], page: ListPage = {}): string[] {
  const { after, limit } = page;
  const from = after === undefined ? 0 : sorted.findIndex((name) => name > after);
  const rest = from < 0 ? [] : sorted.slice(from);
  return limit === undefined ? rest : rest.slice(0, limit);
}

/** Every file below `path`, in bytewise order; directories and files removed meanwhile are passed over. */
async function* scanDirectory(root: string, path: string): AsyncGenerator<ScannedObject> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(path === '/' ? root : root + path, { withFileTypes: true });
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT') || hasErrorCode(err, 'ENOTDIR')) return;
    throw err;
  }
  // Bytewise order of whole paths: a directory `a` sorts as `a/`, after a file `a-b`, as on S3.
  const keyOf = (entry: Dirent) => (entry.isDirectory() ? `${entry.name}/` : entry.name);
  entries.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  for (const entry of entries) {
    if (!isVisible(entry.name)) continue;
    const child = path === '/' ? `/${entry.name}` : `${path}/${entry.name}`;
    if (entry.isDirectory()) {
      yield* scanDirectory(root, child);
      continue;
    }
    try {
      yield { path: child, modTime: (await fs.stat(root + child)).mtime };
    } catch (err) {
      if (!hasErrorCode(err, 'ENOENT')) throw err;
    }
  }
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
