/**
 * Real-client matrix with podman: pull an image from Berth into podman's own storage (vfs,
 * in a temp root) and push it back to another repository; digests must match.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { type LayoutDescriptor, ociLayout, randomFile } from './helpers/oci-layout.js';
import { privateStorage, runOk } from './helpers/run.js';

describe('podman against Berth', () => {
  let berth: BerthProcess;
  let work: string;
  let image: LayoutDescriptor;
  let podman: (...args: string[]) => Promise<string>;

  before(async () => {
    berth = await startBerthProcess();
    work = await tempDir('berth-podman-');
    const layout = await ociLayout(path.join(work, 'source'));
    image = await layout.image([[randomFile('hello', 100_000)], [randomFile('world', 200_000)]]);
    await layout.finish([{ name: 'v1', descriptor: image }]);
    await runOk('skopeo', [
      'copy',
      '--dest-tls-verify=false',
      `oci:${work}/source:v1`,
      `docker://${berth.host}/pod/source:v1`,
    ]);
    const storage = privateStorage(work);
    podman = (...args: string[]) => runOk('podman', [...storage, '--events-backend', 'file', ...args]);
  });
  after(async () => {
    await berth.close();
    await removeDir(work);
  });

  it('podman pull from Berth, then podman push to another repository, keeps the image intact', async () => {
    await podman('pull', '--tls-verify=false', `${berth.host}/pod/source:v1`);
    const images = await podman('images', '--format', '{{.Repository}}:{{.Tag}}');
    assert.match(images, new RegExp(`${berth.host}/pod/source:v1`));
    await podman(
      'push',
      '--tls-verify=false',
      `${berth.host}/pod/source:v1`,
      `docker://${berth.host}/pod/pushed:v2`,
    );
    const pushed = JSON.parse(
      await runOk('skopeo', ['inspect', '--tls-verify=false', `docker://${berth.host}/pod/pushed:v2`]),
    );
    const original = JSON.parse(
      await runOk('skopeo', ['inspect', '--tls-verify=false', `docker://${berth.host}/pod/source:v1`]),
    );
    assert.equal(pushed.Layers.length, 2);
    assert.deepEqual(pushed.Layers, original.Layers, 'the same layer blobs came back');
    await podman('pull', '--tls-verify=false', `${berth.host}/pod/pushed:v2`);
  });

  it('podman pull by digest', async () => {
    await podman('pull', '--tls-verify=false', `${berth.host}/pod/source@${image.digest}`);
  });
});
