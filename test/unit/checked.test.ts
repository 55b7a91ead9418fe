import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertValidPath, checkedDriver } from '../../src/blobstore/checked.js';
import { InvalidPathError, PathNotFoundError, type StorageDriver } from '../../src/blobstore/driver.js';

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
});
