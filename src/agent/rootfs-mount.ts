/**
 * Each container's own writable root: an overlay of the image snapshot (read-only lower layer)
 * and the container's upper/ and work/ directories, mounted on containers/<id>/rootfs. Where
 * overlayfs is unavailable (or the paths cannot be written into its options) the snapshot is
 * copied instead. Either way writes land in the container's directory, never in the snapshot.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand, runCommandOk } from './command.js';

/** How a container's root was made. */
export type RootfsKind = 'overlay' | 'copy';

/** The rootfs, upper and work directories inside a container directory. */
export function rootfsPaths(containerDir: string) {
  return {
    rootfs: join(containerDir, 'rootfs'),
    upper: join(containerDir, 'upper'),
    work: join(containerDir, 'work'),
  };
}

/**
 * Makes `<containerDir>/rootfs` a writable view of `snapshotRootfs`: an overlay mount, or a
 * `cp -a` copy when the overlay cannot be mounted.
 */
export async function mountRootfs(snapshotRootfs: string, containerDir: string): Promise<RootfsKind> {
  const paths = rootfsPaths(containerDir);
  await mkdir(paths.rootfs, { recursive: true });
  // overlayfs splits its options on ',' and lowerdir lists on ':'; such paths cannot be given.
  const plain = [snapshotRootfs, paths.upper, paths.work].every((path) => !/[,:]/.test(path));
  if (plain) {
    await mkdir(paths.upper, { recursive: true });
    await mkdir(paths.work, { recursive: true });
    const options = `lowerdir=${snapshotRootfs},upperdir=${paths.upper},workdir=${paths.work}`;
    const result = await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', options, paths.rootfs]);
    if (result.code === 0) return 'overlay';
  }
  await runCommandOk('cp', ['-a', `${snapshotRootfs}/.`, `${paths.rootfs}/`]);
  return 'copy';
}

/**
 * Unmounts everything mounted at or below `containerDir` (deepest first), so removing the
 * directory afterwards can never reach through a mount into the snapshot or a host path.
 */
export async function unmountContainerDir(containerDir: string): Promise<void> {
  for (const target of await mountsUnder(containerDir)) {
    const result = await runCommand('umount', [target]);
    // A busy mount (a process still inside) is detached now and freed when it is let go.
    if (result.code !== 0) await runCommandOk('umount', ['-l', target]);
  }
  const left = await mountsUnder(containerDir);
  if (left.length > 0) throw new Error(`still mounted after umount: ${left.join(', ')}`);
}

/** Mount points at or below `dir` in this mount namespace, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const targets = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    .map(unescapeMountPath)
    .filter((target) => target === dir || target.startsWith(prefix));
  return [...new Set(targets)].sort((a, b) => b.length - a.length);
}

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
