/**
 * The S3 store going away mid-push: clients get 503 UNAVAILABLE, nothing half-written becomes
 * visible (no tag at a missing manifest, no session past its acknowledged bytes), and the same
 * push works once the store is back. Runs on s3rver in every suite run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { imageManifest, jsonBlob, OCI_MANIFEST, ociError, pushBlob, randomBlob } from '../helpers/oci.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('the S3 store stopped mid-push', () => {
  let s3: S3TestServer;
  let server: TestServer;
  before(async () => {
    s3 = await startS3Server({ conditional: true });
    server = await startTestServer({ config: { storage: s3.storageConfig('outage') } });
  });
  after(async () => {
    await server?.close();
    await s3?.dispose();
  });

  it('a chunk sent while the store is down is refused with 503 and the session resumes after', async () => {
    const blob = randomBlob(200_000);
    const started = await request(server.url).post('/v2/outage/app/blobs/uploads/').expect(202);
    const location = started.headers.location as string;
    await request(server.url)
      .patch(location)
      .set('Content-Range', '0-99999')
      .send(blob.content.subarray(0, 100_000))
      .expect(202);
    await s3.stop();
    try {
      const refused = await request(server.url)
        .patch(location)
        .set('Content-Range', '100000-199999')
        .send(blob.content.subarray(100_000));
      assert.equal(refused.status, 503);
      assert.equal(ociError(refused.body).code, 'UNAVAILABLE');
    } finally {
      await s3.start();
    }
    const status = await request(server.url).get(location).expect(204);
    assert.equal(status.headers.range, '0-99999', 'only acknowledged bytes count');
    await request(server.url)
      .patch(location)
      .set('Content-Range', '100000-199999')
      .send(blob.content.subarray(100_000))
      .expect(202);
    await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);
    const pulled = await request(server.url)
      .get(`/v2/outage/app/blobs/${blob.descriptor.digest}`)
      .expect(200);
    assert.equal(pulled.headers['content-length'], String(blob.content.length));
  });

  it('a manifest pushed while the store is down is 503, no tag points at it, and the retry works', async () => {
    const layer = randomBlob(1000);
    const config = jsonBlob({ architecture: 'amd64', os: 'linux' });
    await pushBlob(server.url, 'outage/image', layer.content);
    await pushBlob(server.url, 'outage/image', config.content);
    const body = imageManifest({ config: config.descriptor, layers: [layer.descriptor] });
    await s3.stop();
    try {
      const refused = await request(server.url)
        .put('/v2/outage/image/manifests/v1')
        .set('Content-Type', OCI_MANIFEST)
        .send(body.toString('utf8'));
      assert.equal(refused.status, 503);
      assert.equal(ociError(refused.body).code, 'UNAVAILABLE');
    } finally {
      await s3.start();
    }
    await request(server.url).get('/v2/outage/image/manifests/v1').expect(404);
    await request(server.url)
      .put('/v2/outage/image/manifests/v1')
      .set('Content-Type', OCI_MANIFEST)
      .send(body.toString('utf8'))
      .expect(201);
    const got = await request(server.url)
      .get('/v2/outage/image/manifests/v1')
      .set('Accept', OCI_MANIFEST)
      .expect(200);
    assert.equal(got.text, body.toString('utf8'));
  });
});
