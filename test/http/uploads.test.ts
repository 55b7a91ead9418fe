import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { orMissing } from '../../src/blobstore/driver.js';
import { uploadsPath } from '../../src/blobstore/layout.js';
import type { RepositoryName } from '../../src/registry/names.js';
import { sendAndDisconnect, sendChunked } from '../helpers/http.js';
import { binary, ociError, pushBlob, randomBlob, sha256, sha512 } from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

async function startSession(url: string, name: string): Promise<string> {
  const res = await request(url).post(`/v2/${name}/blobs/uploads/`).expect(202);
  return res.headers.location as string;
}

/** PATCHes `bytes` as the chunk that starts at `start`, expecting 202. */
function patchChunk(url: string, location: string, start: number, bytes: Buffer) {
  return request(url)
    .patch(location)
    .set('Content-Range', `${start}-${start + bytes.length - 1}`)
    .set('Content-Type', 'application/octet-stream')
    .send(bytes)
    .expect(202);
}

/** The upload sessions storage holds for a repository, asked of the driver. */
async function uploadDirs(server: TestServer, name: string): Promise<string[]> {
  return orMissing(server.driver.list(uploadsPath(name as RepositoryName)), []);
}

describe('blob uploads', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('POST opens a session: 202, Location, Range 0-0, Docker-Upload-UUID', async () => {
    const res = await request(server.url).post('/v2/up/a/blobs/uploads/').expect(202);
    const uuid = res.headers['docker-upload-uuid'] as string;
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.location, `/v2/up/a/blobs/uploads/${uuid}`);
    assert.equal(res.headers.range, '0-0');
    assert.equal(res.headers['content-length'], '0');
    const status = await request(server.url)
      .get(res.headers.location as string)
      .expect(204);
    assert.equal(status.headers.range, '0-0');
    assert.equal(status.headers['docker-upload-uuid'], uuid);
  });

  it('POST without the trailing slash works too', async () => {
    await request(server.url).post('/v2/up/a/blobs/uploads').expect(202);
  });

  it('streamed PATCH then PUT ?digest publishes the blob and removes the session', async () => {
    const blob = randomBlob(70_000);
    const location = await startSession(server.url, 'up/stream');
    const patch = await request(server.url)
      .patch(location)
      .set('Content-Type', 'application/octet-stream')
      .send(blob.content)
      .expect(202);
    assert.equal(patch.headers.range, '0-69999');
    const put = await request(server.url)
      .put(`${patch.headers.location}?digest=${blob.descriptor.digest}`)
      .expect(201);
    assert.equal(put.headers.location, `/v2/up/stream/blobs/${blob.descriptor.digest}`);
    assert.equal(put.headers['docker-content-digest'], blob.descriptor.digest);
    const res = await request(server.url)
      .get(put.headers.location as string)
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.deepEqual(res.body, blob.content);
    assert.deepEqual(await uploadDirs(server, 'up/stream'), []);
    const gone = await request(server.url).get(location).expect(404);
    assert.equal(ociError(gone.body).code, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('chunks with Content-Range in order, status from any earlier location, final chunk in the PUT', async () => {
    const blob = randomBlob(30_000);
    const first = await startSession(server.url, 'up/chunks');
    const one = await request(server.url)
      .patch(first)
      .set('Content-Range', '0-9999')
      .set('Content-Type', 'application/octet-stream')
      .send(blob.content.subarray(0, 10_000))
      .expect(202);
    assert.equal(one.headers.range, '0-9999');
    const two = await request(server.url)
      .patch(one.headers.location as string)
      .set('Content-Range', '10000-19999')
      .set('Content-Type', 'application/octet-stream')
      .send(blob.content.subarray(10_000, 20_000))
      .expect(202);
    assert.equal(two.headers.range, '0-19999');
    for (const earlier of [first, one.headers.location, two.headers.location]) {
      const status = await request(server.url)
        .get(earlier as string)
        .expect(204);
      assert.equal(status.headers.range, '0-19999');
    }
    await request(server.url)
      .put(`${two.headers.location}?digest=${blob.descriptor.digest}`)
      .set('Content-Range', '20000-29999')
      .set('Content-Type', 'application/octet-stream')
      .send(blob.content.subarray(20_000))
      .expect(201);
    const res = await request(server.url)
      .get(`/v2/up/chunks/blobs/${blob.descriptor.digest}`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.deepEqual(res.body, blob.content);
  });

  it('out-of-order, gapped and resent chunks get 416 with the current Range and change nothing', async () => {
    const blob = randomBlob(300);
    const location = await startSession(server.url, 'up/order');
    const outOfOrder = await request(server.url)
      .patch(location)
      .set('Content-Range', '100-199')
      .send(blob.content.subarray(100, 200))
      .expect(416);
    assert.equal(outOfOrder.headers.range, '0-0');
    assert.equal(outOfOrder.headers.location, location);
    assert.equal(ociError(outOfOrder.body).code, 'BLOB_UPLOAD_INVALID');
    await request(server.url)
      .patch(location)
      .set('Content-Range', '0-99')
      .send(blob.content.subarray(0, 100))
      .expect(202);
    const resent = await request(server.url)
      .patch(location)
      .set('Content-Range', '0-99')
      .send(blob.content.subarray(0, 100))
      .expect(416);
    assert.equal(resent.headers.range, '0-99');
    const gap = await request(server.url)
      .patch(location)
      .set('Content-Range', '150-299')
      .send(blob.content.subarray(150))
      .expect(416);
    assert.equal(gap.headers.range, '0-99');
    await request(server.url)
      .patch(location)
      .set('Content-Range', '100-299')
      .send(blob.content.subarray(100))
      .expect(202);
    await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);
  });

  it('a Content-Length that disagrees with Content-Range is 400, a malformed Content-Range is 400', async () => {
    const location = await startSession(server.url, 'up/bad');
    const res = await request(server.url)
      .patch(location)
      .set('Content-Range', '0-99')
      .send(Buffer.alloc(50))
      .expect(400);
    assert.equal(ociError(res.body).code, 'BLOB_UPLOAD_INVALID');
    const malformed = await request(server.url)
      .patch(location)
      .set('Content-Range', 'bogus')
      .send(Buffer.alloc(5))
      .expect(400);
    assert.equal(ociError(malformed.body).code, 'BLOB_UPLOAD_INVALID');
    const status = await request(server.url).get(location).expect(204);
    assert.equal(status.headers.range, '0-0');
  });

  it('a chunk shorter or longer than its Content-Range is 400 and leaves the session as it was', async () => {
    const blob = randomBlob(10);
    const location = await startSession(server.url, 'up/rejected');
    await patchChunk(server.url, location, 0, blob.content.subarray(0, 5));
    for (const body of [blob.content.subarray(5, 8), Buffer.alloc(9)]) {
      const res = await sendChunked(server.url, 'PATCH', location, [body], { 'Content-Range': '5-9' });
      assert.equal(res.status, 400);
      assert.equal(ociError(JSON.parse(res.body.toString())).code, 'BLOB_UPLOAD_INVALID');
      assert.equal(res.headers.range, '0-4');
      const status = await request(server.url).get(location).expect(204);
      assert.equal(status.headers.range, '0-4', 'the rejected bytes were not appended');
    }
    await sendChunked(server.url, 'PATCH', location, [blob.content.subarray(5)], { 'Content-Range': '5-9' });
    await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);
  });

  it('accepts chunked transfer encoding for PATCH and PUT bodies', async () => {
    const blob = randomBlob(50_000);
    const location = await startSession(server.url, 'up/te');
    const patch = await sendChunked(server.url, 'PATCH', location, [
      blob.content.subarray(0, 10_000),
      blob.content.subarray(10_000, 25_000),
    ]);
    assert.equal(patch.status, 202);
    assert.equal(patch.headers.range, '0-24999');
    const put = await sendChunked(server.url, 'PUT', `${location}?digest=${blob.descriptor.digest}`, [
      blob.content.subarray(25_000),
    ]);
    assert.equal(put.status, 201);
    await request(server.url).head(`/v2/up/te/blobs/${blob.descriptor.digest}`).expect(200);
  });

  it('POST then a monolithic PUT with the whole body', async () => {
    const blob = randomBlob(5000);
    const location = await startSession(server.url, 'up/mono');
    await request(server.url)
      .put(`${location}?digest=${blob.descriptor.digest}`)
      .set('Content-Type', 'application/octet-stream')
      .send(blob.content)
      .expect(201);
    await request(server.url).head(`/v2/up/mono/blobs/${blob.descriptor.digest}`).expect(200);
  });

  it('a single POST ?digest= stores the blob (201) and leaves no session behind', async () => {
    const blob = randomBlob(4096);
    const res = await request(server.url)
      .post(`/v2/up/single/blobs/uploads/?digest=${blob.descriptor.digest}`)
      .set('Content-Type', 'application/octet-stream')
      .send(blob.content)
      .expect(201);
    assert.equal(res.headers.location, `/v2/up/single/blobs/${blob.descriptor.digest}`);
    assert.deepEqual(await uploadDirs(server, 'up/single'), []);
  });

  it('a digest mismatch is 400 DIGEST_INVALID and stores nothing', async () => {
    const blob = randomBlob(1000);
    const wrong = sha256('something else');
    const location = await startSession(server.url, 'up/mismatch');
    await request(server.url).patch(location).send(blob.content).expect(202);
    const res = await request(server.url).put(`${location}?digest=${wrong}`).expect(400);
    assert.equal(ociError(res.body).code, 'DIGEST_INVALID');
    await request(server.url).head(`/v2/up/mismatch/blobs/${wrong}`).expect(404);
    await request(server.url).head(`/v2/up/mismatch/blobs/${blob.descriptor.digest}`).expect(404);
    // The session keeps its data: the client may still finish it with the right digest.
    await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);

    const single = await request(server.url)
      .post(`/v2/up/mismatch2/blobs/uploads/?digest=${wrong}`)
      .send(blob.content)
      .expect(400);
    assert.equal(ociError(single.body).code, 'DIGEST_INVALID');
    assert.deepEqual(await uploadDirs(server, 'up/mismatch2'), []);
    await request(server.url).head(`/v2/up/mismatch2/blobs/${wrong}`).expect(404);
  });

  it('sha512 digests work for upload and download', async () => {
    const blob = randomBlob(3000);
    const digest = sha512(blob.content);
    const location = await startSession(server.url, 'up/sha512');
    await request(server.url).patch(location).send(blob.content).expect(202);
    await request(server.url).put(`${location}?digest=${digest}`).expect(201);
    const res = await request(server.url)
      .get(`/v2/up/sha512/blobs/${digest}`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.deepEqual(res.body, blob.content);
    assert.equal(res.headers['docker-content-digest'], digest);
  });

  it('PUT without a digest is 400 DIGEST_INVALID', async () => {
    const location = await startSession(server.url, 'up/nodigest');
    const res = await request(server.url).put(location).expect(400);
    assert.equal(ociError(res.body).code, 'DIGEST_INVALID');
  });

  it('DELETE cancels a session; unknown and foreign sessions are 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const location = await startSession(server.url, 'up/cancel');
    await request(server.url).patch(location).send(Buffer.alloc(10)).expect(202);
    await request(server.url).delete(location).expect(204);
    for (const method of ['get', 'patch', 'delete'] as const) {
      const res = await request(server.url)[method](location).expect(404);
      assert.equal(ociError(res.body).code, 'BLOB_UPLOAD_UNKNOWN');
    }
    assert.deepEqual(await uploadDirs(server, 'up/cancel'), []);
    const other = await startSession(server.url, 'up/owner');
    const foreign = other.replace('/v2/up/owner/', '/v2/up/thief/');
    await request(server.url).get(foreign).expect(404);
    await request(server.url).get('/v2/up/owner/blobs/uploads/not-a-uuid').expect(404);
    await request(server.url).get('/v2/up/owner/blobs/uploads/..%2F..%2Fetc').expect(404);
  });

  it('cross-repository mount: 201 when the source has the blob, a usable 202 session otherwise', async () => {
    const blob = randomBlob(2000);
    await pushBlob(server.url, 'mount/source', blob.content);
    const mounted = await request(server.url)
      .post(`/v2/mount/target/blobs/uploads/?mount=${blob.descriptor.digest}&from=mount/source`)
      .expect(201);
    assert.equal(mounted.headers.location, `/v2/mount/target/blobs/${blob.descriptor.digest}`);
    assert.equal(mounted.headers['docker-content-digest'], blob.descriptor.digest);
    await request(server.url).head(`/v2/mount/target/blobs/${blob.descriptor.digest}`).expect(200);

    const absent = randomBlob(100);
    const fallback = await request(server.url)
      .post(`/v2/mount/target/blobs/uploads/?mount=${absent.descriptor.digest}&from=mount/source`)
      .expect(202);
    await request(server.url)
      .put(`${fallback.headers.location}?digest=${absent.descriptor.digest}`)
      .send(absent.content)
      .expect(201);
    // The blob exists in the registry, but not in the named source repository: no mount.
    const elsewhere = await request(server.url)
      .post(`/v2/mount/third/blobs/uploads/?mount=${absent.descriptor.digest}&from=mount/source`)
      .expect(202);
    assert.ok(elsewhere.headers.location);
    await request(server.url).head(`/v2/mount/third/blobs/${absent.descriptor.digest}`).expect(404);
  });

  it('mount parameters are validated', async () => {
    const badDigest = await request(server.url)
      .post('/v2/mount/x/blobs/uploads/?mount=sha256:zz&from=mount/source')
      .expect(400);
    assert.equal(ociError(badDigest.body).code, 'DIGEST_INVALID');
    const badName = await request(server.url)
      .post(`/v2/mount/x/blobs/uploads/?mount=${sha256('x')}&from=../etc`)
      .expect(400);
    assert.equal(ociError(badName.body).code, 'NAME_INVALID');
  });

  it('two concurrent uploads of the same content both succeed', async () => {
    const blob = randomBlob(200_000);
    const push = async () => {
      const location = await startSession(server.url, 'up/race');
      await request(server.url).patch(location).send(blob.content).expect(202);
      await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);
    };
    await Promise.all([push(), push(), push()]);
    const res = await request(server.url)
      .get(`/v2/up/race/blobs/${blob.descriptor.digest}`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.deepEqual(res.body, blob.content);
  });

  it('a client cut off mid-chunk leaves the session as it was before that chunk, ready for a retry', async () => {
    const blob = randomBlob(200_000);
    const location = await startSession(server.url, 'up/cut');
    await patchChunk(server.url, location, 0, blob.content.subarray(0, 50_000));
    await sendAndDisconnect(server.url, 'PATCH', location, 150_000, blob.content.subarray(50_000, 170_000));
    await request(server.url).head(`/v2/up/cut/blobs/${blob.descriptor.digest}`).expect(404);
    await waitFor(async () => (await request(server.url).get(location)).headers.range === '0-49999');
    await patchChunk(server.url, location, 50_000, blob.content.subarray(50_000));
    await request(server.url).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);
    const res = await request(server.url)
      .get(`/v2/up/cut/blobs/${blob.descriptor.digest}`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.deepEqual(res.body, blob.content);
  });

  it('a single POST cut off midway stores nothing and leaves no session', async () => {
    const blob = randomBlob(100_000);
    await sendAndDisconnect(
      server.url,
      'POST',
      `/v2/up/cutpost/blobs/uploads/?digest=${blob.descriptor.digest}`,
      blob.content.length,
      blob.content.subarray(0, 50_000),
    );
    // The server ends the session once it sees the disconnect, which on S3 takes a few requests.
    await waitFor(async () => (await uploadDirs(server, 'up/cutpost')).length === 0, 30_000);
    await request(server.url).head(`/v2/up/cutpost/blobs/${blob.descriptor.digest}`).expect(404);
  });
});

describe('upload sessions across a restart', () => {
  it('a session survives a server restart and completes with the right digest', async () => {
    const blob = randomBlob(100_000);
    const first = await startTestServer();
    const location = await startSession(first.url, 'restart/me');
    await request(first.url)
      .patch(location)
      .set('Content-Range', '0-59999')
      .send(blob.content.subarray(0, 60_000))
      .expect(202);
    await first.stop();

    const second = await startTestServer({ root: first.root });
    try {
      const status = await request(second.url).get(location).expect(204);
      assert.equal(status.headers.range, '0-59999');
      await request(second.url)
        .patch(location)
        .set('Content-Range', '60000-99999')
        .send(blob.content.subarray(60_000))
        .expect(202);
      const wrong = await request(second.url)
        .put(`${location}?digest=${sha256('nope')}`)
        .expect(400);
      assert.equal(ociError(wrong.body).code, 'DIGEST_INVALID');
      await request(second.url).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);
      const res = await request(second.url)
        .get(`/v2/restart/me/blobs/${blob.descriptor.digest}`)
        .buffer(true)
        .parse(binary)
        .expect(200);
      assert.deepEqual(res.body, blob.content);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
