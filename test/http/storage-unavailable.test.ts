/**
 * A store that cannot be reached (the driver throws StorageUnavailableError, as the S3 driver
 * does after its retries): requests get 503 UNAVAILABLE with Retry-After, the outage is logged
 * once rather than per request, /readyz fails with a detail, and all of it ends with the outage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { type StorageDriver, StorageUnavailableError } from '../../src/blobstore/driver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** `driver`, failing every call with StorageUnavailableError while `down()` holds. */
function unavailableWhile(down: () => boolean, driver: StorageDriver): StorageDriver {
  const guard =
    <A extends unknown[], R>(operation: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      down() ? Promise.reject(new StorageUnavailableError('test: the store is down')) : operation(...args);
  return {
    ...driver,
    getContent: guard(driver.getContent),
    getVersioned: guard(driver.getVersioned),
    putContent: guard(driver.putContent),
    reader: guard(driver.reader),
    stat: guard(driver.stat),
    list: guard(driver.list),
    move: guard(driver.move),
    delete: guard(driver.delete),
    walk: guard(driver.walk),
    redirectURL: guard(driver.redirectURL),
  };
}

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('storage unavailable', () => {
  let server: TestServer;
  let down = false;

  before(async () => {
    server = await startTestServer({ wrapDriver: (driver) => unavailableWhile(() => down, driver) });
  });
  after(() => server.close());

  const outageLines = () => server.logs.filter((line) => line.includes('storage is unavailable: requests'));

  it('answers 503 UNAVAILABLE with Retry-After while the store is down, and logs it once', async () => {
    down = true;
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
      down = false;
    }
    const res = await request(server.url).get('/v2/team/down0/manifests/latest');
    assert.equal(res.status, 404, 'answered as usual once the store is back');
  });

  it('/readyz fails with 503 and a detail while the store is down, and is ready again after', async () => {
    await request(server.url).get('/readyz').expect(200);
    down = true;
    try {
      const res = await request(server.url).get('/readyz').expect(503);
      assert.equal(res.body.errors[0].code, 'UNAVAILABLE');
      assert.equal(res.body.errors[0].detail.storage, 'unavailable');
      assert.ok(!Number.isNaN(Date.parse(res.body.errors[0].detail.since)));
      await request(server.url).get('/readyz').expect(503);
    } finally {
      down = false;
    }
    await request(server.url).get('/readyz').expect(200);
    await request(server.url).get('/healthz').expect(200);
  });
});
