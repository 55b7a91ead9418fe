/**
 * Real-client matrix with skopeo: an OCI image built here is copied into Berth and back out,
 * by tag and by digest, a multi-arch index with --all, concurrent pushes of shared layers,
 * tag listing and deletion.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { type LayoutDescriptor, ociLayout, randomFile } from './helpers/oci-layout.js';
import { run, runOk } from './helpers/run.js';

const TLS = ['--src-tls-verify=false', '--dest-tls-verify=false'];

async function blobsOf(layout: string): Promise<string[]> {
  return (await readdir(path.join(layout, 'blobs', 'sha256'))).sort();
}

async function indexOf(layout: string): Promise<{ manifests: LayoutDescriptor[] }> {
  return JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8'));
}

describe('skopeo against Berth', () => {
  let berth: BerthProcess;
  let work: string;
  let single: LayoutDescriptor;
  let multi: { index: LayoutDescriptor; amd64: LayoutDescriptor; arm64: LayoutDescriptor };

  before(async () => {
    berth = await startBerthProcess();
    work = await tempDir('berth-skopeo-');
    const layout = await ociLayout(path.join(work, 'source'));
    single = await layout.image([
      [randomFile('bin/tool', 300_000), randomFile('etc/config', 1000)],
      [randomFile('data/big', 2_000_000)],
      [randomFile('data/small', 10)],
    ]);
    const amd64 = await layout.image([[randomFile('arch', 5000)]], { architecture: 'amd64', os: 'linux' });
    const arm64 = await layout.image([[randomFile('arch', 6000)]], { architecture: 'arm64', os: 'linux' });
    const index = await layout.blob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [amd64, arm64],
        }),
      ),
      'application/vnd.oci.image.index.v1+json',
    );
    multi = { index, amd64, arm64 };
    await layout.finish([
      { name: 'single', descriptor: single },
      { name: 'multi', descriptor: index },
    ]);
  });
  after(async () => {
    await berth.close();
    await removeDir(work);
  });

  it('copies a multi-layer OCI image in and back out with identical digests', async () => {
    await runOk('skopeo', ['copy', ...TLS, `oci:${work}/source:single`, `docker://${berth.host}/e2e/app:v1`]);
    const raw = await runOk('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${berth.host}/e2e/app:v1`,
    ]);
    const source = await readFile(
      path.join(work, 'source', 'blobs', 'sha256', single.digest.slice(7)),
      'utf8',
    );
    assert.equal(raw, source, 'the registry serves the manifest byte for byte');

    await runOk('skopeo', ['copy', ...TLS, `docker://${berth.host}/e2e/app:v1`, `oci:${work}/back:v1`]);
    const back = await indexOf(path.join(work, 'back'));
    assert.equal(back.manifests[0]?.digest, single.digest);
    const sourceBlobs = new Set(await blobsOf(path.join(work, 'source')));
    for (const blob of await blobsOf(path.join(work, 'back')))
      assert.ok(sourceBlobs.has(blob), `blob ${blob} came back unchanged`);
    assert.equal((await blobsOf(path.join(work, 'back'))).length, 5, 'manifest, config and three layers');
  });

  it('pulls by digest', async () => {
    await runOk('skopeo', [
      'copy',
      ...TLS,
      `docker://${berth.host}/e2e/app@${single.digest}`,
      `oci:${work}/bydigest:x`,
    ]);
    assert.equal((await indexOf(path.join(work, 'bydigest'))).manifests[0]?.digest, single.digest);
  });

  it('copies a multi-arch index with --all and back', async () => {
    await runOk('skopeo', [
      'copy',
      '--all',
      ...TLS,
      `oci:${work}/source:multi`,
      `docker://${berth.host}/e2e/multi:latest`,
    ]);
    const raw = JSON.parse(
      await runOk('skopeo', [
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://${berth.host}/e2e/multi:latest`,
      ]),
    );
    assert.deepEqual(
      raw.manifests.map((m: LayoutDescriptor) => m.digest),
      [multi.amd64.digest, multi.arm64.digest],
    );
    await runOk('skopeo', [
      'copy',
      '--all',
      ...TLS,
      `docker://${berth.host}/e2e/multi:latest`,
      `oci:${work}/multiback:latest`,
    ]);
    assert.equal((await indexOf(path.join(work, 'multiback'))).manifests[0]?.digest, multi.index.digest);
    const arm = await runOk('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--override-arch',
      'arm64',
      `docker://${berth.host}/e2e/multi:latest`,
    ]);
    assert.equal(JSON.parse(arm).Architecture, 'arm64', 'platform selection resolves the arm64 child');
  });

  it('two clients pushing the same layers at the same time both succeed', async () => {
    const pushes = ['e2e/race-a', 'e2e/race-b', 'e2e/race-a'].map((repo, i) =>
      runOk('skopeo', ['copy', ...TLS, `oci:${work}/source:single`, `docker://${berth.host}/${repo}:t${i}`]),
    );
    await Promise.all(pushes);
    for (const [repo, tag] of [
      ['e2e/race-a', 't0'],
      ['e2e/race-b', 't1'],
      ['e2e/race-a', 't2'],
    ]) {
      const out = path.join(work, `race-${tag}`);
      await runOk('skopeo', ['copy', ...TLS, `docker://${berth.host}/${repo}:${tag}`, `oci:${out}:x`]);
      assert.equal((await indexOf(out)).manifests[0]?.digest, single.digest);
    }
  });

  it('lists tags and deletes an image', async () => {
    for (const tag of ['b', 'a', 'c']) {
      await runOk('skopeo', [
        'copy',
        ...TLS,
        `docker://${berth.host}/e2e/app:v1`,
        `docker://${berth.host}/e2e/tags:${tag}`,
      ]);
    }
    const listed = JSON.parse(
      await runOk('skopeo', ['list-tags', '--tls-verify=false', `docker://${berth.host}/e2e/tags`]),
    );
    assert.deepEqual(listed.Tags, ['a', 'b', 'c']);
    await runOk('skopeo', ['delete', '--tls-verify=false', `docker://${berth.host}/e2e/tags:a`]);
    const gone = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${berth.host}/e2e/tags:b`]);
    assert.notEqual(gone.code, 0, 'deleting by digest removed every tag of that manifest');
    assert.match(gone.stderr, /manifest unknown/i);
  });
});
