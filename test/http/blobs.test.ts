import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { binary, ociError, pushBlob, randomBlob, sha256 } from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('blobs: GET, HEAD, ranges, DELETE', () => {
  let server: TestServer;
  const blob = randomBlob(10_000);
  before(async () => {
    server = await startTestServer();
    await pushBlob(server.url, 'lib/app', blob.content);
  });
  after(() => server.close());

  it('GET returns the bytes with digest, length and octet-stream type', async () => {
    const res = await request(server.url)
      .get(`/v2/lib/app/blobs/${blob.descriptor.digest}`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.deepEqual(res.body, blob.content);
    assert.equal(res.headers['docker-content-digest'], blob.descriptor.digest);
    assert.equal(res.headers['content-length'], '10000');
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['accept-ranges'], 'bytes');
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
  });

  it('HEAD answers length and digest without a body', async () => {
    const res = await request(server.url).head(`/v2/lib/app/blobs/${blob.descriptor.digest}`).expect(200);
    assert.equal(res.headers['content-length'], '10000');
    assert.equal(res.headers['docker-content-digest'], blob.descriptor.digest);
    assert.equal(res.text, undefined);
  });

  it('a Range request gets 206 with Content-Range and just those bytes', async () => {
    const res = await request(server.url)
      .get(`/v2/lib/app/blobs/${blob.descriptor.digest}`)
      .set('Range', 'bytes=100-199')
      .buffer(true)
      .parse(binary)
      .expect(206);
    assert.equal(res.headers['content-range'], 'bytes 100-199/10000');
    assert.equal(res.headers['content-length'], '100');
    assert.deepEqual(res.body, blob.content.subarray(100, 200));
  });

  it('open-ended and suffix ranges work', async () => {
    const tail = await request(server.url)
      .get(`/v2/lib/app/blobs/${blob.descriptor.digest}`)
      .set('Range', 'bytes=9990-')
      .buffer(true)
      .parse(binary)
      .expect(206);
    assert.deepEqual(tail.body, blob.content.subarray(9990));
    const suffix = await request(server.url)
      .get(`/v2/lib/app/blobs/${blob.descriptor.digest}`)
      .set('Range', 'bytes=-5')
      .buffer(true)
      .parse(binary)
      .expect(206);
    assert.equal(suffix.headers['content-range'], 'bytes 9995-9999/10000');
    assert.deepEqual(suffix.body, blob.content.subarray(9995));
  });

  it('an end beyond the blob is clamped to its last byte', async () => {
    const res = await request(server.url)
      .get(`/v2/lib/app/blobs/${blob.descriptor.digest}`)
      .set('Range', 'bytes=9000-20000')
      .buffer(true)
      .parse(binary)
      .expect(206);
    assert.equal(res.headers['content-range'], 'bytes 9000-9999/10000');
    assert.equal(res.body.length, 1000);
  });

  it('an unsatisfiable range gets 416 with Content-Range */size and an honest error body', async () => {
    const res = await request(server.url)
      .get(`/v2/lib/app/blobs/${blob.descriptor.digest}`)
      .set('Range', 'bytes=10000-10010')
      .expect(416);
    assert.equal(res.headers['content-range'], 'bytes */10000');
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.text));
    assert.equal(ociError(res.body).code, 'SIZE_INVALID');
  });

  it('a malformed or multi-range header is ignored and the whole blob is sent', async () => {
    for (const range of ['bytes=abc', 'bytes=0-1,5-9', 'items=0-5', 'bytes=9-3']) {
      const res = await request(server.url)
        .get(`/v2/lib/app/blobs/${blob.descriptor.digest}`)
        .set('Range', range)
        .buffer(true)
        .parse(binary)
        .expect(200);
      assert.equal(res.body.length, 10_000, range);
    }
  });

  it('If-Range with another validator sends the whole blob', async () => {
    const res = await request(server.url)
      .get(`/v2/lib/app/blobs/${blob.descriptor.digest}`)
      .set('Range', 'bytes=0-9')
      .set('If-Range', '"sha256:other"')
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.equal(res.body.length, 10_000);
  });

  it('an unknown blob is 404 BLOB_UNKNOWN; an unknown repository is 404 NAME_UNKNOWN', async () => {
    const missing = sha256('missing');
    const res = await request(server.url).get(`/v2/lib/app/blobs/${missing}`).expect(404);
    assert.equal(ociError(res.body).code, 'BLOB_UNKNOWN');
    const repo = await request(server.url).get(`/v2/nope/blobs/${missing}`).expect(404);
    assert.equal(ociError(repo.body).code, 'NAME_UNKNOWN');
    await request(server.url).head(`/v2/lib/app/blobs/${missing}`).expect(404);
  });

  it('a blob pushed to one repository is unknown in another', async () => {
    await pushBlob(server.url, 'other/repo', randomBlob(10).content);
    const res = await request(server.url).get(`/v2/other/repo/blobs/${blob.descriptor.digest}`).expect(404);
    assert.equal(ociError(res.body).code, 'BLOB_UNKNOWN');
  });

  it('malformed and unsupported digests are 400 DIGEST_INVALID', async () => {
    for (const digest of [
      'sha256:abc',
      `sha256:${'G'.repeat(64)}`,
      `md5:${'a'.repeat(32)}`,
      'nodigest:',
      `sha256:${'A'.repeat(64)}`,
    ]) {
      const res = await request(server.url).get(`/v2/lib/app/blobs/${digest}`).expect(400);
      assert.equal(ociError(res.body).code, 'DIGEST_INVALID', digest);
    }
  });

  it('DELETE unlinks the blob from one repository only', async () => {
    const shared = randomBlob(500);
    await pushBlob(server.url, 'del/one', shared.content);
    await pushBlob(server.url, 'del/two', shared.content);
    await request(server.url).delete(`/v2/del/one/blobs/${shared.descriptor.digest}`).expect(202);
    await request(server.url).head(`/v2/del/one/blobs/${shared.descriptor.digest}`).expect(404);
    await request(server.url).head(`/v2/del/two/blobs/${shared.descriptor.digest}`).expect(200);
    const again = await request(server.url)
      .delete(`/v2/del/one/blobs/${shared.descriptor.digest}`)
      .expect(404);
    assert.equal(ociError(again.body).code, 'BLOB_UNKNOWN');
  });

  it('an empty blob can be pushed and fetched', async () => {
    const empty = Buffer.alloc(0);
    const digest = await pushBlob(server.url, 'lib/app', empty);
    const res = await request(server.url)
      .get(`/v2/lib/app/blobs/${digest}`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers['content-length'], '0');
    await request(server.url).get(`/v2/lib/app/blobs/${digest}`).set('Range', 'bytes=0-').expect(416);
  });
});

describe('blobs with storage.delete.enabled: false', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ config: { storage: { delete: { enabled: false } } } });
  });
  after(() => server.close());

  it('DELETE is refused with 405 UNSUPPORTED and the blob stays', async () => {
    const blob = randomBlob(100);
    await pushBlob(server.url, 'keep/me', blob.content);
    const res = await request(server.url).delete(`/v2/keep/me/blobs/${blob.descriptor.digest}`).expect(405);
    assert.equal(ociError(res.body).code, 'UNSUPPORTED');
    await request(server.url).head(`/v2/keep/me/blobs/${blob.descriptor.digest}`).expect(200);
  });
});
