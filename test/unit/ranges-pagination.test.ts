import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/registry/errors.js';
import { type PagedListing, type PageRequest, readPage } from '../../src/registry/pagination.js';
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
  /** A sorted listing in memory that records every read, leaving out entries `hidden` names. */
  function listing(entries: string[], hidden: (entry: string) => boolean = () => false) {
    const reads: Array<{ after: string | undefined; limit: number }> = [];
    const source: PagedListing<string> = {
      async read(after, limit) {
        reads.push({ after, limit });
        return entries.filter((entry) => after === undefined || entry > after).slice(0, limit);
      },
      position: (last) => last,
      item: (entry) => (hidden(entry) ? undefined : entry),
    };
    return { source, reads };
  }
  const items = ['a', 'b', 'c', 'd', 'e'];

  it('pages with a size and an exclusive last', async () => {
    const page = (request: PageRequest) => readPage(listing(items).source, request);
    assert.deepEqual(await page({ size: 100 }), { items, more: false });
    assert.deepEqual(await page({ size: 2 }), { items: ['a', 'b'], more: true });
    assert.deepEqual(await page({ size: 2, last: 'b' }), { items: ['c', 'd'], more: true });
    assert.deepEqual(await page({ size: 2, last: 'c' }), { items: ['d', 'e'], more: false });
    assert.deepEqual(await page({ size: 100, last: 'bb' }), { items: ['c', 'd', 'e'], more: false });
    assert.deepEqual(await page({ size: 100, last: 'z' }), { items: [], more: false });
    assert.deepEqual(await page({ size: 5 }), { items, more: false });
    assert.deepEqual(await page({ size: 0 }), { items: [], more: false });
  });

  it('reads one batch of one more than the page, not the whole listing', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `r${String(i).padStart(5, '0')}`);
    const { source, reads } = listing(many);
    const page = await readPage(source, { size: 100, last: 'r02000' });
    assert.deepEqual(page.items, many.slice(2001, 2101));
    assert.equal(page.more, true);
    assert.deepEqual(reads, [{ after: 'r02000', limit: 101 }]);
    assert.deepEqual(await readPage(listing(items).source, { size: 0 }), { items: [], more: false });
  });

  it('reads on past entries it leaves out until the page is full', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `r${String(i).padStart(5, '0')}`);
    const { source, reads } = listing(many, (entry) => Number(entry.slice(1)) % 100 !== 0);
    const page = await readPage(source, { size: 20 });
    assert.deepEqual(
      page.items,
      Array.from({ length: 20 }, (_, i) => `r${String(i * 100).padStart(5, '0')}`),
    );
    assert.equal(page.more, true);
    assert.deepEqual(reads, [
      { after: undefined, limit: 21 },
      { after: 'r00020', limit: 1000 },
      { after: 'r01020', limit: 1000 },
    ]);
    const tail = await readPage(listing(many, (entry) => entry !== 'r02999').source, { size: 5 });
    assert.deepEqual(tail, { items: ['r02999'], more: false });
  });

  it('cuts a very long last, which asks for the same page', async () => {
    const { source, reads } = listing(['a', 'x'.repeat(300), 'y']);
    const page = await readPage(source, { size: 10, last: 'x'.repeat(3000) });
    assert.deepEqual(page, { items: ['y'], more: false });
    assert.equal(reads[0]?.after?.length, 512);
  });
});
