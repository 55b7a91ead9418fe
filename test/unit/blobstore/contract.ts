/**
 * The storage driver contract: every behaviour the registry relies on, written once and run
 * against every backend. A driver's test file calls runDriverContract with a factory.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { isNotFound, type StorageDriver } from '../../../src/blobstore/driver.js';

/** A driver under test plus how to inspect and dispose of its backing store. */
export interface DriverFixture {
  driver: StorageDriver;
  /** Temp or partial artifacts the backend left behind (must be empty after every test). */
  leftovers(): Promise<string[]>;
  dispose(): Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function rejectsNotFound(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => isNotFound(err));
}

function failingSource(good: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(good);
        return;
      }
      this.destroy(new Error('client went away'));
    },
  });
}

/** Registers the contract suite for one driver. */
export function runDriverContract(label: string, create: () => Promise<DriverFixture>): void {
  describe(`storage driver contract: ${label}`, () => {
    let fixture: DriverFixture;
    let driver: StorageDriver;
    beforeEach(async () => {
      fixture = await create();
      driver = fixture.driver;
    });
    afterEach(async () => {
      const leftovers = await fixture.leftovers();
      await fixture.dispose();
      assert.deepEqual(leftovers, [], 'no temp files or partial objects may remain');
    });
    after(() => {});

    it('getContent of a missing path is PathNotFoundError', async () => {
      await rejectsNotFound(driver.getContent('/no/such/file'));
    });

    it('putContent creates parents and getContent reads the bytes back; put replaces', async () => {
      await driver.putContent('/a/b/c/file', Buffer.from('first'));
      assert.equal((await driver.getContent('/a/b/c/file')).toString(), 'first');
      await driver.putContent('/a/b/c/file', Buffer.from('second, longer'));
      assert.equal((await driver.getContent('/a/b/c/file')).toString(), 'second, longer');
      await driver.putContent('/a/b/c/file', Buffer.alloc(0));
      assert.equal((await driver.getContent('/a/b/c/file')).length, 0);
    });

    it('stat describes files and directories and refuses missing paths', async () => {
      await driver.putContent('/dir/sub/file', Buffer.from('12345'));
      const file = await driver.stat('/dir/sub/file');
      assert.equal(file.size, 5);
      assert.equal(file.isDir, false);
      assert.equal(file.path, '/dir/sub/file');
      assert.ok(file.modTime instanceof Date && Math.abs(file.modTime.getTime() - Date.now()) < 60_000);
      const dir = await driver.stat('/dir/sub');
      assert.equal(dir.isDir, true);
      await rejectsNotFound(driver.stat('/dir/nope'));
      await rejectsNotFound(driver.stat('/dir/sub/file/deeper'));
    });

    it('version changes when an object is replaced or appended to, and only then', async () => {
      await driver.putContent('/v/file', Buffer.from('one'));
      const first = (await driver.stat('/v/file')).version;
      assert.equal((await driver.stat('/v/file')).version, first);
      await driver.putContent('/v/file', Buffer.from('two'));
      const second = (await driver.stat('/v/file')).version;
      assert.notEqual(second, first);
      await driver.append('/v/file', Readable.from([Buffer.from('!')]));
      assert.notEqual((await driver.stat('/v/file')).version, second);
      await driver.append('/v/up', Readable.from([Buffer.from('a')]));
      await driver.move('/v/up', '/v/file');
      assert.notEqual((await driver.stat('/v/file')).version, second);
    });

    it('list gives sorted child names and refuses missing directories', async () => {
      for (const name of ['b', 'a', 'c/d', '_x', 'B'])
        await driver.putContent(`/list/${name}`, Buffer.from(name));
      assert.deepEqual(await driver.list('/list'), ['B', '_x', 'a', 'b', 'c']);
      await rejectsNotFound(driver.list('/list/none'));
      assert.ok((await driver.list('/')).includes('list'));
    });

    it('reader streams whole objects and byte windows, and refuses missing paths before streaming', async () => {
      const data = randomBytes(300_000);
      await driver.putContent('/r/blob', data);
      assert.deepEqual(await readAll(await driver.reader('/r/blob')), data);
      assert.deepEqual(await readAll(await driver.reader('/r/blob', 1000)), data.subarray(1000));
      assert.deepEqual(await readAll(await driver.reader('/r/blob', 1000, 5000)), data.subarray(1000, 6000));
      assert.deepEqual(await readAll(await driver.reader('/r/blob', 299_999, 1)), data.subarray(299_999));
      assert.equal((await readAll(await driver.reader('/r/blob', 10, 0))).length, 0);
      await rejectsNotFound(driver.reader('/r/missing'));
    });

    it('append creates, grows and reports the new size', async () => {
      assert.equal(await driver.append('/u/data', Readable.from([Buffer.from('abc')])), 3);
      assert.equal(await driver.append('/u/data', Readable.from([Buffer.from('de'), Buffer.from('f')])), 6);
      assert.equal(await driver.append('/u/data', Readable.from([])), 6);
      assert.equal((await driver.getContent('/u/data')).toString(), 'abcdef');
      assert.equal((await driver.stat('/u/data')).size, 6);
      assert.equal(await driver.append('/u/empty', Readable.from([])), 0);
      assert.equal((await driver.stat('/u/empty')).size, 0);
    });

    it('append streams many megabytes intact', async () => {
      const chunk = randomBytes(1024 * 1024);
      const hash = createHash('sha256');
      const chunks = Array.from({ length: 24 }, (_, i) => {
        const piece = Buffer.from(chunk);
        piece.writeUInt32BE(i, 0);
        hash.update(piece);
        return piece;
      });
      assert.equal(await driver.append('/big/data', Readable.from(chunks)), 24 * 1024 * 1024);
      const readBack = createHash('sha256');
      for await (const piece of await driver.reader('/big/data')) readBack.update(piece as Buffer);
      assert.equal(readBack.digest('hex'), hash.digest('hex'));
    });

    it('a failed append rejects and leaves the object exactly as it was before the call', async () => {
      await driver.append('/fail/data', Readable.from([Buffer.from('kept-')]));
      const big = randomBytes(3 * 1024 * 1024);
      for (const source of [failingSource(Buffer.from('partial-bytes')), failingSource(big)]) {
        await assert.rejects(driver.append('/fail/data', source), /client went away/);
        assert.equal((await driver.getContent('/fail/data')).toString(), 'kept-');
        assert.equal((await driver.stat('/fail/data')).size, 5);
      }
      assert.equal(await driver.append('/fail/data', Readable.from([Buffer.from('more')])), 9);
      assert.equal((await driver.getContent('/fail/data')).toString(), 'kept-more');
    });

    it('a source that fails only after its last byte (a rejected chunk) appends nothing', async () => {
      await driver.append('/reject/data', Readable.from([Buffer.from('12345')]));
      async function* rejectedAtTheEnd() {
        yield Buffer.from('abc');
        throw new Error('chunk length does not match');
      }
      await assert.rejects(
        driver.append('/reject/data', Readable.from(rejectedAtTheEnd())),
        /does not match/,
      );
      assert.equal((await driver.getContent('/reject/data')).toString(), '12345');
    });

    it('a failed append to a new path leaves no bytes behind', async () => {
      await assert.rejects(
        driver.append('/fresh/data', failingSource(Buffer.from('abc'))),
        /client went away/,
      );
      const size = await driver.stat('/fresh/data').then(
        (info) => info.size,
        (err: unknown) => (isNotFound(err) ? 0 : Number.NaN),
      );
      assert.equal(size, 0);
    });

    it('move publishes an object at a new path (creating parents), replacing the destination', async () => {
      await driver.append('/uploads/1/data', Readable.from([Buffer.from('payload')]));
      await driver.move('/uploads/1/data', '/blobs/x/y/data');
      assert.equal((await driver.getContent('/blobs/x/y/data')).toString(), 'payload');
      await rejectsNotFound(driver.stat('/uploads/1/data'));
      await driver.putContent('/uploads/2/data', Buffer.from('newer'));
      await driver.move('/uploads/2/data', '/blobs/x/y/data');
      assert.equal((await driver.getContent('/blobs/x/y/data')).toString(), 'newer');
      await rejectsNotFound(driver.move('/uploads/3/data', '/blobs/z/data'));
    });

    it('delete removes files and whole trees and refuses missing paths', async () => {
      await driver.putContent('/del/one', Buffer.from('1'));
      await driver.putContent('/del/tree/a/b', Buffer.from('2'));
      await driver.putContent('/del/tree/c', Buffer.from('3'));
      await driver.delete('/del/one');
      await rejectsNotFound(driver.getContent('/del/one'));
      await driver.delete('/del/tree');
      await rejectsNotFound(driver.stat('/del/tree/a/b'));
      await rejectsNotFound(driver.list('/del/tree'));
      await rejectsNotFound(driver.delete('/del/tree'));
    });

    it('walk visits everything below a path, parents first, in order, and can skip subtrees', async () => {
      for (const path of ['/w/a/1', '/w/a/2', '/w/b/skipme/3', '/w/c'])
        await driver.putContent(path, Buffer.from('x'));
      const seen: string[] = [];
      await driver.walk('/w', (info) => {
        seen.push(`${info.path}${info.isDir ? '/' : ''}`);
        return info.path === '/w/b/skipme' ? 'skip' : 'continue';
      });
      assert.deepEqual(seen, ['/w/a/', '/w/a/1', '/w/a/2', '/w/b/', '/w/b/skipme/', '/w/c']);
      await rejectsNotFound(driver.walk('/w/none', () => 'continue'));
    });

    it('concurrent writers of one path leave exactly one whole version', async () => {
      const versions = Array.from({ length: 8 }, (_, i) => Buffer.alloc(64 * 1024, i + 1));
      await Promise.all(versions.map((version) => driver.putContent('/race/file', version)));
      const final = await driver.getContent('/race/file');
      assert.ok(versions.some((version) => version.equals(final)));
      assert.deepEqual(await driver.list('/race'), ['file']);
    });
  });
}
