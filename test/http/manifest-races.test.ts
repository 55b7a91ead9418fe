/**
 * A manifest DELETE racing a PUT of the same manifest under another tag, reproduced with a
 * driver that holds one of them at a chosen storage call while the other runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { checkedDriver } from '../../src/blobstore/checked.js';
import { orMissing } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { blobDataPath, layerLinkPath, revisionPath, tagPath } from '../../src/blobstore/layout.js';
import type { Digest } from '../../src/registry/digest.js';
import type { RepositoryName, Tag } from '../../src/registry/names.js';
import type { RunningServer } from '../../src/server.js';
import { startServerOver } from '../helpers/driver-server.js';
import { createGate, type FaultyDriver, faultyDriver } from '../helpers/faulty-driver.js';
import {
  imageManifest,
  jsonBlob,
  manifestDescriptor,
  OCI_MANIFEST,
  ociError,
  pushManifest,
} from '../helpers/oci.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

describe('manifest delete racing a push of the same manifest', () => {
  let root: string;
  let driver: FaultyDriver;
  let server: RunningServer;
  let url: string;

  before(async () => {
    root = await tempDir('berth-races-');
    driver = faultyDriver(checkedDriver(await createFilesystemDriver({ rootDirectory: root })));
    server = await startServerOver(driver);
    url = server.url;
  });
  after(async () => {
    driver.clear();
    await server.close(100);
    await removeDir(root);
  });

  /**
   * Pushes a subject image and, tagged `v1`, an artifact whose subject it is; returns the
   * artifact's bytes and digest (the manifest the races are about).
   */
  async function pushArtifact(name: string): Promise<{ body: Buffer; digest: Digest; subject: string }> {
    const config = jsonBlob({ architecture: 'amd64', os: 'linux', name });
    // Straight into storage: these tests are about manifests, not uploads.
    const configDigest = config.descriptor.digest as Digest;
    await driver.putContent(blobDataPath(configDigest), config.content);
    await driver.putContent(layerLinkPath(name as RepositoryName, configDigest), Buffer.alloc(0));
    const subjectBody = imageManifest({ config: config.descriptor, layers: [] });
    const subject = await pushManifest(url, name, 'base', subjectBody);
    const body = imageManifest({
      config: config.descriptor,
      layers: [],
      subject: manifestDescriptor(subjectBody),
      artifactType: 'application/vnd.example.sbom',
    });
    const digest = (await pushManifest(url, name, 'v1', body)) as Digest;
    return { body, digest, subject };
  }

  function putManifest(name: string, reference: string, body: Buffer) {
    return request(url)
      .put(`/v2/${name}/manifests/${reference}`)
      .set('Content-Type', OCI_MANIFEST)
      .send(body.toString('utf8'))
      .then((res) => res);
  }

  async function expectServed(name: string, tag: string, body: Buffer, subject: string, digest: Digest) {
    // Storage itself, not only this process's answers (which its cache could mask).
    const stored = await orMissing(driver.stat(revisionPath(name as RepositoryName, digest)), undefined);
    assert.ok(stored, 'the revision is in storage');
    const res = await request(url).get(`/v2/${name}/manifests/${tag}`).set('Accept', OCI_MANIFEST);
    assert.equal(res.status, 200, `${tag} answers: ${res.text}`);
    assert.equal(res.headers['docker-content-digest'], digest);
    assert.equal(res.text, body.toString('utf8'));
    const referrers = await request(url).get(`/v2/${name}/referrers/${subject}`).expect(200);
    const listed = (referrers.body as { manifests: Array<{ digest: string }> }).manifests;
    assert.deepEqual(
      listed.map((entry) => entry.digest),
      [digest],
      'the referrers entry is back',
    );
  }

  it('a push under a new tag while the delete waits to remove the revision: the new tag answers', async () => {
    const name = 'race/delete-held';
    const { body, digest, subject } = await pushArtifact(name);
    const gate = createGate();
    driver.inject({
      operation: 'delete',
      path: (path) => path === revisionPath(name as RepositoryName, digest),
      delay: gate.wait,
      times: 1,
    });
    const deleting = request(url)
      .delete(`/v2/${name}/manifests/${digest}`)
      .then((res) => res);
    await gate.reached;
    const pushed = await putManifest(name, 'v2', body);
    assert.equal(pushed.status, 201, pushed.text);
    gate.open();
    assert.equal((await deleting).status, 202);

    await expectServed(name, 'v2', body, subject, digest);
    const v1 = await request(url).get(`/v2/${name}/manifests/v1`).expect(404);
    assert.equal(ociError(v1.body).code, 'MANIFEST_UNKNOWN', 'the delete removed the tag it saw');
  });

  it('a push whose tag lands after the delete has finished writes the revision again', async () => {
    const name = 'race/push-held';
    const { body, digest, subject } = await pushArtifact(name);
    const gate = createGate();
    driver.inject({
      operation: 'putContent',
      path: (path) => path === tagPath(name as RepositoryName, 'v2' as Tag),
      delay: gate.wait,
      times: 1,
    });
    const pushing = putManifest(name, 'v2', body);
    await gate.reached;
    await request(url).delete(`/v2/${name}/manifests/${digest}`).expect(202);
    gate.open();
    const pushed = await pushing;
    assert.equal(pushed.status, 201, pushed.text);

    await expectServed(name, 'v2', body, subject, digest);
  });

  it('a delete failing at the revision leaves no tag pointing at a missing manifest, and can be retried', async () => {
    const name = 'race/delete-fails';
    const { body, digest } = await pushArtifact(name);
    driver.inject({
      operation: 'delete',
      path: (path) => path === revisionPath(name as RepositoryName, digest),
      error: new Error('storage went away'),
      times: 1,
    });
    await request(url).delete(`/v2/${name}/manifests/${digest}`).expect(500);
    const tag = await request(url).get(`/v2/${name}/manifests/v1`).expect(404);
    assert.equal(ociError(tag.body).code, 'MANIFEST_UNKNOWN');
    const byDigest = await request(url).get(`/v2/${name}/manifests/${digest}`).expect(200);
    assert.equal(byDigest.text, body.toString('utf8'));

    await request(url).delete(`/v2/${name}/manifests/${digest}`).expect(202);
    await request(url).get(`/v2/${name}/manifests/${digest}`).expect(404);
  });
});
