/**
 * Real-client matrix with buildah: an image built from scratch with `buildah` (its own vfs
 * storage in a temp root) is pushed to Berth, then copied out with skopeo and compared.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { privateStorage, runOk } from './helpers/run.js';

describe('buildah against Berth', () => {
  let berth: BerthProcess;
  let work: string;
  let buildah: (...args: string[]) => Promise<string>;

  before(async () => {
    berth = await startBerthProcess();
    work = await tempDir('berth-buildah-');
    const storage = privateStorage(work);
    buildah = (...args: string[]) => runOk('buildah', [...storage, ...args]);
  });
  after(async () => {
    await berth.close();
    await removeDir(work);
  });

  it('buildah push of an image built from scratch, pulled back intact', async () => {
    await writeFile(path.join(work, 'hello.txt'), 'hello from buildah\n');
    const container = (await buildah('from', 'scratch')).trim();
    await buildah('copy', container, path.join(work, 'hello.txt'), '/hello.txt');
    await buildah('config', '--cmd', '/hello.txt', container);
    await buildah('commit', '--format', 'oci', container, 'localhost/built:1');
    const pushedDigest = path.join(work, 'digest');
    await buildah(
      'push',
      '--tls-verify=false',
      '--digestfile',
      pushedDigest,
      'localhost/built:1',
      `docker://${berth.host}/built/app:1`,
    );
    const inspected = JSON.parse(
      await runOk('skopeo', ['inspect', '--tls-verify=false', `docker://${berth.host}/built/app:1`]),
    );
    assert.equal(inspected.Digest, (await readFile(pushedDigest, 'utf8')).trim());
    assert.equal(inspected.Layers.length, 1);
    await runOk('skopeo', [
      'copy',
      '--src-tls-verify=false',
      `docker://${berth.host}/built/app:1`,
      `oci:${work}/out:1`,
    ]);
  });
});
