/**
 * Hostile layers against the unpacker on the real filesystem (as root): `..` and absolute names,
 * writes through symlinks made by earlier entries, hardlinks out of the rootfs, whiteouts aimed
 * outside. Each is refused or contained; sentinels beside the snapshot and in /tmp, /etc/passwd
 * and /tmp/pwned are compared before and after every case.
 */
import assert from 'node:assert/strict';
import { access, mkdir, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unpackSnapshot } from '../../src/agent/unpack/index.js';
import { type TarSpec, tarArchive } from '../helpers/tar-writer.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { digestOf } from './helpers/layers.js';
import { runOk } from './helpers/run.js';
import { describeTree } from './helpers/tree.js';

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

interface HostileCase {
  name: string;
  entries: (near: string, far: string) => TarSpec[];
  /** A regex the error must match, or a check of the contained result. */
  expect: RegExp | ((rootfs: string, far: string) => Promise<void>);
}

function read(file: string): Promise<string> {
  return readFile(file, 'utf8');
}

// `near` is the sentinel beside the snapshot (reached by `../../sentinel` from the rootfs being
// built); `far` is the /tmp sentinel's path without its leading slash.
const HOSTILE: HostileCase[] = [
  {
    name: 'dot-dot names',
    entries: () => [
      { name: '../../sentinel/pwned', content: 'pwned' },
      { name: '../../../../x', content: 'x' },
    ],
    expect: async (rootfs) => {
      assert.equal(await read(path.join(rootfs, 'sentinel', 'pwned')), 'pwned');
      assert.equal(await read(path.join(rootfs, 'x')), 'x');
    },
  },
  {
    name: 'absolute names',
    entries: (_near, far) => [{ name: `/${far}/pwned`, content: 'pwned' }],
    expect: async (rootfs, far) => assert.equal(await read(path.join(rootfs, far, 'pwned')), 'pwned'),
  },
  {
    name: 'a symlink to / followed by a write under it',
    entries: (_near, far) => [
      { name: 'escape', type: 'symlink', linkname: '/' },
      { name: `escape/${far}/pwned`, content: 'pwned' },
      { name: 'escape/tmp/pwned', content: 'pwned' },
      { name: `escape/${far}/dev`, type: 'char', devmajor: 1, devminor: 3 },
    ],
    expect: async (rootfs, far) => {
      assert.equal(await read(path.join(rootfs, far, 'pwned')), 'pwned');
      assert.equal(await read(path.join(rootfs, 'tmp', 'pwned')), 'pwned');
      assert.ok((await stat(path.join(rootfs, far, 'dev'))).isCharacterDevice());
    },
  },
  {
    name: 'symlinks upward (../../..) followed by writes',
    entries: () => [
      { name: 'up', type: 'symlink', linkname: '../../..' },
      { name: 'a/b/deep', type: 'symlink', linkname: '../../../../../../../../..' },
      { name: 'up/sentinel/pwned', content: 'pwned' },
      { name: 'a/b/deep/sentinel/also', content: 'also' },
    ],
    expect: async (rootfs) => {
      assert.equal(await read(path.join(rootfs, 'sentinel', 'pwned')), 'pwned');
      assert.equal(await read(path.join(rootfs, 'sentinel', 'also')), 'also');
    },
  },
  {
    name: 'a hardlink to /etc/passwd',
    entries: () => [{ name: 'pw', type: 'hardlink', linkname: '/etc/passwd' }],
    expect: /hardlink target \/etc\/passwd does not exist in the image/,
  },
  {
    name: 'a hardlink out through dot-dot and through a symlink',
    entries: () => [
      { name: 'escape', type: 'symlink', linkname: '/' },
      { name: 'etc/passwd', content: 'inside' },
      { name: 'viaLink', type: 'hardlink', linkname: 'escape/etc/passwd' },
      { name: 'viaDots', type: 'hardlink', linkname: '../../sentinel/secret' },
    ],
    expect: /viaDots: hardlink target \.\.\/\.\.\/sentinel\/secret does not exist/,
  },
  {
    name: 'a symlink, then a regular file written through it',
    entries: (_near, far) => [
      { name: 'target', type: 'symlink', linkname: `/${far}/secret` },
      { name: 'target', content: 'pwned' },
      { name: 'dirlink', type: 'symlink', linkname: `/${far}` },
      { name: 'dirlink/secret', content: 'pwned too' },
      { name: 'dirlink2', type: 'symlink', linkname: '../../sentinel' },
      { name: 'dirlink2', type: 'dir', mode: 0o777, uid: 1234 },
    ],
    expect: async (rootfs, far) => {
      assert.equal(await read(path.join(rootfs, 'target')), 'pwned');
      assert.equal(await read(path.join(rootfs, far, 'secret')), 'pwned too');
      assert.ok((await stat(path.join(rootfs, 'dirlink2'))).isDirectory());
    },
  },
  {
    name: 'a hardlink, then a regular file written over it',
    entries: () => [
      { name: 'a', content: 'original' },
      { name: 'b', type: 'hardlink', linkname: 'a' },
      { name: 'b', content: 'replaced' },
    ],
    expect: async (rootfs) => {
      assert.equal(await read(path.join(rootfs, 'a')), 'original');
      assert.equal(await read(path.join(rootfs, 'b')), 'replaced');
    },
  },
  {
    name: 'a whiteout of .. in a subdirectory',
    entries: () => [{ name: 'sub/x', content: 'x' }, { name: 'sub/.wh...' }],
    expect: /sub\/\.wh\.\.\.: invalid whiteout/,
  },
  {
    name: 'a whiteout of .. at the root (the directory holding the rootfs)',
    entries: () => [{ name: 'x', content: 'x' }, { name: '.wh...' }],
    expect: /invalid whiteout/,
  },
  {
    name: 'whiteouts and opaque markers through symlinks and dot-dot',
    entries: (_near, far) => [
      { name: 'escape', type: 'symlink', linkname: '/' },
      { name: `escape/${far}/.wh.secret` },
      { name: `escape/${far}/.wh..wh..opq` },
      { name: '../.wh.sentinel' },
      { name: 'up', type: 'symlink', linkname: '../..' },
      { name: 'up/.wh.sentinel' },
      { name: 'up/sentinel/.wh..wh..opq' },
    ],
    expect: async () => {},
  },
  {
    name: 'a directory replaced by a symlink after its times and xattrs were queued',
    entries: (_near, far): TarSpec[] => [
      { name: 'd/', type: 'dir', mode: 0o700, mtime: 1000 },
      { name: 'd/e/', type: 'dir', mode: 0o700, mtime: 1000, xattrs: { 'user.pwned': 'yes' } },
      { name: 'd', type: 'symlink', linkname: `/${far}` },
      { name: 'e/', type: 'dir', mode: 0o700, mtime: 1000, xattrs: { 'user.kept': 'yes' } },
    ],
    expect: async (rootfs, far) => {
      assert.equal(await readlink(path.join(rootfs, 'd')), `/${far}`);
      assert.match((await describeTree(rootfs, { xattrs: true })).e ?? '', /user.kept/);
    },
  },
  {
    name: 'a symlink loop',
    entries: () => [
      { name: 'l1', type: 'symlink', linkname: 'l2' },
      { name: 'l2', type: 'symlink', linkname: '/l1' },
      { name: 'l1/x', content: 'x' },
    ],
    expect: /too many levels of symbolic links/,
  },
  {
    name: 'replacing the root with a symlink',
    entries: () => [{ name: './', type: 'symlink', linkname: '/' }],
    expect: /refusing to replace the root directory/,
  },
];

