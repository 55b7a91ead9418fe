/**
 * Resolving layer paths inside a rootfs: `..`, absolute names, symlinks made by earlier entries
 * (absolute targets restart at the rootfs), loops, and a randomised check that no resolved path
 * ever leaves the rootfs or passes through a symlink.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cleanEntryName,
  isInside,
  resolveInRoot,
  SymlinkLoopError,
  splitEntryName,
} from '../../src/agent/unpack/paths.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

describe('entry names', () => {
  it('cleans names lexically, never above the root', () => {
    const cases: Array<[string, string]> = [
      ['a/b', 'a/b'],
      ['./a/b/', 'a/b'],
      ['/etc/x', 'etc/x'],
      ['../../x', 'x'],
      ['a/../../b', 'b'],
      ['a/./b/../c', 'a/c'],
      ['a//b', 'a/b'],
      ['./', ''],
      ['/', ''],
      ['..', ''],
      ['.wh..wh..opq', '.wh..wh..opq'],
      ['d/.wh...', 'd/.wh...'],
    ];
    for (const [name, clean] of cases) assert.equal(cleanEntryName(name), clean, name);
    assert.deepEqual(splitEntryName('a/b/c'), { parent: 'a/b', base: 'c' });
    assert.deepEqual(splitEntryName('c'), { parent: '', base: 'c' });
    assert.ok(
      isInside('/r', '/r') && isInside('/r', '/r/x') && !isInside('/r', '/rx') && !isInside('/r', '/'),
    );
  });
});

describe('resolveInRoot', () => {
  let work: string;
  let root: string;

  before(async () => {
    work = await tempDir('berth-paths-');
    root = path.join(work, 'rootfs');
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await mkdir(path.join(root, 'usr', 'lib'), { recursive: true });
    await writeFile(path.join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
    await symlink('/', path.join(root, 'escape'));
    await symlink('../../..', path.join(root, 'up'));
    await symlink('../../../../../../../etc', path.join(root, 'usr', 'etclink'));
    await symlink('usr/lib', path.join(root, 'lib'));
    await symlink('/usr/lib/../..', path.join(root, 'usr', 'lib', 'top'));
    await symlink('/tmp', path.join(root, 'hosttmp'));
    await symlink('loop2', path.join(root, 'loop1'));
    await symlink('loop1', path.join(root, 'loop2'));
    await symlink('self', path.join(root, 'self'));
    await symlink('/etc/passwd', path.join(root, 'pw'));
    await symlink('dangling-target/deeper', path.join(root, 'dangling'));
    // A chain of 45 links, each to the next: c0 -> c1 -> ... -> c44 -> etc
    for (let i = 0; i < 45; i++) await symlink(i === 44 ? '/etc' : `c${i + 1}`, path.join(root, `c${i}`));
  });
  after(async () => {
    await removeDir(work);
  });

  const at = (...parts: string[]): string => path.join(root, ...parts);

  it('keeps plain, absolute and dot-dot names inside', async () => {
    assert.equal(await resolveInRoot(root, 'etc/passwd'), at('etc', 'passwd'));
    assert.equal(await resolveInRoot(root, '/etc/x'), at('etc', 'x'));
    assert.equal(await resolveInRoot(root, '../../x'), at('x'));
    assert.equal(await resolveInRoot(root, 'etc/../../../x'), at('x'));
    assert.equal(await resolveInRoot(root, ''), root);
    assert.equal(await resolveInRoot(root, '/'), root);
    assert.equal(await resolveInRoot(root, '..'), root);
    assert.equal(await resolveInRoot(root, 'new/dir/file'), at('new', 'dir', 'file'));
  });

  it('follows symlinks as if the rootfs were /', async () => {
    assert.equal(await resolveInRoot(root, 'escape/etc/x'), at('etc', 'x'));
    assert.equal(await resolveInRoot(root, 'escape/escape/escape/tmp/pwned'), at('tmp', 'pwned'));
    assert.equal(await resolveInRoot(root, 'up/x'), at('x'));
    assert.equal(await resolveInRoot(root, 'up/up/etc/passwd'), at('etc', 'passwd'));
    assert.equal(await resolveInRoot(root, 'usr/etclink/shadow'), at('etc', 'shadow'));
    assert.equal(await resolveInRoot(root, 'lib/libc.so'), at('usr', 'lib', 'libc.so'));
    assert.equal(await resolveInRoot(root, 'lib/top/etc'), at('etc'));
    assert.equal(await resolveInRoot(root, 'hosttmp/sentinel'), at('tmp', 'sentinel'));
    assert.equal(await resolveInRoot(root, 'dangling/x'), at('dangling-target', 'deeper', 'x'));
    // `..` after a symlink is taken from where the link led, as the kernel would.
    assert.equal(await resolveInRoot(root, 'lib/../x'), at('usr', 'x'));
  });

  it('does not follow the last component unless asked', async () => {
    assert.equal(await resolveInRoot(root, 'escape', { followFinal: false }), at('escape'));
    assert.equal(await resolveInRoot(root, 'escape'), root);
    assert.equal(await resolveInRoot(root, 'pw', { followFinal: false }), at('pw'));
    assert.equal(await resolveInRoot(root, 'pw'), at('etc', 'passwd'));
    assert.equal(await resolveInRoot(root, 'escape/pw', { followFinal: false }), at('pw'));
    assert.equal(await resolveInRoot(root, 'loop1', { followFinal: false }), at('loop1'));
  });

  it('refuses symlink loops and over-long chains', async () => {
    await assert.rejects(resolveInRoot(root, 'loop1'), SymlinkLoopError);
    await assert.rejects(resolveInRoot(root, 'self/x'), SymlinkLoopError);
    await assert.rejects(resolveInRoot(root, 'c0/passwd'), SymlinkLoopError);
    assert.equal(await resolveInRoot(root, 'c10/passwd'), at('etc', 'passwd'));
    await assert.rejects(resolveInRoot(root, 'c10/passwd', { maxHops: 20 }), /too many levels/);
  });

  it('takes components under a regular file literally (the caller will get ENOTDIR)', async () => {
    assert.equal(await resolveInRoot(root, 'etc/passwd/x'), at('etc', 'passwd', 'x'));
  });

  it('remembers real directories and trusts them', async () => {
    const knownDirs = new Set<string>();
    await resolveInRoot(root, 'usr/lib/x', { knownDirs });
    assert.ok(knownDirs.has(at('usr')) && knownDirs.has(at('usr', 'lib')));
    assert.ok(!knownDirs.has(at('lib')));
  });

  it('never leaves the rootfs or passes through a symlink, for random link graphs', async () => {
    const fuzz = path.join(work, 'fuzz');
    await mkdir(fuzz);
    const names = ['a', 'b', 'c', 'd', '..', '.', 'etc', 'tmp'];
    // mulberry32: small, seeded, and good enough in its low bits for `% n`.
    let seed = 0x9e3779b9;
    const random = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const randomPath = (depth: number): string =>
      Array.from({ length: 1 + random(depth) }, () => names[random(names.length)]).join('/');
    // Directories and symlinks at random places; targets absolute, relative, upward.
    let links = 0;
    let dirs = 0;
    for (let i = 0; i < 5000 && (links < 40 || dirs < 15); i++) {
      const place = await resolveInRoot(fuzz, randomPath(3), { followFinal: false }).catch(() => fuzz);
      if (place === fuzz || (await lstat(place).catch(() => undefined))) continue;
      const parent = path.dirname(place);
      if (!(await lstat(parent).catch(() => undefined))?.isDirectory()) continue;
      if (random(2) === 0) {
        await mkdir(place);
        dirs++;
      } else {
        await symlink((random(2) ? '/' : '../'.repeat(random(4))) + randomPath(4), place);
        links++;
      }
    }
    assert.ok(links >= 20 && dirs >= 10, `only ${links} links and ${dirs} directories made`);
    let loops = 0;
    for (let i = 0; i < 400; i++) {
      const name = randomPath(6);
      const followFinal = random(2) === 0;
      let resolved: string;
      try {
        resolved = await resolveInRoot(fuzz, name, { followFinal });
      } catch (error) {
        assert.ok(error instanceof SymlinkLoopError, String(error));
        loops++;
        continue;
      }
      assert.ok(isInside(fuzz, resolved), `${name} -> ${resolved}`);
      const parts = path.relative(fuzz, resolved).split('/').filter(Boolean);
      for (let n = 1; n < parts.length + (followFinal ? 1 : 0); n++) {
        const stats = await lstat(path.join(fuzz, ...parts.slice(0, n))).catch(() => undefined);
        assert.ok(!stats?.isSymbolicLink(), `${name} -> ${resolved} passes through a symlink`);
      }
    }
    assert.ok(loops < 200, `${loops} of 400 names hit a loop`);
  });
});
