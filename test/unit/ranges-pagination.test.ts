import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/registry/errors.js';
import { paginate } from '../../src/registry/pagination.js';
import { chunkRange, requestedRange } from '../../src/routes/ranges.js';

describe('Range header', () => {
  it('parses single byte ranges against the size', () => {
    assert.equal(requestedRange(undefined, 100), undefined);
    assert.deepEqual(requestedRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(requestedRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(requestedRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(requestedRange('bytes=-1000', 100), { start: 0, end: 99 });
    assert.deepEqual(requestedRange('bytes=50-5000', 100), { start: 50, end: 99 });
  });

  it('reports unsatisfiable ranges and ignores ones it does not serve', () => {
    assert.equal(requestedRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(requestedRange('bytes=-0', 100), 'unsatisfiable');
    assert.equal(requestedRange('bytes=0-', 0), 'unsatisfiable');
    for (const header of ['bytes=5-1', 'bytes=1-2,4-5', 'bytes=-', 'lines=1-2', 'bytes=a-b']) {
      assert.equal(requestedRange(header, 100), undefined, header);
    }
  });
});

describe('Content-Range of upload chunks', () => {
  it('accepts start-end and the bytes forms', () => {
    assert.deepEqual(chunkRange('0-99'), { start: 0, end: 99 });
    assert.deepEqual(chunkRange('bytes 100-199/*'), { start: 100, end: 199 });
    assert.deepEqual(chunkRange('bytes=5-5'), { start: 5, end: 5 });
    assert.equal(chunkRange(undefined), undefined);
  });

  it('refuses malformed ranges with BLOB_UPLOAD_INVALID', () => {
    for (const header of ['x', '5-1', '-5', '1-', '0-1-2']) {
      assert.throws(
        () => chunkRange(header),
        (err: unknown) => err instanceof RegistryError && err.code === 'BLOB_UPLOAD_INVALID',
        header,
      );
    }
  });
});

describe('pagination', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  it('pages with n and an exclusive last', () => {
    assert.deepEqual(paginate(items, {}, 100), { items, more: false });
    assert.deepEqual(paginate(items, { n: 2 }, 100), { items: ['a', 'b'], more: true });
    assert.deepEqual(paginate(items, { n: 2, last: 'b' }, 100), { items: ['c', 'd'], more: true });
    assert.deepEqual(paginate(items, { n: 2, last: 'c' }, 100), { items: ['d', 'e'], more: false });
    assert.deepEqual(paginate(items, { last: 'bb' }, 100), { items: ['c', 'd', 'e'], more: false });
    assert.deepEqual(paginate(items, { last: 'z' }, 100), { items: [], more: false });
    assert.deepEqual(paginate(items, { n: 0 }, 100), { items: [], more: false });
  });

  it('never returns more than the server limit, and says there is more', () => {
    assert.deepEqual(paginate(items, {}, 3), { items: ['a', 'b', 'c'], more: true });
    assert.deepEqual(paginate(items, { n: 10 }, 3), { items: ['a', 'b', 'c'], more: true });
  });
});
