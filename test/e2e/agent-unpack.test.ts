/**
 * Unpacking image layers on the real filesystem (as root): a multi-layer image with whiteouts,
 * an opaque directory, hardlinks, symlinks, a FIFO, devices, special modes, owners, mtimes and
 * xattrs unpacks to the same tree as `umoci unpack` makes, in gzip and (via skopeo) zstd form;
 * an image is unpacked once, and a wrong diff_id leaves nothing behind. Hostile layers are in
 * agent-unpack-hostile.test.ts.
 */
import assert from 'node:assert/strict';
import { access, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type UnpackProgress, unpackSnapshot } from '../../src/agent/unpack/index.js';
import { type TarSpec, tarArchive } from '../helpers/tar-writer.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { gnuTar, type ImageLayer, readImage, writeImage } from './helpers/layers.js';
import { runOk } from './helpers/run.js';
import { describeTree } from './helpers/tree.js';

const CAPABILITY = 'AQAAAgAgAAAAAAAAAAAAAAAAAAA='; // v2 security.capability: cap_net_raw+ep

// Layer 1: a base with every kind of entry. Times are set last, on everything.
const LAYER1 = `
chmod 0755 .
mkdir -p bin etc usr/lib opq/sub del del2 tmp data run dev
chmod 1777 tmp
printf 'root:x:0:0:root:/root:/bin/sh\\n' > etc/passwd
setfattr -n user.comment -v hello etc/passwd
setfattr -n user.bin -v 0sAAEC/wA9Cg== etc/passwd
printf suid > bin/suid && chmod 4755 bin/suid
printf sgid > bin/sgid && chmod 2755 bin/sgid
ln bin/suid bin/hard
printf cap > bin/cap && setfattr -n security.capability -v 0s${CAPABILITY} bin/cap
printf owned > data/owned && chown 1000:1000 data/owned data && chmod 0640 data/owned && chmod 0750 data
printf lib > usr/lib/libx.so.1 && ln -s libx.so.1 usr/lib/libx.so && ln -s usr/lib lib && ln -s /etc/passwd bin/abs
mkfifo -m 0620 run/fifo
mknod -m 0666 dev/null c 1 3 && mknod -m 0660 dev/loop9 b 7 9 && chown 0:6 dev/loop9
printf a > opq/a && printf b > opq/b && printf c > opq/sub/c
printf g > del/gone && printf k > del/keep && printf x > del2/x
printf f > etc/fileToDir && mkdir etc/dirToFile && printf i > etc/dirToFile/inner
setfattr -n user.dirattr -v d etc
find . -exec touch -h -d @1600000000 {} +
touch -h -d @1600000000.5 etc/passwd
`;

// Layer 2: deletes, replaces a directory opaquely, changes types, rewrites a hardlinked file.
const LAYER2 = `
chmod 0755 .
mkdir -p del opq bin etc/fileToDir data
printf 'new suid' > bin/suid && chmod 4711 bin/suid
printf 'not a link' > bin/abs
touch del/.wh.gone .wh.del2 opq/.wh..wh..opq
printf new > opq/new && printf early > opq/+early
printf inside > etc/fileToDir/inside
printf 'was a dir' > etc/dirToFile
chown 1000:1000 data && chmod 0700 data
find . -exec touch -h -d @1600100000 {} +
`;

// Layer 3: deletes a symlink, re-creates a deleted path, adds a device and a directory xattr.
const LAYER3 = `
chmod 0755 .
mkdir -p etc dev
touch .wh.lib
printf 'del2 again' > del2
mknod -m 0600 dev/zero c 1 5
printf x > etc/newfile
setfattr -n user.dirattr2 -v e etc
find . -exec touch -h -d @1600200000 {} +
`;

