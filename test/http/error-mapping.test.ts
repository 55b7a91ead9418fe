/**
 * The error middleware's answers to storage errors that reach it: a race nothing handled
 * (PreconditionFailedError) and an unreachable store, also when wrapped as another error's
 * cause; and its log throttle, on a clock of the test's own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import request from 'supertest';
import { PreconditionFailedError, StorageUnavailableError } from '../../src/blobstore/driver.js';
import type { BerthState } from '../../src/http/context.js';
import { errorHandler, OUTAGE_LOG_INTERVAL_MS } from '../../src/http/errors.js';
import { createLogger } from '../../src/log/logger.js';

/** A server whose every request fails with what `fail` throws, and its log lines. */
function failingApp(fail: () => Error, now: () => number = Date.now) {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', formatter: 'json', write: (line) => logs.push(line) });
  const app = new Koa<BerthState>();
  app.use(errorHandler(logger, now));
  app.use(() => {
    throw fail();
  });
  return { server: app.callback(), logs };
}

describe('error middleware and storage errors', () => {
  it('a precondition failure nothing handled is 503 UNAVAILABLE, Retry-After 1, and says to retry', async () => {
    const { server, logs } = failingApp(
      () => new PreconditionFailedError('/repositories/a/_manifests/tags/x'),
    );
    const res = await request(server).put('/v2/a/manifests/x').expect(503);
    assert.equal(res.body.errors[0].code, 'UNAVAILABLE');
    assert.match(res.body.errors[0].message, /retry/);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(logs.length, 1);
    assert.match(logs[0] as string, /"level":"warn".*"object":"\/repositories\/a\/_manifests\/tags\/x"/);
  });

  it('a StorageUnavailableError wrapped as the cause of another error is still 503 UNAVAILABLE', async () => {
    const { server } = failingApp(
      () => new Error('reading the tag failed', { cause: new StorageUnavailableError('s3: gave up') }),
    );
    const res = await request(server).get('/v2/a/tags/list').expect(503);
    assert.equal(res.body.errors[0].code, 'UNAVAILABLE');
    assert.equal(res.headers['retry-after'], '5');
  });

  it('logs an outage once per interval, then with the count of requests not logged', async () => {
    let clock = 1_000_000;
    const { server, logs } = failingApp(
      () => new StorageUnavailableError('s3: gave up'),
      () => clock,
    );
    for (let i = 0; i < 5; i++) await request(server).get('/v2/').expect(503);
    assert.equal(logs.length, 1);
    clock += OUTAGE_LOG_INTERVAL_MS;
    await request(server).get('/v2/').expect(503);
    assert.equal(logs.length, 2);
    assert.match(logs[1] as string, /"suppressed":4/);
  });
});
