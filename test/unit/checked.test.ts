import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { assertValidPath, checkedDriver } from '../../src/blobstore/checked.js';
import {
  InvalidPathError,
  PathNotFoundError,
  PreconditionFailedError,
  type StorageDriver,
} from '../../src/blobstore/driver.js';

describe('checked driver wrapper', () => {
  it('accepts layout paths and refuses anything that could escape or is malformed', () => {
    for (const path of [
      '/',
      '/blobs/sha256/ab/abcd/data',
      '/repositories/a.b/c_d/_manifests/tags/v1.0-rc/current/link',
    ]) {
      assert.doesNotThrow(() => assertValidPath(path), path);
    }
    for (const path of [
      '',
      'relative',
      '/a/../b',
      '/..',
      '/a/./b',
      '/a//b',
      '/a/',
      '/a/b c',
      '/a/%2e',
      '/.hidden',
      '/a\\b',
      `/${'a'.repeat(5000)}`,
    ]) {
      assert.throws(() => assertValidPath(path), InvalidPathError, path);
    }
  });

  it('validates before calling the driver and reports every operation with its outcome', async () => {
    const calls: string[] = [];
    const observed: Array<[string, string, string]> = [];
    const inner = {
      name: 'fake',
      getContent: async (path: string) => {
        calls.push(path);
        if (path === '/boom') throw new Error('boom');
        if (path === '/missing') throw new PathNotFoundError(path);
        return Buffer.from('ok');
      },
    } as unknown as StorageDriver;
    const driver = checkedDriver(inner, (name, operation, seconds, outcome) => {
      assert.ok(seconds >= 0);
      observed.push([name, operation, outcome]);
    });
    assert.equal((await driver.getContent('/fine')).toString(), 'ok');
    await assert.rejects(driver.getContent('/boom'), /boom/);
    await assert.rejects(driver.getContent('/missing'), PathNotFoundError);
    await assert.rejects(driver.getContent('/../etc/passwd'), InvalidPathError);
    assert.deepEqual(calls, ['/fine', '/boom', '/missing']);
    assert.deepEqual(observed, [
      ['fake', 'getContent', 'ok'],
      ['fake', 'getContent', 'error'],
      ['fake', 'getContent', 'not_found'],
    ]);
  });

  it('reports a lost conditional write as a conflict, and times staged steps by name', async () => {
    const observed: Array<[string, string]> = [];
    const inner = {
      name: 'fake',
      conditionalWrites: false,
      putContent: async (path: string) => {
        throw new PreconditionFailedError(path);
      },
      staged: {
        start: async () => ({ size: 0 }),
        write: async () => ({ size: 1 }),
        commit: async () => {},
        discard: async () => {},
      },
    } as unknown as StorageDriver;
    const driver = checkedDriver(inner, (_name, operation, _seconds, outcome) =>
      observed.push([operation, outcome]),
    );
    assert.equal(driver.conditionalWrites, false);
    await assert.rejects(
      driver.putContent('/tag', Buffer.from('x'), { ifNoneMatch: '*' }),
      PreconditionFailedError,
    );
    const staged = await driver.staged.start('/data/ab/id');
    await driver.staged.write(staged, Readable.from([]));
    await driver.staged.commit(staged, '/blobs/ab/id');
    await assert.rejects(driver.staged.commit(staged, '/blobs/../x'), InvalidPathError);
    await driver.staged.discard(staged);
    assert.deepEqual(observed, [
      ['putContent', 'conflict'],
      ['staged.start', 'ok'],
      ['staged.write', 'ok'],
      ['staged.commit', 'ok'],
      ['staged.discard', 'ok'],
    ]);
  });
});
