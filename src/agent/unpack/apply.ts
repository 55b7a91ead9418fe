/**
 * Applies the entries of one layer, in order, to a rootfs being built.
 *
 * Each entry's parent is resolved inside the rootfs (paths.ts); the entry itself is then
 * created fresh: whatever was at its name is unlinked first (a directory is kept and updated),
 * so nothing is ever written through a symlink or into another hardlink's inode. Owners are set
 * before modes (chown clears setuid), modes are set explicitly (no umask), and directory times
 * are set when the layer ends, after their contents stopped changing.
 *
 * Like umoci, a directory this layer changes but does not list keeps the times it had below, and
 * whiteouts only remove what lower layers made (the OCI rule), never what this layer created.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  open as openCallback,
  openSync,
  writev as writevCallback,
  writevSync,
} from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, symlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { cleanEntryName, resolveInRoot, splitEntryName } from './paths.js';
import { makeNodes, type NodeSpec, removeXattrs } from './special.js';
import type { TarEntry, TarHeader } from './tar.js';
import { type LayerTree, layerTree } from './tree.js';

/** State that outlives one layer: the xattr names set on each path so far. */
export interface UnpackState {
  xattrNames: Map<string, Set<string>>;
}

/** Applies one layer's entries; `finish` must be called after the last one. */
export interface LayerApplier {
  apply(entry: TarEntry): Promise<void>;
  /** Makes pending nodes, sets xattrs and directory times. */
  finish(): Promise<void>;
}

const openFd = promisify(openCallback);
const writevFd = promisify(writevCallback);
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const WRITE_BATCH = 1024 * 1024;
const SMALL_FILE = 256 * 1024;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Starts a layer over `rootfs` (absolute, symlink-free). Problems that are not fatal go to `warnings`. */
export function layerApplier(rootfs: string, state: UnpackState, warnings: string[]): LayerApplier {
  const tree = layerTree(rootfs, state, warnings);
  let pendingNodes: Array<{ node: NodeSpec; header: TarHeader }> = [];

  const flushNodes = async (): Promise<void> => {
    if (pendingNodes.length === 0) return;
    const batch = pendingNodes;
    pendingNodes = [];
    const stderr = await makeNodes(batch.map(({ node }) => node));
    for (const { node, header } of batch) {
      const made = await lstat(node.path).catch(() => undefined);
      if (!made || made.isSymbolicLink()) {
        warnings.push(
          `${header.name}: could not create ${node.kind} node: ${stderr.trim() || 'unknown error'}`,
        );
        continue;
      }
      await setMetadata(node.path, header);
      tree.queueXattrs(node.path, header, made.ino);
    }
  };

  const applyDirectory = async (path: string, header: TarHeader): Promise<void> => {
    let existing = await mkdir(path, { mode: 0o700 }).then(
      () => undefined,
      async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
        return lstat(path);
      },
    );
    if (existing && !existing.isDirectory()) {
      await tree.remove(path, existing);
      await mkdir(path, { mode: 0o700 });
      existing = undefined;
    }
    tree.knownDirs.add(path);
    await setMetadata(path, header, true);
    tree.setDirTimes(path, header);
    const stale = existing
      ? [...(state.xattrNames.get(path) ?? [])].filter((n) => !header.xattrs.has(n))
      : [];
    if (stale.length > 0) {
      // A directory entry describes the whole directory: xattrs from below that it lacks go.
      warnings.push(...(await removeXattrs(path, stale)));
      for (const name of stale) state.xattrNames.get(path)?.delete(name);
    }
    if (header.xattrs.size > 0) tree.queueXattrs(path, header, (await lstat(path)).ino);
  };

  const applyFile = async (path: string, entry: TarEntry): Promise<void> => {
    const { header } = entry;
    // Most files in an image are small. Their bodies are gathered first and every call made
    // synchronously: a thread-pool round trip costs more than these calls, and on layers of
    // small files that halved the CPU time. Big bodies are streamed with asynchronous writes.
    const small = header.size <= SMALL_FILE ? await gather(entry.body, header) : undefined;
    const fd = await createExclusive(path, tree, small !== undefined);
    try {
      if (small) writeAllSync(fd, small);
      else await writeBody(fd, entry.body, header);
      fchownSync(fd, header.uid, header.gid);
      fchmodSync(fd, header.mode);
      futimesSync(fd, header.atime ?? header.mtime, header.mtime);
      if (header.xattrs.size > 0) tree.queueXattrs(path, header, fstatSync(fd).ino);
    } finally {
      closeSync(fd);
    }
  };

  const applySymlink = async (path: string, header: TarHeader): Promise<void> => {
    await retryAfterRemoving(path, tree, () => symlink(header.linkname, path));
    tree.symlinkMade();
    await lchown(path, header.uid, header.gid);
    await lutimes(path, header.atime ?? header.mtime, header.mtime);
    if (header.xattrs.size > 0) tree.queueXattrs(path, header, (await lstat(path)).ino);
  };

  const applyHardlink = async (path: string, header: TarHeader): Promise<void> => {
    const linkname = cleanEntryName(header.linkname);
    if (linkname === '') throw new Error(`${header.name}: hardlink to the root directory`);
    // Like the entry's own name, the target is resolved inside the rootfs, its last component
    // not followed: link(2) links a symlink itself, never what it points to.
    const target = await resolveInRoot(rootfs, linkname, { followFinal: false, knownDirs: tree.knownDirs });
    const stats = await lstat(target).catch(() => undefined);
    if (!stats)
      throw new Error(`${header.name}: hardlink target ${header.linkname} does not exist in the image`);
    if (stats.isDirectory())
      throw new Error(`${header.name}: hardlink target ${header.linkname} is a directory`);
    if (target === path) return;
    await retryAfterRemoving(path, tree, () => link(target, path));
  };

  return {
    async apply(entry) {
      const { header } = entry;
      const name = cleanEntryName(header.name);
      const isNode = header.type === 'char' || header.type === 'block' || header.type === 'fifo';
      if (!isNode) await flushNodes();
      if (name === '') {
        if (header.type !== 'directory')
          throw new Error(`${header.name}: refusing to replace the root directory`);
        await setMetadata(rootfs, header, true);
        tree.setDirTimes(rootfs, header);
        if (header.xattrs.size > 0) tree.queueXattrs(rootfs, header, (await lstat(rootfs)).ino);
        return;
      }
      const { parent, base } = splitEntryName(name);
      const dir = await resolveInRoot(rootfs, parent, { knownDirs: tree.knownDirs });
      if (base.startsWith(WHITEOUT)) {
        await whiteout(dir, base, header, tree, warnings);
        return;
      }
      if (header.type === 'unsupported') {
        warnings.push(`${header.name}: skipped entry of unsupported type '${header.typeflag}'`);
        return;
      }
      await tree.ensureDir(dir, header.name);
      const path = `${dir}/${base}`;
      switch (header.type) {
        case 'directory':
          await applyDirectory(path, header);
          break;
        case 'file':
          await applyFile(path, entry);
          break;
        case 'symlink':
          await applySymlink(path, header);
          break;
        case 'hardlink':
          await applyHardlink(path, header);
          break;
        default: {
          if (pendingNodes.some(({ node }) => node.path === path)) await flushNodes();
          const existing = await lstat(path).catch(() => undefined);
          if (existing) await tree.remove(path, existing);
          const kind = header.type as NodeSpec['kind'];
          pendingNodes.push({ node: { path, kind, major: header.devmajor, minor: header.devminor }, header });
        }
      }
      tree.touch(path);
    },
    async finish() {
      await flushNodes();
      await tree.finish();
    },
  };
}

