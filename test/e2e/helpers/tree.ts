/**
 * Describes a directory tree as plain text per path, so two unpacked rootfs trees (ours and
 * umoci's) or a sentinel directory before and after a hostile unpack compare with deepEqual.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import * as path from 'node:path';

/** What to leave out of a description. */
export interface TreeOptions {
  /** Leave out directory mtimes (umoci and the unpacker may disagree on some). */
  dirMtimes?: boolean;
  /** Include extended attributes (one getfattr run). */
  xattrs?: boolean;
}

/**
 * One line per path (relative, `.` for the root): type, mode, owner, size, content hash, link
 * target, device numbers, mtime in ns, the other names of a hardlinked file, and xattrs.
 */
export async function describeTree(root: string, options: TreeOptions = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const inodes = new Map<bigint, string[]>();
  const walk = async (relative: string): Promise<void> => {
    const full = relative === '.' ? root : path.join(root, relative);
    const stats = await lstat(full, { bigint: true });
    const mode = (Number(stats.mode) & 0o7777).toString(8);
    const parts = [typeOf(stats), mode, `${stats.uid}:${stats.gid}`];
    if (stats.isFile()) {
      parts.push(
        `size=${stats.size}`,
        `sha=${createHash('sha256')
          .update(await readFile(full))
          .digest('hex')
          .slice(0, 16)}`,
      );
      if (stats.nlink > 1n) inodes.set(stats.ino, [...(inodes.get(stats.ino) ?? []), relative]);
    }
    if (stats.isSymbolicLink()) parts.push(`-> ${await readlink(full)}`);
    if (stats.isCharacterDevice() || stats.isBlockDevice()) {
      const rdev = Number(stats.rdev);
      parts.push(`dev=${(rdev >> 8) & 0xfff}:${(rdev & 0xff) | ((rdev >> 12) & 0xfff00)}`);
    }
    if (!stats.isDirectory() || options.dirMtimes !== false) parts.push(`mtime=${stats.mtimeNs}`);
    out[relative] = parts.join(' ');
    if (stats.isDirectory()) {
      for (const name of (await readdir(full)).sort())
        await walk(relative === '.' ? name : `${relative}/${name}`);
    }
  };
  await walk('.');
  for (const names of inodes.values()) {
    for (const name of names) out[name] += ` links=${names.sort().join(',')}`;
  }
  if (options.xattrs) {
    for (const [name, attrs] of Object.entries(await xattrsOf(root))) {
      if (out[name] !== undefined) out[name] += ` xattrs{${attrs}}`;
    }
  }
  return out;
}

function typeOf(stats: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice()) return 'char';
  if (stats.isBlockDevice()) return 'block';
  return stats.isSocket() ? 'socket' : 'other';
}

/** Every xattr under `root` (symlinks not followed), by relative path, as `name=0sBASE64;...`. */
export function xattrsOf(root: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'getfattr',
      ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', root],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let text = '';
    // Bytes as latin1 so octal escapes and raw UTF-8 both turn back into the same bytes.
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (data: string) => {
      text += data;
    });
    child.once('error', reject);
    child.once('close', () => {
      const result: Record<string, string> = {};
      for (const block of text.split('\n\n')) {
        const lines = block.split('\n').filter(Boolean);
        const file = lines.shift();
        if (!file?.startsWith('# file: ')) continue;
        const name = path.relative(root, unquote(file.slice('# file: '.length))) || '.';
        result[name] = lines.sort().join(';');
      }
      resolve(result);
    });
  });
}

function unquote(text: string): string {
  return Buffer.from(
    text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))),
    'latin1',
  ).toString('utf8');
}
