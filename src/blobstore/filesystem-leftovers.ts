/**
 * The filesystem driver's leftovers: temp and lock files a killed writer left beside their
 * targets (temp-files.ts), and files below the staging directory. A staged file becomes an
 * object by being renamed away, so every file still below the staging directory belongs to a
 * staged object nobody committed: an open upload (the caller keeps those) or an abandoned one.
 */
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { assertValidPath } from './checked.js';
import { InvalidPathError, type Leftover, type LeftoverSweeping } from './driver.js';
import { isVisible } from './filesystem-files.js';
import { isTempOrLock, tempFilesBefore } from './temp-files.js';

/** Leftover sweeping for the filesystem driver rooted at the absolute directory `root`. */
export function filesystemLeftovers(root: string): LeftoverSweeping {
  const driverPath = (file: string): string =>
    `/${nodePath.relative(root, file).split(nodePath.sep).join('/')}`;
  const full = (path: string): string => (path === '/' ? root : root + path);

  async function* stagedFiles(stagingRoot: string, before: Date): AsyncGenerator<Leftover> {
    let entries: string[];
    try {
      entries = await fs.readdir(full(stagingRoot), { recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const relative of entries.sort()) {
      const file = nodePath.join(full(stagingRoot), relative);
      if (!isVisible(nodePath.basename(file))) continue;
      const stats = await fs.lstat(file).catch(() => undefined);
      if (!stats?.isFile() || stats.mtime >= before) continue;
      yield { path: driverPath(file), kind: 'staged data', size: stats.size, modTime: stats.mtime };
    }
  }

  return {
    async *list(stagingRoot, before) {
      for await (const found of tempFilesBefore(root, before)) {
        yield { path: driverPath(found.file), kind: 'temp file', size: found.size, modTime: found.modTime };
      }
      yield* stagedFiles(stagingRoot, before);
    },

    async remove(leftover) {
      checkLeftoverPath(leftover);
      await fs.rm(full(leftover.path), { force: true });
    },
  };
}

/** A temp file's name is a dot-file's, outside the path grammar; its directory is not. */
function checkLeftoverPath(leftover: Leftover): void {
  if (leftover.kind !== 'temp file') {
    assertValidPath(leftover.path);
    return;
  }
  const at = leftover.path.lastIndexOf('/');
  const name = leftover.path.slice(at + 1);
  assertValidPath(at === 0 ? '/' : leftover.path.slice(0, at));
  if (!isTempOrLock(name)) throw new InvalidPathError(leftover.path);
}
