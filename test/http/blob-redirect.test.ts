/**
 * `storage.s3.redirect`: blob downloads answer 307 to a presigned URL of the store, as ECR
 * does; the bytes then come from S3 itself. Runs on S3 in every suite run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { pushBlob, randomBlob } from '../helpers/oci.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('blob downloads redirected to the store', () => {
  let s3: S3TestServer;
  let server: TestServer;
  before(async () => {
    s3 = await startS3Server();
    server = await startTestServer({
      config: { storage: s3.storageConfig('redirects', { redirect: true }) },
    });
  });
  after(async () => {
    await server?.close();
    await s3?.dispose();
  });

  it('GET answers 307 to a URL that serves the bytes, ranges too; HEAD and misses stay local', async () => {
    const blob = randomBlob(300_000);
    await pushBlob(server.url, 'redirect/app', blob.content);
    const path = `/v2/redirect/app/blobs/${blob.descriptor.digest}`;
    const head = await request(server.url).head(path).expect(200);
    assert.equal(head.headers['content-length'], String(blob.content.length));

    const answer = await request(server.url).get(path).redirects(0).expect(307);
    const location = answer.headers.location as string;
    assert.match(location, /X-Amz-Signature=/, 'a presigned URL');
    const whole = await fetch(location);
    assert.equal(whole.status, 200);
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), blob.content);
    const part = await fetch(location, { headers: { Range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), blob.content.subarray(100, 200));

    await request(server.url).get(`/v2/other/app/blobs/${blob.descriptor.digest}`).redirects(0).expect(404);
  });
});