describe('agent unpack: hostile layers', () => {
  let work: string;
  let near: string;
  let far: string;
  let outsideBefore: string;

  // Everything outside the rootfs that a hostile layer aims at.
  const outside = async (): Promise<string> => {
    const passwd = await stat('/etc/passwd', { bigint: true });
    return JSON.stringify({
      near: await describeTree(near, { xattrs: true }),
      far: await describeTree(far, { xattrs: true }),
      passwd: [passwd.nlink, passwd.size, passwd.mtimeNs, passwd.ino].map(String),
      tmpPwned: await exists('/tmp/pwned'),
      work: (await readdir(work)).sort(),
    });
  };

  before(async () => {
    work = await tempDir('berth-hostile-');
    near = path.join(work, 'sentinel');
    far = await tempDir('berth-sentinel-');
    for (const dir of [near, far]) {
      await mkdir(path.join(dir, 'e'), { recursive: true });
      await writeFile(path.join(dir, 'secret'), 'secret');
      await runOk('touch', ['-d', '@1500000000', path.join(dir, 'e'), path.join(dir, 'secret'), dir]);
    }
    await mkdir(path.join(work, 'layers'));
    await mkdir(path.join(work, 'snapshots'));
    outsideBefore = await outside();
  });
  after(async () => {
    await removeDir(work);
    await removeDir(far);
    // Only an unpacker that let `escape/tmp/pwned` through would have made it: clean up after it.
    if (!JSON.parse(outsideBefore).tmpPwned) await rm('/tmp/pwned', { force: true });
  });

  for (const [index, hostile] of HOSTILE.entries()) {
    it(`${hostile.name}: ${hostile.expect instanceof RegExp ? 'refused' : 'contained'}`, async () => {
      const farName = far.replace(/^\//, '');
      const tar = tarArchive(hostile.entries(near, farName));
      const layerPath = path.join(work, 'layers', `${index}.tar`);
      await writeFile(layerPath, tar);
      const snapshotDir = path.join(work, 'snapshots', String(index));
      const layers = [
        { path: layerPath, mediaType: 'application/vnd.oci.image.layer.v1.tar', diffId: digestOf(tar) },
      ];
      try {
        if (hostile.expect instanceof RegExp) {
          await assert.rejects(unpackSnapshot({ snapshotDir, layers }), hostile.expect);
          assert.ok(!(await exists(snapshotDir)), 'a failed unpack left its snapshot directory');
        } else {
          const { rootfs } = await unpackSnapshot({ snapshotDir, layers });
          await hostile.expect(rootfs, farName);
          assert.deepEqual((await readdir(snapshotDir)).sort(), ['complete', 'rootfs']);
        }
      } finally {
        assert.equal(await outside(), outsideBefore, 'something outside the rootfs changed');
      }
    });
  }
});
