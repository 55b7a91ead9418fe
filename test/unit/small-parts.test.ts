import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log/logger.js';
import { createMemoryCache } from '../../src/registry/cache.js';
import type { Digest } from '../../src/registry/digest.js';
import { forEachLimited } from '../../src/registry/limited.js';
import { createKeyedLock } from '../../src/registry/locks.js';
import { createLru } from '../../src/registry/lru.js';
import type { RepositoryName } from '../../src/registry/names.js';

describe('lru', () => {
  it('evicts the least recently used entry past maxEntries', () => {
    const lru = createLru<string, number>({ maxEntries: 2 });
    lru.set('a', 1);
    lru.set('b', 2);
    assert.equal(lru.get('a'), 1);
    lru.set('c', 3);
    assert.equal(lru.get('b'), undefined);
    assert.equal(lru.get('a'), 1);
    assert.equal(lru.get('c'), 3);
    assert.equal(lru.size, 2);
  });

  it('keeps the summed weight under maxWeight and refuses single entries over it', () => {
    const lru = createLru<string, Buffer>({ maxEntries: 100, maxWeight: 10, weigh: (b) => b.length });
    lru.set('a', Buffer.alloc(4));
    lru.set('b', Buffer.alloc(4));
    lru.set('c', Buffer.alloc(4));
    assert.equal(lru.get('a'), undefined);
    assert.ok(lru.get('b') && lru.get('c'));
    lru.set('huge', Buffer.alloc(11));
    assert.equal(lru.get('huge'), undefined);
    lru.deleteWhere((key) => key === 'b');
    assert.equal(lru.get('b'), undefined);
  });
});

describe('metadata cache', () => {
  it('forgets a blob everywhere and a link or revision in one repository', () => {
    const cache = createMemoryCache();
    const digest = `sha256:${'1'.repeat(64)}` as Digest;
    const a = 'a' as RepositoryName;
    const b = 'b' as RepositoryName;
    cache.rememberBlobSize(digest, 5);
    cache.rememberLinked(a, digest);
    cache.rememberLinked(b, digest);
    cache.rememberRevision(a, { digest, mediaType: 'x', size: 5 });
    cache.forgetLink(a, digest);
    assert.equal(cache.isLinked(a, digest), false);
    assert.equal(cache.isLinked(b, digest), true);
    cache.forgetRevision(a, digest);
    assert.equal(cache.revision(a, digest), undefined);
    cache.forgetBlob(digest);
    assert.equal(cache.isLinked(b, digest), false);
    assert.equal(cache.blobSize(digest), undefined);
  });
});

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
