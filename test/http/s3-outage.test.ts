/**
 * The S3 store going away mid-push: clients get 503 UNAVAILABLE, nothing half-written becomes
 * visible (no tag at a missing manifest, no session past its acknowledged bytes), and the same
 * push works once the store is back. Runs on s3rver in every suite run.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
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
    const storage = s3.storageConfig('outage') as { s3: Record<string, unknown> };
    storage.s3.chunksize = PART_SIZE;
    server = await startTestServer({ config: { storage } });
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

  it('a chunk whose body is arriving when the store stops is 503, and resent from the acknowledged offset it completes', async () => {
    const blob = randomBlob(8 * MIB);
    const location = await startUpload(server.url, 'outage/midpatch');
    await request(server.url)
      .patch(location)
      .set('Content-Range', `0-${MIB - 1}`)
      .send(blob.content.subarray(0, MIB))
      .expect(202);
    const seen = s3.requests.length;
    const chunk = streamingRequest(server.url, 'PATCH', location, {
      'Content-Range': `${MIB}-${blob.content.length - 1}`,
      'Content-Length': String(blob.content.length - MIB),
    });
    chunk.write(blob.content.subarray(MIB, MIB + PART_SIZE));
    await waitFor(() => s3.requests.slice(seen).some((r) => r.operation === 'UploadPart'), 60_000);
    await s3.stop();
    try {
      chunk.end(blob.content.subarray(MIB + PART_SIZE));
      const refused = await chunk.response;
      assert.equal(refused.status, 503);
      assert.equal(ociError(JSON.parse(refused.body)).code, 'UNAVAILABLE');
    } finally {
      await s3.start();
    }
    const status = await request(server.url).get(location).expect(204);
    assert.equal(status.headers.range, `0-${MIB - 1}`, 'only acknowledged bytes count');
    await request(server.url)
      .patch(location)
      .set('Content-Range', `${MIB}-${blob.content.length - 1}`)
      .send(blob.content.subarray(MIB))
      .expect(202);
    await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);
    await assertBlob(server.url, 'outage/midpatch', blob.content);
  });
});

async function startUpload(url: string, name: string): Promise<string> {
  const started = await request(url).post(`/v2/${name}/blobs/uploads/`).expect(202);
  return started.headers.location as string;
}

async function assertBlob(url: string, name: string, content: Buffer): Promise<void> {
  const pulled = await request(url)
    .get(`/v2/${name}/blobs/${sha256(content)}`)
    .buffer(true)
    .parse(binary)
    .expect(200);
  assert.ok(Buffer.compare(pulled.body as Buffer, content) === 0, 'the blob holds exactly the bytes pushed');
}

/** A request whose body the test sends piece by piece; `response` settles with the answer. */
interface StreamingRequest {
  write(bytes: Buffer): void;
  end(bytes: Buffer): void;
  response: Promise<{ status: number; body: string }>;
}

function streamingRequest(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): StreamingRequest {
  const req = httpRequest(`${url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/octet-stream', ...headers },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    let answered = false;
    // Once answered, the server may close the connection while the rest of the body is still
    // being written: that write failing is expected and not the outcome.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (data: Buffer) => chunks.push(data));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
  });
  return { write: (bytes) => req.write(bytes), end: (bytes) => req.end(bytes), response };
}
