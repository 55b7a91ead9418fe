/**
 * The bookkeeping of one layer over the rootfs: which paths the layer made (whiteouts spare
 * them), the times of every directory it changes (restored when the layer ends), the xattrs to
 * set once all owners are final, and the directories known to be real (to skip lstat calls).
 */

import type { Stats } from 'node:fs';
import { chmod, lstat, lutimes, mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { UnpackState } from './apply.js';
import { isInside, resolveInRoot } from './paths.js';
import { setXattrs } from './special.js';
import type { TarHeader } from './tar.js';

/** See the module comment; made by {@link layerTree} for each layer. */
export interface LayerTree {
  /** Real directories seen or made; cleared whenever a directory is removed. */
  knownDirs: Set<string>;
  /** Makes `dir` (and missing parents, 0755 root:root) unless it exists; notes its times. */
  ensureDir(dir: string, entryName: string): Promise<void>;
  /** Removes whatever is at `path` (recursively for a directory). */
  remove(path: string, stats: Stats): Promise<void>;
  /** A whiteout: removes `path`, or with `keepSelf` its children, sparing what this layer made. */
  removeLower(path: string, keepSelf: boolean): Promise<void>;
  /** Marks `path` and its ancestors as made by this layer. */
  touch(path: string): void;
  /** A directory entry's own times, to set when the layer ends. */
  setDirTimes(path: string, header: TarHeader): void;
  /** Xattrs of an entry, set when the layer ends (chown would clear security.capability). */
  queueXattrs(path: string, header: TarHeader, ino: number): void;
  /** Notes that a symlink was made, so the end-of-layer paths are checked again. */
  symlinkMade(): void;
  /** Sets queued xattrs, then directory times. */
  finish(): Promise<void>;
}

interface DirTimes {
  atime: number;
  mtime: number;
}

/** Bookkeeping for one layer over `rootfs`. */
export function layerTree(rootfs: string, state: UnpackState, warnings: string[]): LayerTree {
  const knownDirs = new Set<string>([rootfs]);
  const touched = new Set<string>();
  const dirTimes = new Map<string, DirTimes>();
  const xattrs: Array<{ path: string; ino: number; xattrs: Map<string, Buffer> }> = [];
  let symlinks = false;

  // Times a directory had before this layer first changed it (umoci restores these too).
  const noteTimes = async (dir: string): Promise<void> => {
    if (dirTimes.has(dir)) return;
    const stats = await lstat(dir).catch(() => undefined);
    if (stats?.isDirectory()) dirTimes.set(dir, { atime: stats.atimeMs / 1000, mtime: stats.mtimeMs / 1000 });
  };

  // Paths noted earlier were symlink-free then; a symlink made since (replacing a directory)
  // could now redirect them, so they are resolved again before being used.
  const stillAt = async (path: string): Promise<boolean> => {
    if (!symlinks) return true;
    const relative = path === rootfs ? '' : path.slice(rootfs.length + 1);
    const again = await resolveInRoot(rootfs, relative, { followFinal: false, knownDirs }).catch(() => '');
    return again === path;
  };

  const remove = async (path: string, stats: Stats): Promise<void> => {
    if (stats.isDirectory()) {
      await rm(path, { recursive: true, force: true });
      knownDirs.clear();
      knownDirs.add(rootfs);
    } else {
      await unlink(path);
    }
    state.xattrNames.delete(path);
  };

  const removeLower = async (path: string, stats: Stats, keepSelf: boolean): Promise<void> => {
    if (!keepSelf && !touched.has(path)) {
      await remove(path, stats);
      return;
    }
    if (!stats.isDirectory()) return;
    await noteTimes(path);
    for (const name of await readdir(path)) {
      const child = `${path}/${name}`;
      await removeLower(child, await lstat(child), false);
    }
  };

  return {
    knownDirs,
    async ensureDir(dir, entryName) {
      if (!knownDirs.has(dir)) {
        const stats = await lstat(dir).catch(() => undefined);
        if (stats && !stats.isDirectory()) {
          throw new Error(`${entryName}: ${dir.slice(rootfs.length) || '/'} is not a directory`);
        }
        if (!stats) {
          // Making the parents changes the nearest existing ancestor, whose times are kept too.
          let ancestor = dirname(dir);
          while (ancestor !== rootfs && !(await lstat(ancestor).catch(() => undefined)))
            ancestor = dirname(ancestor);
          await noteTimes(ancestor);
          const first = await mkdir(dir, { recursive: true, mode: 0o755 });
          // Parents the layer never listed: 0755 whatever the umask, as umoci makes them.
          for (let made = dir; first && isInside(first, made); made = dirname(made)) {
            await chmod(made, 0o755);
          }
        }
        knownDirs.add(dir);
      }
      await noteTimes(dir);
    },
    remove,
    async removeLower(path, keepSelf) {
      const stats = await lstat(path).catch(() => undefined);
      if (!stats) return;
      await noteTimes(keepSelf ? path : dirname(path));
      await removeLower(path, stats, keepSelf);
    },
    touch(path) {
      for (let at = path; at !== rootfs && !touched.has(at); at = dirname(at)) touched.add(at);
    },
    setDirTimes(path, header) {
      dirTimes.set(path, { atime: header.atime ?? header.mtime, mtime: header.mtime });
    },
    queueXattrs(path, header, ino) {
      if (header.xattrs.size > 0) xattrs.push({ path, ino, xattrs: header.xattrs });
    },
    symlinkMade() {
      symlinks = true;
    },
    async finish() {
      const ready: typeof xattrs = [];
      for (const item of xattrs) {
        const stats = (await stillAt(item.path)) ? await lstat(item.path).catch(() => undefined) : undefined;
        // Gone or replaced later in the same layer: the xattrs belonged to the old file.
        if (stats?.ino === item.ino) ready.push(item);
      }
      for (const message of await setXattrs(ready)) warnings.push(`xattr: ${message}`);
      for (const item of ready) {
        const names = state.xattrNames.get(item.path) ?? new Set<string>();
        for (const name of item.xattrs.keys()) names.add(name);
        state.xattrNames.set(item.path, names);
      }
      for (const [dir, times] of dirTimes) {
        if (!(await stillAt(dir))) continue;
        const stats = await lstat(dir).catch(() => undefined);
        if (stats?.isDirectory()) await lutimes(dir, times.atime, times.mtime);
      }
    },
  };
}
