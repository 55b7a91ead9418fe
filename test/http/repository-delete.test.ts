/**
 * `DELETE /v2/<name>/_berth/repository`: everything the repository owns goes (tags, history,
 * manifests, referrers, layer links, upload sessions, its catalog entry), blob data and
 * nested repositories stay, and the name can be pushed to again. Runs on S3 as well under
 * `npm run test:s3`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { blobDataPath, repositoryPath } from '../../src/blobstore/layout.js';
import type { Digest } from '../../src/registry/digest.js';
import type { RepositoryName } from '../../src/registry/names.js';
import { basic, usersSection, writePolicy } from '../helpers/auth.js';
import {
  imageManifest,
  manifestDescriptor,
  ociError,
  pushImage,
  pushManifest,
  randomBlob,
} from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

describe('repository deletion', () => {
  let server: TestServer;
  let image: Awaited<ReturnType<typeof pushImage>>;
  let upload: string;
  let referrer: string;
  before(async () => {
    server = await startTestServer();
    image = await pushImage(server.url, 'rd/app', 'v1');
    await pushManifest(server.url, 'rd/app', 'v2', image.manifest);
    const artifact = imageManifest({
      config: image.config,
      layers: [],
      subject: manifestDescriptor(image.manifest),
    });
    referrer = await pushManifest(server.url, 'rd/app', 'sig', artifact);
    await pushImage(server.url, 'rd/app/nested', 'v1');
    upload = (await request(server.url).post('/v2/rd/app/blobs/uploads/').expect(202)).headers
      .location as string;
    await request(server.url)
      .patch(upload)
      .set('Content-Type', 'application/octet-stream')
      .send(randomBlob(10).content);
    await request(server.url).delete('/v2/rd/app/_berth/repository').expect(202);
  });
  after(() => server.close());

  it('leaves no tag, manifest, history, referrer, link or upload session of the repository', async () => {
    assert.equal(
      ociError((await request(server.url).get('/v2/rd/app/tags/list').expect(404)).body).code,
      'NAME_UNKNOWN',
    );
    await request(server.url).head('/v2/rd/app/manifests/v1').expect(404);
    await request(server.url).head(`/v2/rd/app/manifests/${image.digest}`).expect(404);
    await request(server.url).head(`/v2/rd/app/manifests/${referrer}`).expect(404);
    await request(server.url).head(`/v2/rd/app/blobs/${image.layer.digest}`).expect(404);
    await request(server.url).get('/v2/rd/app/_berth/tags/v1/history').expect(404);
    await request(server.url).get(upload).expect(404);
    const referrers = await request(server.url).get(`/v2/rd/app/referrers/${image.digest}`);
    assert.ok(referrers.status === 404 || referrers.body.manifests?.length === 0, referrers.text);
    // A walk, not a listing: s3rver leaves deeper prefixes out of delimited listings.
    const left: string[] = [];
    await server.driver.walk(repositoryPath('rd/app' as RepositoryName), (info) => {
      if (!info.isDir) left.push(info.path);
      return undefined;
    });
    assert.ok(left.length > 0);
    assert.deepEqual(
      left.filter((path) => !path.startsWith('/repositories/rd/app/nested/')),
      [],
      'only the nested repository is left in its directory',
    );
  });

  it('keeps blob data and nested repositories; the catalog lists only what is left', async () => {
    await server.driver.stat(blobDataPath(image.layer.digest as Digest));
    await request(server.url).get('/v2/rd/app/nested/manifests/v1').expect(200);
    const catalog = await request(server.url).get('/v2/_catalog').expect(200);
    assert.ok(catalog.body.repositories.includes('rd/app/nested'));
    assert.ok(!catalog.body.repositories.includes('rd/app'));
  });

  it('a second delete answers NAME_UNKNOWN; a push makes the name exist again, history fresh', async () => {
    const again = await request(server.url).delete('/v2/rd/app/_berth/repository').expect(404);
    assert.equal(ociError(again.body).code, 'NAME_UNKNOWN');
    const pushed = await pushImage(server.url, 'rd/app', 'v1');
    await request(server.url).get(`/v2/rd/app/blobs/${pushed.layer.digest}`).expect(200);
    const history = await request(server.url).get('/v2/rd/app/_berth/tags/v1/history').expect(200);
    assert.deepEqual(
      history.body.history.map((entry: { digest: string }) => entry.digest),
      [pushed.digest],
    );
    const catalog = await request(server.url).get('/v2/_catalog').expect(200);
    assert.ok(catalog.body.repositories.includes('rd/app'));
  });

  it('a push right after the delete uploads layers again instead of trusting a remembered link', async () => {
    const name = 'rd/cached';
    const first = await pushImage(server.url, name, 'v1');
    await request(server.url).head(`/v2/${name}/blobs/${first.layer.digest}`).expect(200);
    await request(server.url).delete(`/v2/${name}/_berth/repository`).expect(202);
    await request(server.url).head(`/v2/${name}/blobs/${first.layer.digest}`).expect(404);
    const res = await request(server.url)
      .put(`/v2/${name}/manifests/v1`)
      .set('Content-Type', 'application/vnd.oci.image.manifest.v1+json')
      .send(first.manifest.toString('utf8'))
      .expect(400);
    assert.equal(ociError(res.body).code, 'MANIFEST_BLOB_UNKNOWN');
  });
});

describe('repository deletion refusals', () => {
  it('answers 405 UNSUPPORTED when deletes are disabled, and deletes nothing', async () => {
    const server = await startTestServer({ config: { storage: { delete: { enabled: false } } } });
    try {
      await pushImage(server.url, 'rd/kept', 'v1');
      const res = await request(server.url).delete('/v2/rd/kept/_berth/repository').expect(405);
      assert.equal(ociError(res.body).code, 'UNSUPPORTED');
      await request(server.url).head('/v2/rd/kept/manifests/v1').expect(200);
    } finally {
      await server.close();
    }
  });

  it('needs the delete action on the repository', async () => {
    const dir = await tempDir('berth-rd-auth-');
    const policy = await writePolicy(
      dir,
      `${await usersSection(['alice', 'bob'])}repositories:\n  - match: "team/**"\n    users: { alice: ["*"], bob: [pull, push] }\n`,
    );
    const server = await startTestServer({ config: { auth: { mode: 'basic', policy } } });
    try {
      const alice = basic('alice', 'alice-password');
      await request(server.url).post('/v2/team/app/blobs/uploads/').set('Authorization', alice).expect(202);
      const bob = await request(server.url)
        .delete('/v2/team/app/_berth/repository')
        .set('Authorization', basic('bob', 'bob-password'))
        .expect(403);
      assert.equal(ociError(bob.body).code, 'DENIED');
      // alice may delete; the repository does not exist (an upload alone makes none).
      const res = await request(server.url)
        .delete('/v2/team/app/_berth/repository')
        .set('Authorization', alice);
      assert.equal(res.status, 404);
      assert.equal(ociError(res.body).code, 'NAME_UNKNOWN');
    } finally {
      await server.close();
      await removeDir(dir);
    }
  });
});
