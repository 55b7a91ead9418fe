/**
 * Real-client matrix with containerd's ctr: an OCI image pushed into Berth with skopeo is
 * fetched and pulled by a private containerd daemon over plain HTTP, with and without
 * credentials; what containerd stored must match what was pushed, digest for digest.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BasicAuthProxy, basicAuthorization, startBasicAuthProxy } from './helpers/basic-auth-proxy.js';
import { type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { type Containerd, startContainerd } from './helpers/containerd.js';
import { type LayoutDescriptor, ociLayout, randomFile } from './helpers/oci-layout.js';
import { runOk } from './helpers/run.js';

interface Manifest {
  config: LayoutDescriptor;
  layers: LayoutDescriptor[];
}

/** `ctr images ls` as ref -> manifest digest (columns: REF TYPE DIGEST SIZE PLATFORMS LABELS). */
async function imageDigests(containerd: Containerd): Promise<Map<string, string>> {
  const lines = (await containerd.ctrOk(['images', 'ls'])).trim().split('\n').slice(1);
  return new Map(
    lines.map((line) => {
      const [ref, , digest] = line.split(/\s+/);
      return [ref as string, digest as string];
    }),
  );
}

async function contentDigests(containerd: Containerd): Promise<Set<string>> {
  return new Set((await containerd.ctrOk(['content', 'ls', '--quiet'])).trim().split('\n'));
}

describe('containerd (ctr) against Berth', () => {
  let berth: BerthProcess;
  let containerd: Containerd;
  let work: string;
  let image: LayoutDescriptor;
  let manifest: Manifest;
  // A second image whose blobs containerd has not stored yet, so its pull fetches them all.
  let other: LayoutDescriptor;

  before(async () => {
    [berth, containerd, work] = await Promise.all([
      startBerthProcess(),
      startContainerd(),
      tempDir('berth-containerd-'),
    ]);
    const layout = await ociLayout(path.join(work, 'source'));
    image = await layout.image([
      [randomFile('bin/tool', 200_000), randomFile('etc/config', 1000)],
      [randomFile('data/big', 1_000_000)],
      [randomFile('data/small', 10)],
    ]);
    other = await layout.image([[randomFile('other/a', 50_000)], [randomFile('other/b', 70_000)]]);
    await layout.finish([
      { name: 'v1', descriptor: image },
      { name: 'other', descriptor: other },
    ]);
    manifest = JSON.parse(
      await readFile(path.join(work, 'source', 'blobs', 'sha256', image.digest.slice(7)), 'utf8'),
    );
    for (const [source, target] of [
      ['v1', 'ctr/app:v1'],
      ['v1', 'ctr/pulled:v1'],
      ['v1', 'ctr/creds:v1'],
      ['other', 'ctr/proxied:v1'],
    ]) {
      await runOk('skopeo', [
        'copy',
        '--dest-tls-verify=false',
        `oci:${work}/source:${source}`,
        `docker://${berth.host}/${target}`,
      ]);
    }
  });
  after(async () => {
    // Each resource may be missing if before() failed part-way.
    await containerd?.stop();
    await berth?.close();
    if (work) await removeDir(work);
  });

  it('ctr content fetch stores the manifest, config and every layer under their digests', async () => {
    const ref = `${berth.host}/ctr/app:v1`;
    await containerd.ctrOk(['content', 'fetch', '--plain-http', ref]);
    assert.equal((await imageDigests(containerd)).get(ref), image.digest, 'ctr images ls names the manifest');
    const stored = await contentDigests(containerd);
    for (const blob of [image, manifest.config, ...manifest.layers]) {
      assert.ok(stored.has(blob.digest), `containerd stored ${blob.digest}`);
    }
    assert.equal(manifest.layers.length, 3);
    // check counts the config and layers, not the manifest; fetch alone unpacks nothing.
    const check = await containerd.ctrOk(['images', 'check']);
    assert.match(check, new RegExp(`${ref} .* complete \\(4/4\\) .* false`), 'ctr images check');
  });

  // Unpacking bind-mounts each snapshot (even with the native snapshotter), which only root
  // may do; fetching, which is all a registry test needs, works for any user.
  const unpackSkip = process.getuid?.() !== 0 && 'unpacking needs root (containerd mounts snapshots)';

  it('ctr images pull fetches and unpacks one snapshot per layer', { skip: unpackSkip }, async () => {
    const ref = `${berth.host}/ctr/pulled:v1`;
    const pulled = await containerd.pull(ref, { unpack: true });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, new RegExp(`unpacking linux/amd64 ${image.digest}`));
    assert.equal((await imageDigests(containerd)).get(ref), image.digest);
    const snapshots = (await containerd.ctrOk(['snapshots', 'ls'])).trim().split('\n').slice(1);
    assert.equal(snapshots.length, 3, 'three layers, three committed snapshots');
    for (const line of snapshots) assert.match(line, /Committed/);
  });

  it('pulls by digest', async () => {
    const ref = `${berth.host}/ctr/app@${image.digest}`;
    const fetched = await containerd.pull(ref);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal((await imageDigests(containerd)).get(ref), image.digest);
  });

  it('reports a missing tag as not found', async () => {
    const missing = await containerd.pull(`${berth.host}/ctr/app:nope`);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /not found/);
  });

  it('pulls with --user name:password from a registry that ignores credentials', async () => {
    const ref = `${berth.host}/ctr/creds:v1`;
    const pulled = await containerd.pull(ref, { user: { name: 'x', password: 'y' } });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal((await imageDigests(containerd)).get(ref), image.digest);
  });

  describe('behind a registry that challenges for Basic credentials', () => {
    let proxy: BasicAuthProxy;
    before(async () => {
      proxy = await startBasicAuthProxy(berth.host);
    });
    after(async () => {
      await proxy?.close();
    });

    it('fails without --user', async () => {
      const denied = await containerd.pull(`${proxy.host}/ctr/proxied:v1`);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /401 Unauthorized/);
      assert.deepEqual(proxy.authorizations, []);
    });

    it('sends --user name:password as Basic credentials on every request after the challenge', async () => {
      // ctr splits at the first colon, so a password may itself contain colons.
      const user = { name: 'alice', password: 'pa:ss word' };
      const pulled = await containerd.pull(`${proxy.host}/ctr/proxied:v1`, { user });
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal((await imageDigests(containerd)).get(`${proxy.host}/ctr/proxied:v1`), other.digest);
      // Manifest HEAD and GET, config and two layers: everything went through with credentials.
      assert.ok(proxy.authorizations.length >= 5, `ctr sent ${proxy.authorizations.length} requests`);
      for (const sent of proxy.authorizations)
        assert.equal(sent, basicAuthorization(user.name, user.password));
    });
  });
});