async function whiteout(
  dir: string,
  base: string,
  header: TarHeader,
  tree: LayerTree,
  warnings: string[],
): Promise<void> {
  if (base === OPAQUE) {
    await tree.removeLower(dir, true);
    return;
  }
  const name = base.slice(WHITEOUT.length);
  if (name === '' || name === '.' || name === '..') {
    throw new Error(`${header.name}: invalid whiteout`);
  }
  // Other `.wh..wh.` names are AUFS bookkeeping (hardlink farms), not deletions.
  if (name.startsWith(WHITEOUT)) {
    warnings.push(`${header.name}: ignored AUFS metadata entry`);
    return;
  }
  await tree.removeLower(`${dir}/${name}`, false);
}

/** Owner, then mode (chown clears setuid/setgid), then times unless they wait for the layer's end. */
async function setMetadata(path: string, header: TarHeader, isDirectory = false): Promise<void> {
  await lchown(path, header.uid, header.gid);
  await chmod(path, header.mode);
  if (!isDirectory) await lutimes(path, header.atime ?? header.mtime, header.mtime);
}

/** Opens a new file at `path`, unlinking whatever was there: never writes through a link. */
async function createExclusive(path: string, tree: LayerTree, sync: boolean): Promise<number> {
  let fd = -1;
  await retryAfterRemoving(path, tree, async () => {
    fd = sync ? openSync(path, CREATE_FLAGS, 0o600) : await openFd(path, CREATE_FLAGS, 0o600);
  });
  return fd;
}

/** Runs `create`; if the name is taken, removes what is there and runs it once more. */
async function retryAfterRemoving(path: string, tree: LayerTree, create: () => Promise<void>): Promise<void> {
  try {
    await create();
  } catch (error) {
    // O_EXCL|O_NOFOLLOW on an existing symlink reports ELOOP on some kernels rather than EEXIST.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ELOOP') throw error;
    await tree.remove(path, await lstat(path));
    await create();
  }
}

/** The whole body of a small file, checked against its size. */
async function gather(body: AsyncIterable<Buffer>, header: TarHeader): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    parts.push(chunk);
    total += chunk.length;
  }
  if (total !== header.size) throw new Error(`${header.name}: read ${total} of ${header.size} bytes`);
  return parts;
}

function writeAllSync(fd: number, buffers: Buffer[]): void {
  let left = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
  let pending = buffers;
  while (left > 0) {
    const written = writevSync(fd, pending);
    left -= written;
    if (left > 0) pending = [Buffer.concat(pending).subarray(written)];
  }
}

async function writeBody(fd: number, body: AsyncIterable<Buffer>, header: TarHeader): Promise<void> {
  let batch: Buffer[] = [];
  let batched = 0;
  let written = 0;
  const flush = async (): Promise<void> => {
    let buffers = batch;
    let left = batched;
    while (left > 0) {
      const { bytesWritten } = await writevFd(fd, buffers);
      left -= bytesWritten;
      if (left > 0) buffers = [Buffer.concat(buffers).subarray(bytesWritten)];
    }
    written += batched;
    batch = [];
    batched = 0;
  };
  for await (const chunk of body) {
    batch.push(chunk);
    batched += chunk.length;
    if (batched >= WRITE_BATCH) await flush();
  }
  await flush();
  if (written !== header.size) throw new Error(`${header.name}: wrote ${written} of ${header.size} bytes`);
}
