/**
 * The S3 store going away mid-push, between requests or while a body streams into it (the
 * test stops s3rver once a part upload has begun), or failing the CompleteMultipartUpload
 * that publishes a blob: clients get 503 UNAVAILABLE, nothing half-written becomes visible
 * (no tag at a missing manifest, no blob, no session past its acknowledged bytes), and the
 * same push works once the store is back. Runs on s3rver in every suite run. A manifest PUT
 * whose writes fail one by one: s3-write-faults.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { streamingRequest } from '../helpers/http.js';
import {
  binary,
  imageManifest,
  jsonBlob,
  OCI_MANIFEST,
  ociError,
  pushBlob,
  randomBlob,
  sha256,
} from '../helpers/oci.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const MIB = 1024 * 1024;
/** S3's smallest part: a chunk of a few MiB already streams parts while its body arrives. */
const PART_SIZE = 5 * MIB;

describe('the S3 store stopped mid-push', () => {
  let s3: S3TestServer;
  let server: TestServer;
  before(async () => {
    s3 = await startS3Server({ conditional: true });
    server = await startTestServer({
      config: { storage: s3.storageConfig('outage', { chunksize: PART_SIZE }) },
    });
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

  /**
   * Sends `body` with a streaming request and stops the store once the first of its parts is
   * on its way to S3, then sends the rest; resolves with the answer, the store running again.
   */
  async function sendThroughOutage(
    method: string,
    path: string,
    body: Buffer,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string }> {
    const seen = s3.requests.length;
    const sending = streamingRequest(server.url, method, path, {
      ...headers,
      'Content-Length': String(body.length),
    });
    sending.write(body.subarray(0, PART_SIZE));
    await waitFor(() => s3.requests.slice(seen).some((r) => r.operation === 'UploadPart'), 60_000);
    await s3.stop();
    try {
      sending.end(body.subarray(PART_SIZE));
      const answer = await sending.response;
      return { status: answer.status, text: answer.body.toString('utf8') };
    } finally {
      await s3.start();
    }
  }

  it('a chunk whose body is arriving when the store stops is 503, and resent from the acknowledged offset it completes', async () => {
    const blob = randomBlob(8 * MIB);
    const location = await startUpload(server.url, 'outage/midpatch');
    await request(server.url)
      .patch(location)
      .set('Content-Range', `0-${MIB - 1}`)
      .send(blob.content.subarray(0, MIB))
      .expect(202);
    const rest = `${MIB}-${blob.content.length - 1}`;
    const refused = await sendThroughOutage('PATCH', location, blob.content.subarray(MIB), {
      'Content-Range': rest,
    });
    assertUnavailable(refused);
    const status = await request(server.url).get(location).expect(204);
    assert.equal(status.headers.range, `0-${MIB - 1}`, 'only acknowledged bytes count');
    await request(server.url)
      .patch(location)
      .set('Content-Range', rest)
      .send(blob.content.subarray(MIB))
      .expect(202);
    await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);
    await assertBlob(server.url, 'outage/midpatch', blob.content);
  });

  it('a monolithic PUT cut off by the store stopping is 503, no blob is visible, and the retry works', async () => {
    const blob = randomBlob(8 * MIB);
    const location = await startUpload(server.url, 'outage/midput');
    const refused = await sendThroughOutage(
      'PUT',
      `${location}?digest=${blob.descriptor.digest}`,
      blob.content,
    );
    assertUnavailable(refused);
    await assertNoBlob(server.url, 'outage/midput', blob.descriptor.digest);
    const status = await request(server.url).get(location).expect(204);
    assert.equal(status.headers.range, '0-0', 'the session holds nothing');
    await request(server.url)
      .put(`${location}?digest=${blob.descriptor.digest}`)
      .set('Content-Type', 'application/octet-stream')
      .send(blob.content)
      .expect(201);
    await assertBlob(server.url, 'outage/midput', blob.content);
  });

  it('a single-request push (POST ?digest=) cut off by the store stopping is 503, no blob is visible, and the retry works', async () => {
    const blob = randomBlob(8 * MIB);
    await assertNoBlob(server.url, 'outage/midpost', blob.descriptor.digest);
    const refused = await sendThroughOutage(
      'POST',
      `/v2/outage/midpost/blobs/uploads/?digest=${blob.descriptor.digest}`,
      blob.content,
    );
    assertUnavailable(refused);
    await assertNoBlob(server.url, 'outage/midpost', blob.descriptor.digest);
    await pushBlob(server.url, 'outage/midpost', blob.content);
    await assertBlob(server.url, 'outage/midpost', blob.content);
  });

  it('a failed CompleteMultipartUpload when a chunked upload is completed is 503, no blob is visible, and the PUT again works', async () => {
    const { blob, location, id } = await patchedSession('outage/complete');
    const undo = s3.inject({
      operation: 'CompleteMultipartUpload',
      status: 500,
      code: 'InternalError',
      times: 100,
    });
    try {
      const refused = await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`);
      assertUnavailable(refused);
    } finally {
      undo();
    }
    await assertNoBlob(server.url, 'outage/complete', blob.descriptor.digest);
    assert.equal((await uploadsOf(id)).length, 1, 'the session keeps its multipart upload');
    await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);
    await assertBlob(server.url, 'outage/complete', blob.content);
    assert.deepEqual(await uploadsOf(id), [], 'completing leaves no multipart upload behind');
  });

  it('a CompleteMultipartUpload whose answer is lost after S3 completed the upload still publishes the blob', async () => {
    const { blob, location, id } = await patchedSession('outage/lost-answer');
    const seen = s3.requests.length;
    s3.inject({ operation: 'CompleteMultipartUpload', status: 0, code: '', times: 1, answerLost: true });
    const completed = await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`);
    const completions = s3.requests.slice(seen).filter((r) => r.operation === 'CompleteMultipartUpload');
    assert.ok(completions.length > 1, 'the SDK asked again after the lost answer');
    assert.equal(completed.status, 201, completed.text);
    await assertBlob(server.url, 'outage/lost-answer', blob.content);
    assert.deepEqual(await uploadsOf(id), []);
  });

  /** A session holding one acknowledged 6 MiB chunk, so its bytes are in a multipart upload. */
  async function patchedSession(name: string) {
    const blob = randomBlob(6 * MIB);
    const location = await startUpload(server.url, name);
    await request(server.url)
      .patch(location)
      .set('Content-Range', `0-${blob.content.length - 1}`)
      .send(blob.content)
      .expect(202);
    return { blob, location, id: location.split('/').pop() as string };
  }

  async function uploadsOf(id: string): Promise<string[]> {
    return (await s3.incompleteUploads()).filter((key) => key.endsWith(id));
  }
});

async function startUpload(url: string, name: string): Promise<string> {
  const started = await request(url).post(`/v2/${name}/blobs/uploads/`).expect(202);
  return started.headers.location as string;
}

function assertUnavailable(answer: { status: number; text: string }): void {
  assert.equal(answer.status, 503, answer.text);
  assert.equal(ociError(JSON.parse(answer.text)).code, 'UNAVAILABLE');
}

async function assertNoBlob(url: string, name: string, digest: string): Promise<void> {
  await request(url).head(`/v2/${name}/blobs/${digest}`).expect(404);
  const got = await request(url).get(`/v2/${name}/blobs/${digest}`).expect(404);
  // NAME_UNKNOWN while nothing at all was pushed to the repository.
  assert.ok(['BLOB_UNKNOWN', 'NAME_UNKNOWN'].includes(ociError(got.body).code), got.text);
}

async function assertBlob(url: string, name: string, content: Buffer): Promise<void> {
  await request(url)
    .head(`/v2/${name}/blobs/${sha256(content)}`)
    .expect(200);
  const pulled = await request(url)
    .get(`/v2/${name}/blobs/${sha256(content)}`)
    .buffer(true)
    .parse(binary)
    .expect(200);
  assert.ok(Buffer.compare(pulled.body as Buffer, content) === 0, 'the blob holds exactly the bytes pushed');
}