// Layer 4, written by the test's own writer: a hardlink to a lower layer's file, PAX long names.
const LAYER4: TarSpec[] = [
  { name: 'bin/', type: 'dir', mode: 0o755, mtime: 1_600_300_000 },
  { name: 'bin/hard2', type: 'hardlink', linkname: 'usr/lib/libx.so.1' },
  {
    name: `long/${'n'.repeat(150)}`,
    content: 'long name',
    mode: 0o600,
    uid: 1000,
    gid: 0,
    mtime: 1_600_300_000.25,
  },
  { name: 'long/', type: 'dir', mode: 0o711, mtime: 1_600_300_000 },
];

async function layerFromScript(dir: string, script: string): Promise<Buffer> {
  await mkdir(dir);
  await runOk('bash', ['-euc', script], { cwd: dir });
  return gnuTar(dir);
}

/**
 * umoci leaves the time of a directory in which it creates an unlisted parent (layer 4's `long/`
 * comes after its child) at "now"; we keep the time that directory had, as for every other
 * directory a layer changes without listing it. Here that directory is the root.
 */
function withoutRootMtime(tree: Record<string, string>): Record<string, string> {
  return { ...tree, '.': (tree['.'] ?? '').replace(/ mtime=\d+/, '') };
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

describe('agent unpack: fidelity against umoci', () => {
  let work: string;
  let gzipLayers: ImageLayer[];
  let umociTree: Record<string, string>;

  before(async () => {
    work = await tempDir('berth-unpack-');
    const tars = [
      await layerFromScript(path.join(work, 'l1'), LAYER1),
      await layerFromScript(path.join(work, 'l2'), LAYER2),
      await layerFromScript(path.join(work, 'l3'), LAYER3),
      tarArchive(LAYER4, { recordSize: 10240 }),
    ];
    gzipLayers = await writeImage(path.join(work, 'layout'), 'tag', tars, 'gzip');
    await runOk('umoci', [
      'unpack',
      '--image',
      `${path.join(work, 'layout')}:tag`,
      path.join(work, 'bundle'),
    ]);
    umociTree = withoutRootMtime(await describeTree(path.join(work, 'bundle', 'rootfs'), { xattrs: true }));
  });
  after(async () => {
    await removeDir(work);
  });

  it('unpacks gzip layers to the same tree as umoci', async () => {
    const progress: UnpackProgress[] = [];
    const { rootfs, warnings } = await unpackSnapshot({
      snapshotDir: path.join(work, 'snap-gzip'),
      layers: gzipLayers,
      onProgress: (event) => progress.push(event),
    });
    assert.deepEqual(warnings, []);
    const full = await describeTree(rootfs, { xattrs: true });
    // The root keeps the time of the last `./` entry (layer 3), though layer 4 added to it.
    assert.match(full['.'] ?? '', /^dir 755 0:0 mtime=1600200000000000000$/);
    const ours = withoutRootMtime(full);
    assert.deepEqual(ours, umociTree);
    // Spot checks, so an agreement on something wrong cannot pass unnoticed.
    assert.match(ours['bin/suid'] ?? '', /^file 4711 0:0 size=8 /);
    assert.match(ours['bin/hard'] ?? '', /^file 4755 0:0 size=4 /);
    assert.match(ours['bin/hard2'] ?? '', /links=bin\/hard2,usr\/lib\/libx\.so\.1/);
    assert.match(
      ours['bin/cap'] ?? '',
      new RegExp(`security.capability=0s${CAPABILITY.replace(/[+/=]/g, '\\$&')}`),
    );
    assert.match(
      ours['etc/passwd'] ?? '',
      /mtime=1600000000500000000 xattrs\{user.bin=0sAAEC\/wA9Cg==;user.comment=0saGVsbG8=\}/,
    );
    assert.match(ours.etc ?? '', /xattrs\{user.dirattr2=0sZQ==\}$/);
    assert.match(ours['dev/loop9'] ?? '', /^block 660 0:6 dev=7:9/);
    assert.match(ours['run/fifo'] ?? '', /^fifo 620 /);
    assert.match(ours.tmp ?? '', /^dir 1777 /);
    assert.match(ours['usr/lib/libx.so'] ?? '', /-> libx\.so\.1/);
    assert.deepEqual(
      Object.keys(ours).filter((name) => name.startsWith('opq')),
      ['opq', 'opq/+early', 'opq/new'],
    );
    assert.ok(!('del/gone' in ours) && 'del/keep' in ours && !('lib' in ours));
    const last = progress.filter((event) => event.done);
    assert.equal(last.length, 4);
    for (const [i, event] of last.entries()) {
      assert.equal(event.layer, i);
      assert.equal(event.compressedBytes, (await stat(gzipLayers[i]?.path as string)).size);
    }
  });

  it('unpacks the zstd form (skopeo) to the same tree', async () => {
    await runOk('skopeo', [
      'copy',
      '--dest-compress-format',
      'zstd',
      `oci:${path.join(work, 'layout')}:tag`,
      `oci:${path.join(work, 'layout-zstd')}:tag`,
    ]);
    const layers = await readImage(path.join(work, 'layout-zstd'), 'tag');
    assert.ok(
      layers.every((layer) => layer.mediaType.endsWith('+zstd')),
      JSON.stringify(layers),
    );
    const { rootfs, warnings } = await unpackSnapshot({ snapshotDir: path.join(work, 'snap-zstd'), layers });
    assert.deepEqual(warnings, []);
    assert.deepEqual(withoutRootMtime(await describeTree(rootfs, { xattrs: true })), umociTree);
  });

  it('lets concurrent unpacks of one snapshot agree, and replaces a crashed one', async () => {
    const snapshotDir = path.join(work, 'snap-race');
    const [first, second] = await Promise.all([
      unpackSnapshot({ snapshotDir, layers: gzipLayers }),
      unpackSnapshot({ snapshotDir, layers: gzipLayers }),
    ]);
    assert.equal(first.rootfs, second.rootfs);
    assert.deepEqual((await readdir(snapshotDir)).sort(), ['complete', 'rootfs']);
    assert.deepEqual(withoutRootMtime(await describeTree(first.rootfs, { xattrs: true })), umociTree);

    // A rootfs without `complete` is what a crash leaves: it is replaced, not trusted.
    const crashed = path.join(work, 'snap-crashed');
    await mkdir(path.join(crashed, 'rootfs', 'junk'), { recursive: true });
    const { rootfs } = await unpackSnapshot({ snapshotDir: crashed, layers: gzipLayers });
    assert.ok(!(await exists(path.join(rootfs, 'junk'))));
    assert.deepEqual((await readdir(crashed)).sort(), ['complete', 'rootfs']);
  });

  it('unpacks an image once, and leaves nothing behind when a diff_id is wrong', async () => {
    const snapshotDir = path.join(work, 'snap-gzip');
    const before = await describeTree(snapshotDir);
    const again = await unpackSnapshot({ snapshotDir, layers: [] });
    assert.equal(again.rootfs, path.join(snapshotDir, 'rootfs'));
    assert.deepEqual(await describeTree(snapshotDir), before);

    const wrongDir = path.join(work, 'snap-wrong');
    const layers = gzipLayers.map((layer, i) =>
      i === 2 ? { ...layer, diffId: `sha256:${'0'.repeat(64)}` } : layer,
    );
    await assert.rejects(unpackSnapshot({ snapshotDir: wrongDir, layers }), (error: Error) => {
      assert.match(error.message, /^layer 3 of 4 \(sha256:0{64}\): uncompressed content has digest sha256:/);
      return true;
    });
    assert.ok(!(await exists(wrongDir)), 'snapshot directory left behind');

    // An existing snapshot directory is kept, but nothing is left in it.
    await mkdir(wrongDir);
    await writeFile(path.join(wrongDir, 'keep'), '');
    await assert.rejects(unpackSnapshot({ snapshotDir: wrongDir, layers }), /layer 3 of 4/);
    assert.deepEqual(await readdir(wrongDir), ['keep']);
  });
});
