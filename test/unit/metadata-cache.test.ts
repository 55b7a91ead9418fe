import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createMemoryCache, createNullCache } from '../../src/registry/cache.js';
import { createClockCache } from '../../src/registry/clock-cache.js';
import type { Digest } from '../../src/registry/digest.js';
import type { RepositoryName, Tag } from '../../src/registry/names.js';

const digestOf = (seed: string | number, algorithm: 'sha256' | 'sha512' = 'sha256') =>
  `${algorithm}:${createHash(algorithm).update(String(seed)).digest('hex')}` as Digest;
const repo = (name: string) => name as RepositoryName;
const MT = 'application/vnd.oci.image.manifest.v1+json';

describe('clock cache', () => {
  it('evicts entries not used since they were added before used ones', () => {
    const cache = createClockCache<string, number>({ maxWeight: 10 });
    for (const [i, key] of [...'abcdefghij'].entries()) cache.set(key, i);
    for (const key of 'abc') cache.get(key);
    for (const key of 'xyz') cache.set(key, 0);
    assert.deepEqual(
      [...'abcdefghijxyz'].filter((key) => cache.get(key) === undefined),
      ['d', 'e', 'f'],
    );
    assert.equal(cache.size, 10);
  });

  it('keeps the summed weight within the bound under any mix of entries, and refuses one heavier than the bound', () => {
    const maxWeight = 5000;
    const cache = createClockCache<number, number>({ maxWeight });
    const weights = new Map<number, number>();
    let seed = 7;
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    for (let i = 0; i < 20_000; i++) {
      const key = random(3000);
      if (random(4) === 0) cache.get(key);
      else {
        const weight = 1 + random(random(10) === 0 ? 2000 : 100);
        weights.set(key, weight);
        cache.set(key, key, weight);
      }
      assert.ok(cache.weight <= maxWeight, `weight ${cache.weight} after operation ${i}`);
    }
    let present = 0;
    for (const [key, weight] of weights) if (cache.get(key) !== undefined) present += weight;
    assert.equal(present, cache.weight, 'the reported weight is that of the entries present');
    cache.set(-1, -1, maxWeight + 1);
    assert.equal(cache.get(-1), undefined);
  });
});

