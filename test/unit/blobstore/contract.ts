/**
 * The storage driver contract: every behaviour the registry relies on, written once and run
 * against every backend. A driver's test file calls runDriverContract with a factory.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { StorageDriver } from '../../../src/blobstore/driver.js';
import { conditionalContract } from './contract-conditional.js';
import { readAll, rejectsNotFound, sourceOf, textOf } from './contract-helpers.js';
import { leftoversContract } from './contract-leftovers.js';
import { stagedContract } from './contract-staged.js';

/** A driver under test plus how to inspect and dispose of its backing store. */
export interface DriverFixture {
  driver: StorageDriver;
  /** Temp, lock or partial artifacts the backend left behind (must be empty after every test). */
  leftovers(): Promise<string[]>;
  dispose(): Promise<void>;
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
    const context = {
      get driver() {
        return driver;
      },
    };

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

    it('stat describes objects, and refuses missing paths and directories', async () => {
      await driver.putContent('/dir/sub/file', Buffer.from('12345'));
      const file = await driver.stat('/dir/sub/file');
      assert.equal(file.size, 5);
      assert.equal(file.isDir, false);
      assert.equal(file.path, '/dir/sub/file');
      assert.ok(file.modTime instanceof Date && Math.abs(file.modTime.getTime() - Date.now()) < 60_000);
      await rejectsNotFound(driver.stat('/dir/sub'));
      await rejectsNotFound(driver.stat('/dir/nope'));
      await rejectsNotFound(driver.stat('/dir/sub/file/deeper'));
    });

    it('version changes when an object is replaced or committed over, and only then', async () => {
      await driver.putContent('/v/file', Buffer.from('one'));
      const first = (await driver.stat('/v/file')).version;
      assert.equal((await driver.stat('/v/file')).version, first);
      await driver.putContent('/v/file', Buffer.from('two'));
      const second = (await driver.stat('/v/file')).version;
      assert.notEqual(second, first);
      const staged = await driver.staged.write(await driver.staged.start('/data/v/up'), sourceOf('a'));
      await driver.staged.commit(staged, '/v/file');
      assert.notEqual((await driver.stat('/v/file')).version, second);
    });

    it('list gives sorted child names and refuses missing directories', async () => {
      for (const name of ['b', 'a', 'c/d', '_x', 'B'])
        await driver.putContent(`/list/${name}`, Buffer.from(name));
      assert.deepEqual(await driver.list('/list'), ['B', '_x', 'a', 'b', 'c']);
      await rejectsNotFound(driver.list('/list/none'));
      assert.ok((await driver.list('/')).includes('list'));
    });

    it('list pages: names after a given one (present or not), at most a limit of them', async () => {
      for (const name of ['b', 'a', 'c/d', '_x', 'B', 'a-b', 'a.b'])
        await driver.putContent(`/page/${name}`, Buffer.from(name));
      assert.deepEqual(await driver.list('/page', { limit: 3 }), ['B', '_x', 'a']);
      assert.deepEqual(await driver.list('/page', { after: 'a', limit: 2 }), ['a-b', 'a.b']);
      assert.deepEqual(await driver.list('/page', { after: 'a.b' }), ['b', 'c']);
      assert.deepEqual(await driver.list('/page', { after: 'a0', limit: 10 }), ['b', 'c']);
      assert.deepEqual(await driver.list('/page', { after: 'c' }), []);
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

    it('move publishes an object at a new path (creating parents), replacing the destination', async () => {
      await driver.putContent('/uploads/1/data', Buffer.from('payload'));
      await driver.move('/uploads/1/data', '/blobs/x/y/data');
      assert.equal(await textOf(driver, '/blobs/x/y/data'), 'payload');
      await rejectsNotFound(driver.stat('/uploads/1/data'));
      await driver.putContent('/uploads/2/data', Buffer.from('newer'));
      await driver.move('/uploads/2/data', '/blobs/x/y/data');
      assert.equal(await textOf(driver, '/blobs/x/y/data'), 'newer');
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

    it('deleteMany removes many objects, committed staged ones included, and skips missing paths', async () => {
      const paths = Array.from({ length: 40 }, (_, i) => `/many/${String(i).padStart(2, '0')}`);
      for (const path of paths) await driver.putContent(path, Buffer.from(path));
      const staged = await driver.staged.write(
        await driver.staged.start('/data/ma/many-staged'),
        sourceOf('staged bytes'),
      );
      await driver.staged.commit(staged, '/many/committed');
      await driver.putContent('/many/kept', Buffer.from('kept'));
      await driver.deleteMany([...paths, '/many/committed', '/many/never-written']);
      assert.deepEqual(await driver.list('/many'), ['kept']);
      await rejectsNotFound(driver.getContent('/many/committed'));
      await driver.deleteMany([]);
    });

    it('scan yields every object below a path in bytewise order with its modification time', async () => {
      const written = ['/scan/a/1', '/scan/a-b', '/scan/b/deep/er/2', '/scan/c'];
      for (const path of written) await driver.putContent(path, Buffer.from('x'));
      const staged = await driver.staged.write(await driver.staged.start('/data/sc/scan'), sourceOf('bytes'));
      await driver.staged.commit(staged, '/scan/b/committed');
      await driver.putContent('/elsewhere/x', Buffer.from('x'));
      const seen: string[] = [];
      for await (const object of driver.scan('/scan')) {
        seen.push(object.path);
        assert.ok(Math.abs(object.modTime.getTime() - Date.now()) < 60_000, object.path);
      }
      assert.deepEqual(seen, ['/scan/a-b', '/scan/a/1', '/scan/b/committed', '/scan/b/deep/er/2', '/scan/c']);
      const none: string[] = [];
      for await (const object of driver.scan('/no/such/dir')) none.push(object.path);
      assert.deepEqual(none, []);
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

    it('redirectURL is undefined, or a URL that serves the object', async () => {
      const data = randomBytes(10_000);
      await driver.putContent('/redirect/blob', data);
      const url = await driver.redirectURL('/redirect/blob');
      assert.ok(url === undefined || /^https?:\/\//.test(url), String(url));
      if (url === undefined) return;
      const response = await fetch(url);
      assert.equal(response.status, 200);
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), data);
    });

    conditionalContract(context);
    stagedContract(context);
    leftoversContract(context);
  });
}
