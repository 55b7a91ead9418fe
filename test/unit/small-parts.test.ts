import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log/logger.js';
import { forEachLimited } from '../../src/registry/limited.js';
import { createKeyedLock } from '../../src/registry/locks.js';

describe('keyed lock', () => {
  it('runs work for one key strictly one after another, other keys in parallel', async () => {
    const lock = createKeyedLock();
    const events: string[] = [];
    const slow = (label: string, ms: number) => async () => {
      events.push(`start ${label}`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      events.push(`end ${label}`);
      return label;
    };
    const results = await Promise.all([
      lock('k', slow('1', 30)),
      lock('k', slow('2', 1)),
      lock('other', slow('3', 1)),
    ]);
    assert.deepEqual(results, ['1', '2', '3']);
    assert.ok(events.indexOf('end 1') < events.indexOf('start 2'));
    assert.ok(events.indexOf('start 3') < events.indexOf('end 1'));
  });

  it('releases the key when the work fails', async () => {
    const lock = createKeyedLock();
    await assert.rejects(
      lock('k', async () => Promise.reject(new Error('nope'))),
      /nope/,
    );
    assert.equal(await lock('k', async () => 'after'), 'after');
  });
});

describe('logger', () => {
  it('writes JSON lines with time, level, msg and fields, filtered by level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', formatter: 'json', write: (line) => lines.push(line) });
    logger.debug('hidden');
    logger.info('shown', { a: 1 });
    logger.child({ component: 'x' }).error('failed', { error: new Error('bad') });
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0] as string);
    assert.equal(first.level, 'info');
    assert.equal(first.msg, 'shown');
    assert.equal(first.a, 1);
    assert.ok(!Number.isNaN(Date.parse(first.time)));
    const second = JSON.parse(lines[1] as string);
    assert.equal(second.component, 'x');
    assert.equal(second.error.message, 'bad');
    assert.ok(lines.every((line) => line.endsWith('\n')));
  });

  it('writes key=value text lines', () => {
    const lines: string[] = [];
    createLogger({ level: 'debug', formatter: 'text', write: (line) => lines.push(line) }).warn(
      'careful now',
      { path: '/v2/', n: 2 },
    );
    assert.match(lines[0] as string, /^\S+ WARN "careful now" path=\/v2\/ n=2\n$/);
  });

  it('redacts credentials under any of their usual field names, nested or not', () => {
    const lines: string[] = [];
    const json = createLogger({ level: 'debug', formatter: 'json', write: (line) => lines.push(line) });
    json.info('x', { authorization: 'Bearer abc', headers: { Authorization: 'Basic xyz' }, password: 'pw' });
    createLogger({ level: 'debug', formatter: 'text', write: (line) => lines.push(line) }).info('y', {
      token: 'eyJ.secret',
      user: 'alice',
    });
    const all = lines.join('');
    for (const secret of ['abc', 'xyz', 'pw"', 'eyJ.secret']) assert.ok(!all.includes(secret), secret);
    assert.equal(JSON.parse(lines[0] as string).headers.Authorization, '[redacted]');
    assert.match(lines[1] as string, /token=\[redacted\] user=alice/);
  });
});

describe('forEachLimited', () => {
  it('keeps at most `limit` in flight, in item order, and stops once told it has enough', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    await forEachLimited(
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
      3,
      async (item) => {
        started.push(item);
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
      },
      () => started.length >= 5,
    );
    assert.equal(most, 3);
    assert.deepEqual(started, [1, 2, 3, 4, 5]);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    const run = forEachLimited([1, 2, 3, 4, 5], 1, async (item) => {
      started.push(item);
      if (item === 2) throw new Error('second failed');
    });
    await assert.rejects(run, /second failed/);
    assert.deepEqual(started, [1, 2]);
  });
});
