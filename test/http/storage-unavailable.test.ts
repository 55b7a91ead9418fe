/**
 * A store that cannot be reached (the driver throws StorageUnavailableError, as the S3 driver
 * does after its retries): requests get 503 UNAVAILABLE with Retry-After, the outage is logged
 * once rather than per request, /readyz fails with a detail, and all of it ends with the outage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { StorageUnavailableError } from '../../src/blobstore/driver.js';
import { type DriverOperation, type FaultyDriver, faultyDriver } from '../helpers/faulty-driver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const OPERATIONS: DriverOperation[] = [
  'getContent',
  'getVersioned',
  'putContent',
  'reader',
  'stat',
  'list',
  'move',
  'delete',
  'walk',
  'redirectURL',
];

/** Makes every call of `driver` fail as an unreachable store's would; returns the way back. */
function takeDown(driver: FaultyDriver): () => void {
  const error = new StorageUnavailableError('test: the store is down');
  const undo = OPERATIONS.map((operation) => driver.inject({ operation, error }));
  return () => {
    for (const bringBack of undo) bringBack();
  };
}

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('storage unavailable', () => {
  let server: TestServer;
  let store: FaultyDriver;

  before(async () => {
    server = await startTestServer({
      wrapDriver: (driver) => {
        store = faultyDriver(driver);
        return store;
      },
    });
  });
  after(() => server.close());

  const outageLines = () => server.logs.filter((line) => line.includes('storage is unavailable: requests'));

  it('answers 503 UNAVAILABLE with Retry-After while the store is down, and logs it once', async () => {
    const bringBack = takeDown(store);
    try {
      for (let i = 0; i < 10; i++) {
        const res = await request(server.url).get(`/v2/team/down${i}/manifests/latest`).expect(503);
        assert.equal(res.body.errors[0].code, 'UNAVAILABLE');
        assert.equal(res.headers['retry-after'], '5');
      }
      const head = await request(server.url).head(`/v2/team/down/blobs/${DIGEST}`);
      assert.equal(head.status, 503);
      assert.equal(outageLines().length, 1, outageLines().join('\n'));
      assert.match(outageLines()[0] as string, /"level":"error"/);
    } finally {
      bringBack();
    }
    const res = await request(server.url).get('/v2/team/down0/manifests/latest');
    assert.equal(res.status, 404, 'answered as usual once the store is back');
  });

  it('/readyz fails with 503 and a detail while the store is down, and is ready again after', async () => {
    await request(server.url).get('/readyz').expect(200);
    const bringBack = takeDown(store);
    try {
      const res = await request(server.url).get('/readyz').expect(503);
      assert.equal(res.body.errors[0].code, 'UNAVAILABLE');
      assert.equal(res.body.errors[0].detail.storage, 'unavailable');
      assert.ok(!Number.isNaN(Date.parse(res.body.errors[0].detail.since)));
      await request(server.url).get('/readyz').expect(503);
    } finally {
      bringBack();
    }
    await request(server.url).get('/readyz').expect(200);
    await request(server.url).get('/healthz').expect(200);
  });
});
