/**
 * Resolving layer paths inside a rootfs as if the rootfs were `/`.
 *
 * A layer is hostile until proven otherwise: an entry `escape -> /` followed by `escape/etc/x`,
 * or `../../x`, must never reach the host. Every path is therefore walked one component at a
 * time from the rootfs, looking at the real filesystem with lstat/readlink: a symlink made by an
 * earlier entry is followed by hand (an absolute target restarts at the rootfs, a relative one
 * continues from its directory) and `..` at the rootfs stays there. The host path that comes out
 * has no symlink in any existing component but possibly the last, so the kernel can be handed it
 * without following anything the layer made.
 *
 * That guarantee lasts only until the tree changes, which is fine here: one unpacker owns the
 * rootfs and resolves each entry right before applying it.
 */
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';

/** How to resolve a path. */
export interface ResolveOptions {
  /**
   * Follow a symlink in the last component (default true). False for operations on the name
   * itself: creating, replacing or removing it, or hardlinking to it.
   */
  followFinal?: boolean;
  /** Symlinks followed before giving up (default 40, Linux's limit). */
  maxHops?: number;
  /**
   * Host paths known to be real directories, to skip their lstat; directories met on the way
   * are added. The caller must clear it whenever it removes a directory.
   */
  knownDirs?: Set<string>;
}

/** A symlink chain is longer than the hop limit (a loop, or hostile). */
export class SymlinkLoopError extends Error {
  override name = 'SymlinkLoopError';
}

/**
 * The host path that `name` (absolute or relative, `..` allowed) reaches inside `root`, following
 * symlinks as a process chrooted to `root` would. `root` must be an absolute, symlink-free path.
 * Components that do not exist are taken literally.
 */
export async function resolveInRoot(
  root: string,
  name: string,
  options: ResolveOptions = {},
): Promise<string> {
  const followFinal = options.followFinal ?? true;
  const maxHops = options.maxHops ?? 40;
  const known = options.knownDirs;
  const resolved: string[] = [];
  // Still to walk, last element next; a followed symlink pushes its target's components here.
  const pending = components(name).reverse();
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.pop() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    if (pending.length === 0 && !followFinal) {
      resolved.push(part);
      break;
    }
    const candidate = hostPath(root, resolved, part);
    if (known?.has(candidate)) {
      resolved.push(part);
      continue;
    }
    const stats = await lstat(candidate).catch((error: NodeJS.ErrnoException) => {
      // Missing (or under a non-directory): nothing to follow; whatever uses the path will fail or
      // create it, under directories already checked.
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (stats?.isSymbolicLink()) {
      hops += 1;
      if (hops > maxHops) {
        throw new SymlinkLoopError(`too many levels of symbolic links resolving ${JSON.stringify(name)}`);
      }
      const target = await readlink(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      pending.push(...components(target).reverse());
      continue;
    }
    if (stats?.isDirectory()) known?.add(candidate);
    resolved.push(part);
  }
  return resolved.length === 0 ? root : hostPath(root, resolved.slice(0, -1), resolved.at(-1) as string);
}

/**
 * A tar entry name cleaned lexically as Go's archive tooling does (`/a/./b/../c` -> `a/c`,
 * leading `..` dropped at the root); the empty string names the root itself.
 */
export function cleanEntryName(name: string): string {
  return posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '');
}

/** The parent and last component of a cleaned, non-empty entry name. */
export function splitEntryName(clean: string): { parent: string; base: string } {
  const slash = clean.lastIndexOf('/');
  return slash === -1
    ? { parent: '', base: clean }
    : { parent: clean.slice(0, slash), base: clean.slice(slash + 1) };
}

/** True when `path` is `root` or lies under it (lexically). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}

function components(name: string): string[] {
  return name.split('/').filter((part) => part !== '' && part !== '.');
}

function hostPath(root: string, parents: string[], last: string): string {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return parents.length === 0 ? `${prefix}${last}` : `${prefix}${parents.join('/')}/${last}`;
}
