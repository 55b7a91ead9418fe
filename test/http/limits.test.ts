import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { sendChunked, stalledRequest } from '../helpers/http.js';
import { ociError, randomBlob } from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const GENEROUS = 30_000;

async function startSession(url: string, name: string): Promise<string> {
  const res = await request(url).post(`/v2/${name}/blobs/uploads/`).expect(202);
  return res.headers.location as string;
}

/** Resolves with what arrived, or with undefined if the server kept the connection for `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([
    promise,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref()),
  ]);
}

describe('stalled bodies and slow headers', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      config: { http: { bodytimeout: '1s', headertimeout: '1s' }, auth: { mode: 'none' } },
    });
  });
  after(() => server.close());

  it('a PATCH whose body stops arriving gets 408 and the connection closes; the session is as it was', async () => {
    const location = await startSession(server.directUrl, 'limits/stall');
    await request(server.directUrl).patch(location).send(Buffer.alloc(10, 1)).expect(202);
    for (const declared of [1000, undefined]) {
      const stalled = stalledRequest(server.directUrl, `PATCH ${location}`, declared, Buffer.alloc(100, 2));
      const answer = await within(stalled.closed, GENEROUS);
      stalled.destroy();
      assert.ok(answer !== undefined, 'the server closed the stalled request');
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.match(answer, /"code":"BLOB_UPLOAD_INVALID"/);
      const status = await request(server.directUrl).get(location).expect(204);
      assert.equal(status.headers.range, '0-9', 'the timed-out chunk left nothing behind');
    }
  });

  it('a manifest PUT whose body stops arriving is closed too', async () => {
    const stalled = stalledRequest(
      server.directUrl,
      'PUT /v2/limits/stall/manifests/v1',
      4000,
      Buffer.from('{"schemaVersion":2,'),
      { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    );
    const answer = await within(stalled.closed, GENEROUS);
    stalled.destroy();
    assert.ok(answer !== undefined, 'the server closed the stalled request');
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  it('a slow but steady body is fine, however long it takes in all', async () => {
    const blob = randomBlob(40 * 1024);
    const location = await startSession(server.directUrl, 'limits/steady');
    const pieces = Array.from({ length: 40 }, (_, i) => blob.content.subarray(i * 1024, (i + 1) * 1024));
    // 40 pieces 100 ms apart take 4 s, four times the idle timeout; no gap comes near it.
    const res = await sendChunked(server.directUrl, 'PATCH', location, pieces, {}, 100);
    assert.equal(res.status, 202);
    await request(server.directUrl).put(`${location}?digest=${blob.descriptor.digest}`).expect(201);
  });

  it('a client that never finishes its headers is disconnected', async () => {
    const url = new URL(server.directUrl);
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => {});
    socket.resume();
    socket.write(`GET /v2/ HTTP/1.1\r\nHost: ${url.host}\r\n`);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const answer = await within(
      closed.then(() => 'closed'),
      GENEROUS,
    );
    socket.destroy();
    assert.equal(answer, 'closed');
  });
});

describe('concurrent uploads per client address', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      config: { http: { maxuploadsperclient: 2, trustproxy: true }, auth: { mode: 'none' } },
    });
  });
  after(() => server.close());
  const uploadFrom = async (address: string, name: string) => {
    const location = await startSession(server.directUrl, name);
    await request(server.directUrl)
      .patch(location)
      .set('X-Forwarded-For', address)
      .send(Buffer.alloc(10))
      .expect(202);
  };

  it('a client past the cap gets 429 TOOMANYREQUESTS with Retry-After; others and reads are not affected', async () => {
    const location = await startSession(server.directUrl, 'limits/cap');
    const held = [1, 2].map(() =>
      stalledRequest(server.directUrl, `PATCH ${location}`, 1000, Buffer.alloc(10), {
        'X-Forwarded-For': '192.0.2.1',
      }),
    );
    try {
      const refused = await sendChunked(server.directUrl, 'PATCH', location, [Buffer.alloc(10)], {
        'X-Forwarded-For': '192.0.2.1',
      });
      assert.equal(refused.status, 429);
      assert.equal(ociError(JSON.parse(refused.body.toString())).code, 'TOOMANYREQUESTS');
      assert.ok(Number(refused.headers['retry-after']) > 0);
      await request(server.directUrl).get(location).set('X-Forwarded-For', '192.0.2.1').expect(204);
      await uploadFrom('192.0.2.2', 'limits/other');
    } finally {
      for (const request of held) request.destroy();
    }
    await Promise.all(held.map((request) => request.closed));
    // The server lets go of the abandoned requests once their chunks are given up (on S3 that
    // takes a few requests to the store), not when the client's sockets close.
    await waitFor(async () =>
      /^berth_uploads_in_progress 0$/m.test((await request(server.directUrl).get('/metrics')).text),
    );
    await uploadFrom('192.0.2.1', 'limits/again');
  });

  it('a chunk queued behind another on the same session can be abandoned by its client', async () => {
    const location = await startSession(server.directUrl, 'up/queued');
    const first = stalledRequest(server.directUrl, `PATCH ${location}`, 1000, Buffer.alloc(10));
    // A session reports only acknowledged bytes; the gauge shows the first chunk streaming.
    await waitFor(async () =>
      /^berth_uploads_in_progress 1$/m.test((await request(server.directUrl).get('/metrics')).text),
    );
    const queued = stalledRequest(server.directUrl, `PATCH ${location}`, 1000, Buffer.alloc(10));
    // Time for the queued chunk to reach the session's lock; were it late, the test would only be
    // weaker, never fail.
    await new Promise((resolve) => setTimeout(resolve, 200));
    queued.destroy();
    await queued.closed;
    first.destroy();
    await first.closed;
    await waitFor(async () =>
      /^berth_uploads_in_progress 0$/m.test((await request(server.directUrl).get('/metrics')).text),
    );
    assert.equal((await request(server.directUrl).get(location)).headers.range, '0-0');
    // The abandoned requests leave the per-client count as their sockets close.
    let status = 0;
    await waitFor(async () => {
      status = (await request(server.directUrl).patch(location).send(Buffer.alloc(10))).status;
      return status !== 429;
    });
    assert.equal(status, 202);
  });
});