describe('metadata cache', () => {
  const a = repo('team/a');
  const b = repo('team/b');
  const d = digestOf(1);

  function withClock(ttl: number) {
    let time = 1000;
    const cache = createMemoryCache({ ttl, maxMemory: 1024 * 1024, now: () => time });
    return { cache, advance: (ms: number) => (time += ms) };
  }

  it('trusts repository facts and tags for the ttl, digest facts until evicted', () => {
    const { cache, advance } = withClock(1000);
    const checked = cache.now();
    cache.rememberLinked(a, d, checked);
    cache.rememberRevision(a, { digest: d, mediaType: MT, size: 5, subject: digestOf(2) }, checked);
    cache.rememberTag(a, 'v1' as Tag, { digest: d, version: 'v-1' }, checked);
    cache.rememberBlobSize(d, 42);
    cache.rememberManifestBody(d, Buffer.from('{"x":"é\u00ff"}', 'latin1'));
    advance(999);
    assert.equal(cache.isLinked(a, d), true);
    assert.equal(cache.isLinked(b, d), false, 'another repository knows nothing');
    assert.deepEqual(cache.revision(a, d), { digest: d, mediaType: MT, size: 5, subject: digestOf(2) });
    assert.deepEqual(cache.tag(a, 'v1' as Tag), { digest: d, version: 'v-1', fresh: true });
    advance(1);
    assert.equal(cache.isLinked(a, d), false);
    assert.equal(cache.revision(a, d), undefined);
    assert.deepEqual(
      cache.tag(a, 'v1' as Tag),
      { digest: d, version: 'v-1', fresh: false },
      'kept to compare versions',
    );
    assert.equal(cache.blobSize(d), 42);
    assert.deepEqual(cache.manifestBody(d), Buffer.from('{"x":"é\u00ff"}', 'latin1'));
  });

  it('with ttl 0 answers no repository fact from memory; forget* drop entries; none keeps nothing', () => {
    const { cache } = withClock(0);
    cache.rememberLinked(a, d, cache.now());
    cache.rememberRevision(a, { digest: d, mediaType: MT, size: 5 }, cache.now());
    cache.rememberTag(a, 'v1' as Tag, { digest: d, version: '1' }, cache.now());
    assert.equal(cache.isLinked(a, d), false);
    assert.equal(cache.revision(a, d), undefined);
    assert.equal(cache.tag(a, 'v1' as Tag)?.fresh, false);
    cache.forgetTag(a, 'v1' as Tag);
    assert.equal(cache.tag(a, 'v1' as Tag), undefined);

    const { cache: cached } = withClock(1000);
    cached.rememberLinked(a, d, cached.now());
    cached.rememberRevision(a, { digest: d, mediaType: MT, size: 5 }, cached.now());
    cached.forgetLink(a, d);
    cached.forgetRevision(a, d);
    assert.equal(cached.isLinked(a, d), false);
    assert.equal(cached.revision(a, d), undefined);

    const none = createNullCache();
    none.rememberBlobSize(d, 1);
    none.rememberManifestBody(d, Buffer.from('{}'));
    none.rememberTag(a, 'v1' as Tag, { digest: d, version: '1' }, none.now());
    assert.equal(none.blobSize(d), undefined);
    assert.equal(none.manifestBody(d), undefined);
    assert.equal(none.tag(a, 'v1' as Tag), undefined);
    assert.equal(none.weight, 0);
  });

  it('keeps facts of different digests, algorithms, repositories and tags apart', () => {
    const { cache } = withClock(1000);
    const long = digestOf(1, 'sha512');
    cache.rememberBlobSize(d, 1);
    cache.rememberBlobSize(long, 2);
    cache.rememberLinked(repo('a'), d, cache.now());
    cache.rememberTag(repo('a/b'), 'c' as Tag, { digest: d, version: '1' }, cache.now());
    assert.equal(cache.blobSize(d), 1);
    assert.equal(cache.blobSize(long), 2);
    assert.equal(cache.isLinked(repo('ab'), d), false);
    assert.equal(cache.isLinked(repo('a'), long), false);
    assert.equal(cache.tag(repo('a'), 'b' as Tag), undefined);
    assert.equal(cache.tag(repo('a/b'), 'c' as Tag)?.digest, d);
  });

  it('holds every kind of entry under one budget, dropping the least recently used', () => {
    const maxMemory = 256 * 1024;
    const cache = createMemoryCache({ ttl: 60_000, maxMemory });
    const hot = digestOf('hot');
    cache.rememberManifestBody(hot, Buffer.alloc(4000, 'h'));
    for (let i = 0; i < 5000; i++) {
      const digest = digestOf(i);
      cache.rememberBlobSize(digest, i);
      cache.rememberLinked(a, digest, cache.now());
      if (i % 10 === 0) cache.rememberManifestBody(digest, Buffer.alloc(1000 + i, 'x'));
      if (i % 10 === 0) cache.rememberTag(a, `t${i}` as Tag, { digest, version: String(i) }, cache.now());
      assert.ok(cache.manifestBody(hot), `the body in use stays (${i})`);
      assert.ok(cache.weight <= maxMemory, `weight ${cache.weight} at ${i}`);
    }
    assert.equal(cache.blobSize(digestOf(0)), undefined, 'the oldest unused entries went');
    assert.equal(cache.blobSize(digestOf(4999)), 4999);
    cache.rememberManifestBody(digestOf('huge'), Buffer.alloc(maxMemory));
    assert.equal(
      cache.manifestBody(digestOf('huge')),
      undefined,
      'an entry larger than the budget is not kept',
    );
  });

  it('weighs entries at no less than they cost on the heap (measured with a forced GC)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      gc();
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.external + usage.arrayBuffers;
    };
    const cache = createMemoryCache({ ttl: 60_000, maxMemory: 1024 ** 3 });
    const digests = Array.from({ length: 40_000 }, (_, i) => digestOf(i));
    const before = heap();
    for (const [i, digest] of digests.entries()) {
      const name = repo(`team-${i % 40}/app-${i % 400}`);
      cache.rememberBlobSize(digest, 1_000_000 + i);
      cache.rememberLinked(name, digest, cache.now());
      cache.rememberTag(name, `v${i}` as Tag, { digest, version: `${i}-1734567890-123456789` }, cache.now());
      if (i % 4 === 0) cache.rememberRevision(name, { digest, mediaType: MT, size: 900 }, cache.now());
      if (i % 4 === 0) cache.rememberManifestBody(digest, Buffer.alloc(900, 'm'));
    }
    const measured = heap() - before;
    assert.ok(measured <= cache.weight * 1.15, `measured ${measured} bytes, weighed ${cache.weight}`);
    assert.ok(measured >= cache.weight * 0.6, `measured ${measured} bytes, weighed ${cache.weight}`);
  });
});
